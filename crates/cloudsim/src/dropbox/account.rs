//! `users/get_current_account`, `users/get_space_usage` and
//! `auth/token/revoke`.

use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use super::error::{DbxError, json_response};
use super::model::{FullAccount, Name, RootInfo, SpaceAllocation, SpaceUsage, Tag};
use super::rpc;
use crate::AppState;
use crate::oauth;
use crate::world::{Account, Provider};

const ACCOUNT: &str = "users/get_current_account";
const REVOKE: &str = "auth/token/revoke";
const SPACE: &str = "users/get_space_usage";

/// The quota of every account: Dropbox Basic's 2 GiB (generated trees may
/// exceed it; cloudsim never refuses a write for space).
const ALLOCATED_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// `POST /2/users/get_current_account` (Void argument).
pub async fn get_current_account(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, DbxError> {
    let caller = rpc::caller(&state, &headers, ACCOUNT)?;
    rpc::void_arg(ACCOUNT, &headers, &body)?;
    let account = state
        .read(|w| w.account(&caller.account).cloned())
        .ok_or(DbxError::Auth(oauth::AuthFailure::Invalid))?;
    rpc::ok_json(&full_account(&account))
}

/// `POST /2/users/get_space_usage` (Void argument): the bytes of the
/// account's live files, and its allocation.
pub async fn get_space_usage(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, DbxError> {
    let caller = rpc::caller(&state, &headers, SPACE)?;
    rpc::void_arg(SPACE, &headers, &body)?;
    let used = state.read(|w| {
        w.items
            .values()
            .filter(|i| i.drive_id == caller.drive && i.is_live() && i.is_file())
            .map(|i| i.size())
            .sum()
    });
    rpc::ok_json(&SpaceUsage {
        used,
        allocation: SpaceAllocation {
            tag: "individual",
            allocated: ALLOCATED_BYTES,
        },
    })
}

/// `POST /2/auth/token/revoke`: the token (and, when it came from a
/// refresh token, that refresh token and its siblings) stops working.
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, DbxError> {
    rpc::caller(&state, &headers, REVOKE)?;
    rpc::void_arg(REVOKE, &headers, &body)?;
    if let Some(token) = oauth::bearer(&headers) {
        state.shared().oauth.lock().revoke(Provider::Dropbox, token);
        state.mark_dirty();
    }
    Ok(json_response(StatusCode::OK, "null".into()))
}

fn full_account(account: &Account) -> FullAccount {
    let display = account.display_name.trim();
    let (given, surname) = display.split_once(' ').unwrap_or((display, ""));
    let abbreviated: String = display
        .split_whitespace()
        .filter_map(|w| w.chars().next())
        .flat_map(char::to_uppercase)
        .collect();
    FullAccount {
        account_id: account.id.clone(),
        name: Name {
            given_name: given.to_string(),
            surname: surname.to_string(),
            familiar_name: given.to_string(),
            display_name: display.to_string(),
            abbreviated_name: abbreviated,
        },
        email: account.email.clone(),
        email_verified: true,
        disabled: false,
        locale: "en".into(),
        referral_link: format!(
            "https://db.tt/{}",
            &account.id[account.id.len().saturating_sub(8)..]
        ),
        is_paired: false,
        account_type: Tag { tag: "basic" },
        root_info: RootInfo {
            tag: "user",
            root_namespace_id: account.drive_id.clone(),
            home_namespace_id: account.drive_id.clone(),
        },
        country: "US".into(),
    }
}
