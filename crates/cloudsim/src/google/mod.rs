//! Google Drive v3.

pub mod error;

use axum::Router;

use crate::AppState;

/// The Drive v3 routes under `/drive/v3/`.
pub fn router() -> Router<AppState> {
    Router::new()
}
