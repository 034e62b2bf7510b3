//! Time series with bounded memory: at most [`MAX_POINTS`] points; when full, neighbouring points
//! are merged pairwise (halving the resolution), so a ten-minute run costs no more than a
//! ten-second one. Each column says how its values merge (mean, max, last).

pub use perfgate_results::TimeSeries;

/// Most points a series keeps.
pub(crate) const MAX_POINTS: usize = 1_024;

/// How two neighbouring values become one when a series is downsampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Merge {
    /// Averages (rates, utilisation).
    Mean,
    /// Keeps the larger (peaks, lag).
    Max,
    /// Keeps the later (levels, cumulative counters).
    Last,
}

/// Builds a [`TimeSeries`] point by point.
#[derive(Debug, Clone)]
pub(crate) struct SeriesBuilder {
    names: Vec<&'static str>,
    merges: Vec<Merge>,
    interval_ms: f64,
    times: Vec<f64>,
    values: Vec<Vec<f64>>,
    /// Points that arrived since the last kept one, when downsampled (folded on the fly).
    stride: usize,
    pending: usize,
}

impl SeriesBuilder {
    pub(crate) fn new(interval_ms: f64, columns: &[(&'static str, Merge)]) -> Self {
        Self {
            names: columns.iter().map(|(name, _)| *name).collect(),
            merges: columns.iter().map(|(_, merge)| *merge).collect(),
            interval_ms,
            times: Vec::with_capacity(MAX_POINTS),
            values: columns.iter().map(|_| Vec::with_capacity(MAX_POINTS)).collect(),
            stride: 1,
            pending: 0,
        }
    }

    /// Adds a point at `t_ms` with one value per column.
    pub(crate) fn push(&mut self, t_ms: f64, row: &[f64]) {
        debug_assert_eq!(row.len(), self.names.len());
        if self.pending > 0 {
            // Fold into the last point until it stands for `stride` samples.
            let weight = self.pending as f64;
            for ((column, merge), &value) in self.values.iter_mut().zip(&self.merges).zip(row) {
                let last = column.last_mut().expect("pending implies a point");
                *last = merge_values(*merge, *last, value, weight);
            }
            self.pending += 1;
            if self.pending == self.stride {
                self.pending = 0;
            }
            return;
        }
        if self.times.len() == MAX_POINTS {
            self.halve();
            self.push(t_ms, row);
            return;
        }
        self.times.push(t_ms);
        for (column, &value) in self.values.iter_mut().zip(row) {
            column.push(value);
        }
        if self.stride > 1 {
            self.pending = 1;
        }
    }

    fn halve(&mut self) {
        let pairs = self.times.len() / 2;
        for index in 0..pairs {
            self.times[index] = self.times[2 * index];
            for (column, merge) in self.values.iter_mut().zip(&self.merges) {
                column[index] = merge_values(*merge, column[2 * index], column[2 * index + 1], 1.0);
            }
        }
        self.times.truncate(pairs);
        for column in &mut self.values {
            column.truncate(pairs);
        }
        self.stride *= 2;
        self.interval_ms *= 2.0;
        self.pending = 0;
    }

    pub(crate) fn finish(self) -> TimeSeries {
        TimeSeries {
            interval_ms: self.interval_ms,
            t_ms: self.times,
            columns: self
                .names
                .iter()
                .map(|name| (*name).to_owned())
                .zip(self.values)
                .collect(),
        }
    }
}

/// Merges `next` into `current`, where `current` already stands for `weight` samples.
fn merge_values(merge: Merge, current: f64, next: f64, weight: f64) -> f64 {
    match merge {
        Merge::Mean => (current * weight + next) / (weight + 1.0),
        Merge::Max => current.max(next),
        Merge::Last => next,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_series_keep_every_point() {
        let mut builder = SeriesBuilder::new(10.0, &[("a", Merge::Mean)]);
        for i in 0..5 {
            builder.push(i as f64 * 10.0, &[i as f64]);
        }
        let series = builder.finish();
        assert_eq!(series.t_ms, vec![0.0, 10.0, 20.0, 30.0, 40.0]);
        assert_eq!(series.columns["a"], vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(series.interval_ms, 10.0);
    }

    #[test]
    fn long_series_stay_bounded_and_merge_by_column_rule() {
        let mut builder = SeriesBuilder::new(
            1.0,
            &[("mean", Merge::Mean), ("max", Merge::Max), ("last", Merge::Last)],
        );
        let samples = 100_000;
        for i in 0..samples {
            let value = i as f64;
            builder.push(value, &[value, if i == 77_777 { 1e9 } else { value }, value]);
        }
        let series = builder.finish();
        assert!(
            series.len() <= MAX_POINTS && series.len() > MAX_POINTS / 2,
            "{}",
            series.len()
        );
        let stride = series.interval_ms as usize;
        assert!(stride.is_power_of_two());
        // Each point averages `stride` consecutive samples: i, i+1, ... → mean i + (stride-1)/2.
        let first_mean = series.columns["mean"][0];
        assert!(
            (first_mean - (stride as f64 - 1.0) / 2.0).abs() < 1e-6,
            "{first_mean} for stride {stride}"
        );
        assert!(
            series.columns["max"].contains(&1e9),
            "a spike survives downsampling"
        );
        let last = *series.columns["last"].last().unwrap();
        assert!(last > samples as f64 - 2.0 * stride as f64, "{last}");
        // Means stay exact through repeated halving for a linear ramp.
        for (t, mean) in series
            .t_ms
            .iter()
            .zip(&series.columns["mean"])
            .take(series.len() - 1)
        {
            assert!(
                (mean - (t + (stride as f64 - 1.0) / 2.0)).abs() < 1e-6,
                "t {t} mean {mean}"
            );
        }
    }
}
