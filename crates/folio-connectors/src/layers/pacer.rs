//! The pacer layer: slows a connection down when its provider throttles,
//! instead of letting every call burn its retries on 429s. Modelled on
//! rclone's `lib/pacer` (its default calculator); one [`Pacer`] serves one
//! connection, shared by every call of its syncs (listing pages, downloads,
//! retries), and may outlive a sync (`ConnectorConfig::pacer`), so a
//! provider that throttled the last sync is not hit at full speed by the
//! next.
//!
//! - A healthy connection is not paced at all: calls start as soon as
//!   they are made (the interval is zero).
//! - Each throttled answer ([`ConnectorError::is_throttle`]: 429, Drive's
//!   and Dropbox's rate-limit errors, a 503 with `Retry-After`) doubles
//!   the interval between the starts of two calls, from
//!   [`PacerConfig::min_interval`] up to [`PacerConfig::max_interval`]
//!   (rclone: attack constant 1, at most 2 s).
//! - Each success takes a third off it, and below the minimum it is zero
//!   again (rclone takes a quarter off, with 10 ms as the floor). With a
//!   third, a provider that throttles a share of calls at random, a third
//!   of them or less, lets the pace recover, while one that throttles most
//!   calls, as a rate limit does once it is reached, keeps it slow.
//! - When [`PacerConfig::hold_after`] answers in a row were throttled and
//!   the provider said how long to wait (`Retry-After`), no call of the
//!   connection starts before that wait is over: the provider throttles
//!   the connection as a whole. A throttled call among successes waits its
//!   `Retry-After` alone, in the retry layer (rclone pauses the whole
//!   connection on every `Retry-After`, which under a storm of scattered
//!   429s leaves it at a call a second).
//!
//! Other failures (5xx, network errors, timeouts) leave the pace alone:
//! the retry layer backs each call off on its own.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use crate::{
    AccountInfo, ByteStream, Capability, ChangePage, Connector, ConnectorError, Cursor,
    RemoteFolder, RemoteItem, RemoteRoot,
};

/// How a [`Pacer`] reacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacerConfig {
    /// The interval a first throttle sets, and below which a decaying
    /// interval becomes zero (default 10 ms).
    pub min_interval: Duration,
    /// The longest interval between two call starts (default 2 s).
    pub max_interval: Duration,
    /// Throttled answers in a row after which a `Retry-After` holds every
    /// call of the connection (default 3).
    pub hold_after: u32,
}

impl Default for PacerConfig {
    fn default() -> Self {
        Self {
            min_interval: Duration::from_millis(10),
            max_interval: Duration::from_secs(2),
            hold_after: 3,
        }
    }
}

/// The pace of one connection (see the module doc).
#[derive(Debug)]
pub struct Pacer {
    config: PacerConfig,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Time between the starts of two calls; zero when healthy.
    interval: Duration,
    /// The earliest start of the next call.
    next_start: Instant,
    /// Throttled answers since the last success.
    throttled_in_a_row: u32,
}

/// How a call went, as the pacer sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    /// Throttled, with the provider's `Retry-After` if it sent one.
    Throttled(Option<Duration>),
    /// Any other failure: the pace stays.
    Failed,
}

impl Outcome {
    /// The outcome of a call's result.
    pub fn of<T>(result: &Result<T, ConnectorError>) -> Self {
        match result {
            Ok(_) => Self::Succeeded,
            Err(e) if e.is_throttle() => Self::Throttled(e.retry_after()),
            Err(_) => Self::Failed,
        }
    }
}

impl Default for Pacer {
    fn default() -> Self {
        Self::new(PacerConfig::default())
    }
}

