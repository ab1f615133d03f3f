//! Cross-cutting behaviour as layers around any [`crate::Connector`].
//!
//! Order, from the outside in, as [`crate::connector_for`] stacks them:
//! 1. [`Traced`]: one `tracing` span per contract call, with the provider
//!    and the outcome (logged once, after retries).
//! 2. [`Retry`]: retries calls that failed with a temporary error
//!    ([`crate::ConnectorError::is_temporary`]) with jittered exponential
//!    backoff, waiting the provider's `Retry-After` instead when it sent one
//!    (capped), and gives up with the last error plus the attempt count.
//! 3. [`RateLimit`]: every attempt (retries included) waits for a governor
//!    permit, so retries cannot burst past the limit.
//! 4. The provider backend, whose HTTP core does the one refresh-and-retry
//!    on 401 (that is a token matter, not a retry).
//!
//! A download is retried only until its stream starts; a stream that
//! breaks later is the engine's to restart.

mod ratelimit;
mod retry;
mod traced;

pub use ratelimit::RateLimit;
pub use retry::{Retry, RetryPolicy};
pub use traced::Traced;
