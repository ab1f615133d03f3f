//! The middleware every provider router is wrapped in ([`track()`]): it
//! counts the request, then applies the faults that fire for it (latency,
//! an error answer, a body cut off or corrupted).

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use http_body_util::BodyExt;
use parking_lot::Mutex;

use super::request_names_item;
use super::responses::fault_response;
use crate::AppState;
use crate::world::Provider;

/// Request counts by key (`"google GET /drive/v3/files"`).
#[derive(Debug, Default)]
pub struct Counters(Mutex<BTreeMap<String, u64>>);

impl Counters {
    /// Adds one to `key`.
    pub fn hit(&self, key: &str) {
        *self.0.lock().entry(key.to_string()).or_default() += 1;
    }

    /// A copy of all counts.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().clone()
    }

    /// Forgets all counts.
    pub fn reset(&self) {
        self.0.lock().clear();
    }
}

/// State of the [`track()`] middleware: the app and the provider it counts for.
#[derive(Clone)]
pub struct Track {
    pub app: AppState,
    pub provider: Provider,
}

/// The route key of a request, without the provider prefix.
pub fn route_key(req: &Request) -> String {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let media = req
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == "alt=media"));
    format!(
        "{} {}{}",
        req.method(),
        route,
        if media { "?alt=media" } else { "" }
    )
}

/// Middleware: counts the request, then applies latency, error and corrupt faults.
pub async fn track(State(track): State<Track>, req: Request, next: Next) -> Response {
    let key = route_key(&req);
    track
        .app
        .shared()
        .counters
        .hit(&format!("{} {key}", track.provider));
    let fired = {
        let names_item = |id: &str| request_names_item(&req, id);
        track
            .app
            .shared()
            .faults
            .lock()
            .fire(track.provider, &key, &names_item)
    };
    if let Some(delay) = fired.latency {
        tokio::time::sleep(delay).await;
    }
    if let Some(spec) = fired.error {
        return fault_response(track.provider, &spec);
    }
    let response = next.run(req).await;
    if let Some(after) = fired.cut_after
        && response.status().is_success()
    {
        return cut(response, after);
    }
    if fired.corrupt && response.status().is_success() {
        return corrupt(response);
    }
    response
}

/// Delivers the first `after` bytes of a longer body, then fails it
/// (hyper drops the connection, so the client sees the body break off
/// after the status, the headers and those bytes).
fn cut(response: Response, after: u64) -> Response {
    let (parts, body) = response.into_parts();
    let start = (body.into_data_stream(), after, false);
    let stream = futures::stream::unfold(start, |(mut inner, left, broken)| async move {
        if broken {
            return None;
        }
        if left == 0 {
            // What was sent reaches the client before the connection drops.
            tokio::time::sleep(Duration::from_millis(50)).await;
            let cut_off = std::io::Error::other("cloudsim cut the body off");
            return Some((Err(cut_off), (inner, 0, true)));
        }
        match inner.next().await? {
            Err(e) => Some((Err(std::io::Error::other(e)), (inner, 0, true))),
            Ok(data) => {
                let keep = usize::try_from(left).unwrap_or(usize::MAX).min(data.len());
                let rest = left - keep as u64;
                Some((
                    Ok::<Bytes, std::io::Error>(data.slice(..keep)),
                    (inner, rest, false),
                ))
            }
        }
    });
    Response::from_parts(parts, Body::from_stream(stream))
}

/// Flips the first byte of the body.
fn corrupt(response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let mut done = false;
    let body = body.map_frame(move |frame| {
        frame.map_data(|data: Bytes| {
            if done || data.is_empty() {
                return data;
            }
            done = true;
            let mut b = BytesMut::from(&data[..]);
            b[0] ^= 0xFF;
            b.freeze()
        })
    });
    Response::from_parts(parts, Body::new(body))
}
