//! Cross-cutting behaviour as layers around any [`crate::Connector`].
//!
//! Order, from the outside in, as [`crate::connector_for`] stacks them:
//! 1. [`Traced`]: one `tracing` span per contract call, with the provider
//!    and the outcome (logged once, after retries).
//! 2. [`Retry`]: retries calls that failed with a temporary error
//!    ([`crate::ConnectorError::is_temporary`]) with jittered exponential
//!    backoff, waiting the provider's `Retry-After` instead when it sent one
//!    (capped), throttled answers and failures each on a budget of their
//!    own, and gives up with the last error plus the attempt count.
//! 3. [`Paced`]: every attempt (retries included) waits for its turn at
//!    the connection's [`Pacer`], which slows the connection down while the
//!    provider throttles and recovers on success.
//! 4. [`RateLimit`] (optional): every attempt waits for a governor permit,
//!    so retries cannot burst past a fixed limit.
//! 5. The provider backend, whose HTTP core does the one refresh-and-retry
//!    on 401 (that is a token matter, not a retry).
//!
//! A download is retried only until its stream starts; a stream that
//! breaks later is the engine's to restart.

mod pacer;
mod ratelimit;
mod retry;
mod traced;

pub use pacer::{Outcome, Paced, Pacer, PacerConfig};
pub use ratelimit::RateLimit;
pub use retry::{Retry, RetryPolicy};
pub use traced::Traced;
