//! The statistics every part of perfgate shares, written once: the median and quantiles, the
//! distribution-free interval of a median, bootstrap intervals, a least-squares line, a robust
//! spread, the Universal Scalability Law fitted to throughput at several worker counts, the
//! interleaved order of repeated measurements, and the seeded generator that makes resampling
//! repeatable.
//!
//! Pure functions over finite numbers; callers drop NaN and infinities first. No I/O, no
//! dependency on any results type, so the profiler, the report and xtask can all use it without
//! importing each other. `docs/statistics.md` explains the choices the regression gate makes
//! with them.

mod design;
mod fit;
mod interval;
mod order;
mod random;
mod spread;
mod usl;

pub use design::interleave;
pub use fit::{Fit, least_squares};
pub use interval::{bootstrap_median_interval, median_interval, unpaired_ratio_interval};
pub use order::{median, quantile};
pub use random::SeededRng;
pub use spread::{mad, robust_cv_percent, robust_sigma};
pub use usl::{
    MIN_DISTINCT_WORKERS, MIN_R_SQUARED, UslFit, UslInterval, UslIntervals, UslQuality, fit_usl,
    usl_intervals,
};
