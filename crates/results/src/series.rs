//! A time series as written to results: time offsets and named columns of equal length. The
//! profiler builds it with bounded memory (its `SeriesBuilder`); this is only the data.

use indexmap::IndexMap;
use serde::{Deserialize, Deserializer, Serialize};

/// A time series: time offsets and named columns of equal length. A sample that was not taken
/// is NaN in memory and `null` in the file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TimeSeries {
    /// Spacing of the points, ms (doubles each time the series is downsampled).
    #[serde(default)]
    pub interval_ms: f64,
    /// Time of each point since the phase's measured window started, ms.
    #[serde(default)]
    pub t_ms: Vec<f64>,
    /// Values, one vector per column, in the order the probe declared them.
    #[serde(flatten, deserialize_with = "columns_with_gaps")]
    pub columns: IndexMap<String, Vec<f64>>,
}

impl TimeSeries {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.t_ms.len()
    }

    /// Whether the series has no points.
    pub fn is_empty(&self) -> bool {
        self.t_ms.is_empty()
    }
}

/// Columns whose `null` samples (written for NaN) read back as NaN.
fn columns_with_gaps<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<IndexMap<String, Vec<f64>>, D::Error> {
    let columns: IndexMap<String, Vec<Option<f64>>> = IndexMap::deserialize(deserializer)?;
    Ok(columns
        .into_iter()
        .map(|(name, values)| (name, values.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_samples_read_back_as_nan() {
        let series: TimeSeries =
            serde_json::from_str(r#"{"interval_ms":10,"t_ms":[0,10],"lag_max_ms":[1.5,null]}"#).unwrap();
        assert_eq!(series.len(), 2);
        assert_eq!(series.columns["lag_max_ms"][0], 1.5);
        assert!(series.columns["lag_max_ms"][1].is_nan());
        let written = serde_json::to_string(&series).unwrap();
        assert_eq!(
            written,
            r#"{"interval_ms":10.0,"t_ms":[0.0,10.0],"lag_max_ms":[1.5,null]}"#
        );
    }
}
