//! The control API under `/_sim/` (DESIGN section 7).

use axum::Router;

use crate::AppState;

/// Routes mounted under `/_sim`.
pub fn router() -> Router<AppState> {
    Router::new()
}
