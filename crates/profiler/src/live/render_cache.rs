//! The exposition rendered at most once per interval however often it is scraped, so a scrape
//! storm costs the measured process a socket's work per scrape, not a rendering (reading
//! `/proc`, formatting every histogram) per scrape.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The last rendering and when it was made.
#[derive(Debug)]
pub(super) struct RenderCache {
    interval: Duration,
    last: Mutex<Option<(Instant, Arc<str>)>>,
}

impl RenderCache {
    pub(super) fn new(interval: Duration) -> Self {
        Self {
            interval,
            last: Mutex::new(None),
        }
    }

    /// The rendering made less than the interval before `now`, or a new one from `render`.
    pub(super) fn get(&self, now: Instant, render: impl FnOnce() -> String) -> Arc<str> {
        // A panic while rendering leaves the old value, which is still a valid exposition.
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((at, body)) = &*last
            && now.saturating_duration_since(*at) < self.interval
        {
            return Arc::clone(body);
        }
        let body: Arc<str> = render().into();
        *last = Some((now, Arc::clone(&body)));
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_at_most_once_per_interval() {
        let cache = RenderCache::new(Duration::from_millis(100));
        let start = Instant::now();
        let mut renders = 0;
        let mut scrape = |after_ms: u64| {
            cache.get(start + Duration::from_millis(after_ms), || {
                renders += 1;
                format!("rendering {renders}")
            })
        };
        assert_eq!(&*scrape(0), "rendering 1");
        // A storm inside the interval: every scrape gets the same rendering.
        for ms in 1..100 {
            assert_eq!(&*scrape(ms), "rendering 1");
        }
        assert_eq!(&*scrape(100), "rendering 2");
        assert_eq!(&*scrape(150), "rendering 2");
        assert_eq!(&*scrape(1_000), "rendering 3");
        assert_eq!(renders, 3);
    }
}
