//! `process_cpu_seconds_total` and `process_resident_memory_bytes` (the
//! names Prometheus' own clients use), read from `/proc/self/stat` at each
//! scrape: one small file read, on Linux only.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

pub(crate) fn register(registry: &mut Registry) {
    registry.register_collector(Box::new(ProcessCollector));
}

#[derive(Debug)]
struct ProcessCollector;

/// What `/proc/self/stat` says of this process.
struct ProcessStat {
    cpu_seconds: f64,
    resident_bytes: i64,
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        // Not Linux, or no /proc: nothing to say.
        let Some(stat) = read_stat() else {
            return Ok(());
        };
        let cpu = ConstCounter::new(stat.cpu_seconds);
        cpu.encode(encoder.encode_descriptor(
            "process_cpu_seconds",
            "User and system CPU time spent, in seconds",
            None,
            cpu.metric_type(),
        )?)?;
        let rss = ConstGauge::new(stat.resident_bytes);
        rss.encode(encoder.encode_descriptor(
            "process_resident_memory_bytes",
            "Resident memory size, in bytes",
            None,
            rss.metric_type(),
        )?)?;
        Ok(())
    }
}

fn read_stat() -> Option<ProcessStat> {
    let text = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces:
    // count the fields after its closing one, which is field 3.
    let after_name = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |n: usize| -> Option<i64> { fields.get(n - 3)?.parse().ok() };
    let (utime, stime, rss_pages) = (field(14)?, field(15)?, field(24)?);
    // SAFETY: sysconf reads a configuration value; it has no preconditions.
    let (ticks, page) = unsafe {
        (
            libc::sysconf(libc::_SC_CLK_TCK),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    if ticks <= 0 || page <= 0 {
        return None;
    }
    Some(ProcessStat {
        cpu_seconds: (utime + stime) as f64 / ticks as f64,
        resident_bytes: rss_pages * page,
    })
}