impl Pacer {
    pub fn new(config: PacerConfig) -> Self {
        Self {
            config,
            state: Mutex::new(State {
                interval: Duration::ZERO,
                next_start: Instant::now(),
                throttled_in_a_row: 0,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding it left plain numbers behind: keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current interval between call starts.
    pub fn interval(&self) -> Duration {
        self.state().interval
    }

    /// Waits for this call's turn: takes the next start slot, which is now
    /// when the connection is healthy.
    pub async fn wait(&self) {
        let start = {
            let mut state = self.state();
            let start = state.next_start.max(Instant::now());
            state.next_start = start + state.interval;
            start
        };
        if start > Instant::now() {
            tokio::time::sleep_until(start).await;
        }
    }

    /// Adjusts the pace to how a call went.
    pub fn observe(&self, outcome: Outcome) {
        let config = self.config;
        let mut state = self.state();
        match outcome {
            Outcome::Succeeded => {
                state.throttled_in_a_row = 0;
                let decayed = state.interval * 2 / 3;
                state.interval = if decayed < config.min_interval {
                    Duration::ZERO
                } else {
                    decayed
                };
            }
            Outcome::Throttled(retry_after) => {
                state.throttled_in_a_row = state.throttled_in_a_row.saturating_add(1);
                state.interval = (state.interval * 2)
                    .max(config.min_interval)
                    .min(config.max_interval);
                if let Some(wait) = retry_after
                    && state.throttled_in_a_row >= config.hold_after
                {
                    let held = Instant::now() + wait;
                    if held > state.next_start {
                        tracing::info!(
                            wait_ms = wait.as_millis() as u64,
                            "the provider throttles every call: holding the connection"
                        );
                        state.next_start = held;
                    }
                }
            }
            Outcome::Failed => {}
        }
    }

    /// Runs `call` at its turn and learns from its result.
    async fn paced<T>(
        &self,
        call: impl Future<Output = Result<T, ConnectorError>>,
    ) -> Result<T, ConnectorError> {
        self.wait().await;
        let result = call.await;
        self.observe(Outcome::of(&result));
        result
    }
}

/// Paces every call of the inner connector through a shared [`Pacer`].
pub struct Paced {
    inner: Box<dyn Connector>,
    pacer: Arc<Pacer>,
}

impl Paced {
    /// Wraps `inner`.
    pub fn new(inner: Box<dyn Connector>, pacer: Arc<Pacer>) -> Self {
        Self { inner, pacer }
    }
}

#[async_trait]
impl Connector for Paced {
    fn capability(&self) -> Capability {
        self.inner.capability()
    }
    async fn root(&self) -> Result<RemoteRoot, ConnectorError> {
        self.pacer.paced(self.inner.root()).await
    }
    async fn start_cursor(&self) -> Result<Cursor, ConnectorError> {
        self.pacer.paced(self.inner.start_cursor()).await
    }
    async fn list_changes(&self, cursor: Option<Cursor>) -> Result<ChangePage, ConnectorError> {
        self.pacer.paced(self.inner.list_changes(cursor)).await
    }
    async fn download(&self, item: &RemoteItem) -> Result<ByteStream, ConnectorError> {
        self.pacer.paced(self.inner.download(item)).await
    }
    async fn account(&self) -> Result<AccountInfo, ConnectorError> {
        self.pacer.paced(self.inner.account()).await
    }
    async fn list_folders(
        &self,
        parent: Option<&str>,
    ) -> Result<Vec<RemoteFolder>, ConnectorError> {
        self.pacer.paced(self.inner.list_folders(parent)).await
    }
    async fn revoke(&self) -> Result<bool, ConnectorError> {
        self.pacer.paced(self.inner.revoke()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttled() -> Outcome {
        Outcome::Throttled(None)
    }

    #[test]
    fn a_healthy_connection_is_not_paced() {
        let pacer = Pacer::default();
        pacer.observe(Outcome::Succeeded);
        pacer.observe(Outcome::Failed);
        assert_eq!(pacer.interval(), Duration::ZERO);
    }

    #[test]
    fn throttles_double_the_interval_up_to_the_maximum_and_successes_decay_it() {
        let pacer = Pacer::default();
        pacer.observe(throttled());
        assert_eq!(pacer.interval(), Duration::from_millis(10));
        pacer.observe(throttled());
        assert_eq!(pacer.interval(), Duration::from_millis(20));
        for _ in 0..20 {
            pacer.observe(throttled());
        }
        assert_eq!(pacer.interval(), Duration::from_secs(2));
        pacer.observe(Outcome::Succeeded);
        assert_eq!(pacer.interval(), Duration::from_secs(2) * 2 / 3);
        for _ in 0..20 {
            pacer.observe(Outcome::Succeeded);
        }
        assert_eq!(pacer.interval(), Duration::ZERO, "back to full speed");
    }

    #[test]
    fn scattered_throttles_let_the_pace_recover_and_steady_ones_keep_it_slow() {
        // One throttle in four calls, as a provider failing a quarter of
        // calls at random: the pace falls back to zero.
        let scattered = Pacer::default();
        for _ in 0..100 {
            scattered.observe(throttled());
            for _ in 0..3 {
                scattered.observe(Outcome::Succeeded);
            }
        }
        assert!(
            scattered.interval() < Duration::from_millis(30),
            "{:?}",
            scattered.interval()
        );
        // Three in four, as a rate limit reached: it stays at the maximum.
        let steady = Pacer::default();
        for _ in 0..100 {
            for _ in 0..3 {
                steady.observe(throttled());
            }
            steady.observe(Outcome::Succeeded);
        }
        assert!(
            steady.interval() > Duration::from_secs(1),
            "{:?}",
            steady.interval()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn calls_start_one_interval_apart() {
        let pacer = Pacer::default();
        for _ in 0..5 {
            pacer.observe(throttled());
        }
        let interval = pacer.interval();
        assert_eq!(interval, Duration::from_millis(160));
        let started = Instant::now();
        for _ in 0..4 {
            pacer.wait().await;
        }
        assert_eq!(started.elapsed(), interval * 3, "the first starts at once");
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_holds_the_connection_only_when_throttles_come_in_a_row() {
        let pacer = Pacer::default();
        let wait = Some(Duration::from_secs(30));
        pacer.observe(Outcome::Throttled(wait));
        pacer.observe(Outcome::Throttled(wait));
        let started = Instant::now();
        pacer.wait().await;
        assert!(started.elapsed() < Duration::from_secs(1), "not held yet");
        pacer.observe(Outcome::Throttled(wait));
        let started = Instant::now();
        pacer.wait().await;
        assert!(
            started.elapsed() >= Duration::from_secs(30),
            "held: {:?}",
            started.elapsed()
        );
        pacer.observe(Outcome::Succeeded);
        pacer.observe(Outcome::Throttled(wait));
        let started = Instant::now();
        pacer.wait().await;
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "a success ended the run of throttles"
        );
    }
}
