//! The process as the kernel sees it: resident memory, threads and CPU time, read from
//! `/proc/self/stat` (Linux). Elsewhere the probe reports nothing rather than guessing.

use std::time::Duration;

/// One reading of the process.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ProcessReading {
    /// CPU time in user mode.
    pub(crate) user: Duration,
    /// CPU time in the kernel.
    pub(crate) system: Duration,
    pub(crate) threads: u64,
    pub(crate) rss_bytes: u64,
}

impl ProcessReading {
    pub(crate) fn cpu(&self) -> Duration {
        self.user + self.system
    }
}

/// Reads the current process, or `None` where `/proc/self/stat` is not available.
pub(crate) fn read() -> Option<ProcessReading> {
    let text = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_stat(&text, clock_ticks_per_second()?, page_size()?)
}

fn clock_ticks_per_second() -> Option<u64> {
    #[cfg(unix)]
    {
        // SAFETY: sysconf reads a constant; no pointers.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        (ticks > 0).then_some(ticks as u64)
    }
    #[cfg(not(unix))]
    None
}

fn page_size() -> Option<u64> {
    #[cfg(unix)]
    {
        // SAFETY: sysconf reads a constant; no pointers.
        let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        (size > 0).then_some(size as u64)
    }
    #[cfg(not(unix))]
    None
}

/// Parses `/proc/<pid>/stat`. The command name may contain spaces and parentheses, so fields
/// are counted from the last `)`.
fn parse_stat(text: &str, ticks_per_second: u64, page_size: u64) -> Option<ProcessReading> {
    let after_name = &text[text.rfind(')')? + 1..];
    // Fields after the name start at field 3 (state); utime is field 14, stime 15,
    // num_threads 20, rss 24 (1-based, as in proc(5)).
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |number: usize| -> Option<u64> { fields.get(number - 3)?.parse().ok() };
    let ticks = |count: u64| Duration::from_nanos(count * 1_000_000_000 / ticks_per_second);
    Some(ProcessReading {
        user: ticks(field(14)?),
        system: ticks(field(15)?),
        threads: field(20)?,
        rss_bytes: field(24)? * page_size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_stat_line_with_an_awkward_command_name() {
        let line = "4242 (tricky) name) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 7 0 \
                    12345 100000000 2560 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0";
        let reading = parse_stat(line, 100, 4096).unwrap();
        assert_eq!(reading.user, Duration::from_millis(2_500));
        assert_eq!(reading.system, Duration::from_millis(500));
        assert_eq!(reading.threads, 7);
        assert_eq!(reading.rss_bytes, 2560 * 4096);
    }

    #[test]
    fn reads_this_process_on_linux() {
        if cfg!(target_os = "linux") {
            let reading = read().unwrap();
            assert!(reading.threads >= 1);
            assert!(reading.rss_bytes > 1 << 20);
        }
    }
}
