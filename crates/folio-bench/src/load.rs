//! An open-loop load generator: requests are due at a fixed rate and each
//! latency is measured from when its request was due, not when it went out.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

pub struct Report {
    histogram: Histogram<u64>,
    sent: u64,
    errors: u64,
}

impl Report {
    /// The latency at quantile `q` (0.5, 0.99...), milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        self.histogram.value_at_quantile(q) as f64 / 1000.0
    }

    /// Requests that failed or answered other than 200.
    pub fn errors(&self) -> u64 {
        self.errors
    }

    pub fn print(&self, label: &str) {
        let ms = |q: f64| self.histogram.value_at_quantile(q) as f64 / 1000.0;
        println!(
            "{label:<34} {:>7.2} {:>7.2} {:>7.2} {:>7.2} {:>7.2} {:>6} {:>7}",
            ms(0.5),
            ms(0.9),
            ms(0.99),
            ms(0.999),
            self.histogram.max() as f64 / 1000.0,
            self.sent,
            self.errors
        );
    }
}

pub async fn run(
    base_url: &str,
    path: &str,
    token: Option<&str>,
    rate: u32,
    duration: Duration,
) -> anyhow::Result<Report> {
    let headers: Vec<(reqwest::header::HeaderName, String)> = token
        .map(|token| (reqwest::header::AUTHORIZATION, format!("Bearer {token}")))
        .into_iter()
        .collect();
    run_with_headers(base_url, path, &headers, rate, duration).await
}

/// [`run`] with request headers of the caller's choice (a session cookie,
/// as a browser sends it).
pub async fn run_with_headers(
    base_url: &str,
    path: &str,
    headers: &[(reqwest::header::HeaderName, String)],
    rate: u32,
    duration: Duration,
) -> anyhow::Result<Report> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let url = format!("{base_url}{path}");
    let request = |client: &reqwest::Client| {
        headers
            .iter()
            .fold(client.get(&url), |r, (name, value)| r.header(name, value))
    };
    // Warm the connection pool and the server's caches.
    for _ in 0..200 {
        request(&client).send().await?.error_for_status()?;
    }
    let histogram = Arc::new(Mutex::new(Histogram::<u64>::new_with_bounds(
        1, 60_000_000, 3,
    )?));
    let errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let interval = Duration::from_secs(1) / rate;
    let total = u64::from(rate) * duration.as_secs();
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(total as usize);
    for i in 0..total {
        let due = start + interval * u32::try_from(i)?;
        tokio::time::sleep_until(due.into()).await;
        let request = request(&client);
        let histogram = histogram.clone();
        let errors = errors.clone();
        tasks.push(tokio::spawn(async move {
            let ok = match request.send().await {
                Ok(response) => response.status() == 200 && response.bytes().await.is_ok(),
                Err(_) => false,
            };
            if !ok {
                errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            let micros = u64::try_from(due.elapsed().as_micros()).unwrap_or(u64::MAX);
            if let Ok(mut h) = histogram.lock() {
                let _ = h.record(micros.max(1));
            }
        }));
    }
    for task in tasks {
        task.await?;
    }
    let histogram = histogram
        .lock()
        .map_err(|_| anyhow::anyhow!("histogram lock poisoned"))?
        .clone();
    Ok(Report {
        histogram,
        sent: total,
        errors: errors.load(std::sync::atomic::Ordering::Relaxed),
    })
}
