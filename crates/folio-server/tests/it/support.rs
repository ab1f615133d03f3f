//! Helpers several modules of this binary share: the HTTP methods by short
//! name, the API's error body, a client that shows redirects, and the one
//! log subscriber of the process.

use reqwest::Method;
use serde_json::Value;

pub const GET: Method = Method::GET;
pub const POST: Method = Method::POST;
pub const PUT: Method = Method::PUT;
pub const PATCH: Method = Method::PATCH;
pub const DELETE: Method = Method::DELETE;

/// Asserts the one error body shape and returns its message.
pub async fn assert_error(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status().as_u16(), status, "status");
    let body: Value = response.json().await.expect("error body is JSON");
    assert_eq!(body["statusCode"], status, "statusCode in {body}");
    assert!(body["error"].is_string(), "error in {body}");
    let message = body["message"].as_str().expect("message").to_owned();
    assert!(!message.is_empty());
    message
}

/// A client that shows redirects instead of following them.
pub fn browser_like() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The process-wide log subscriber. Every module of this binary runs in
/// one process, so there is one subscriber for all of them: while a test
/// holds a [`logs::Capture`], it keeps every line at debug level and above
/// in memory (the connections tests scan them for secrets; the other
/// tests' lines are not kept, so they cost no memory); with
/// `STORM_LOG=<filter>` it also prints the lines that filter passes (to
/// watch a storm).
pub mod logs {
    use std::io::Write;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex, OnceLock};

    use tracing_subscriber::filter::{FilterExt, filter_fn};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{EnvFilter, Layer, fmt};

    static LINES: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    /// How many [`Capture`]s are alive.
    static CAPTURES: AtomicUsize = AtomicUsize::new(0);

    #[derive(Clone)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut b) = self.0.lock() {
                b.extend_from_slice(buf);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// While one is alive, the process's log lines are kept.
    pub struct Capture(());

    impl Drop for Capture {
        fn drop(&mut self) {
            CAPTURES.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Keeps the process's log lines until the answer is dropped.
    pub fn capture() -> Capture {
        subscriber();
        CAPTURES.fetch_add(1, Ordering::SeqCst);
        Capture(())
    }

    /// Installs the subscriber (once): what `STORM_LOG` asks for is printed
    /// from then on.
    pub fn install() {
        subscriber();
    }

    /// Installs the subscriber (once); the buffer it keeps lines in.
    ///
    /// # Panics
    /// When another subscriber was installed first: no line would be
    /// kept, and a scan of them could not fail.
    fn subscriber() -> Arc<Mutex<Vec<u8>>> {
        LINES
            .get_or_init(|| {
                let buffer = Arc::new(Mutex::new(Vec::new()));
                let sink = Sink(buffer.clone());
                let capturing = filter_fn(|_| CAPTURES.load(Ordering::SeqCst) > 0);
                let kept = fmt::layer()
                    .with_writer(move || sink.clone())
                    .with_ansi(false)
                    .with_filter(EnvFilter::new("debug").and(capturing));
                let printed = std::env::var("STORM_LOG").ok().map(|filter| {
                    fmt::layer()
                        .with_test_writer()
                        .with_filter(EnvFilter::new(filter))
                });
                tracing_subscriber::registry()
                    .with(kept)
                    .with(printed)
                    .try_init()
                    .expect("this binary's log subscriber is the first one");
                buffer
            })
            .clone()
    }

    /// Every line kept so far.
    pub fn lines() -> String {
        let buffer = subscriber();
        let bytes = buffer.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}
