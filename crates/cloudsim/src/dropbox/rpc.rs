//! Request plumbing shared by the Dropbox routes: bearer check, RPC
//! argument decoding (JSON body, Void bodies), `Dropbox-API-Arg`, answers.

use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, StatusCode, header};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::{DbxError, json_response};
use crate::AppState;
use crate::oauth;
use crate::world::{AccountId, DriveId, Provider};

/// The account a request acts for, and its Dropbox (home namespace).
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: AccountId,
    pub drive: DriveId,
}

/// Checks the bearer token; a missing header is 400 as on Dropbox.
pub fn caller(
    state: &AppState,
    headers: &HeaderMap,
    route: &'static str,
) -> Result<Caller, DbxError> {
    let Some(token) = oauth::bearer(headers) else {
        return Err(DbxError::bad_input(
            route,
            "Must provide HTTP header \"Authorization\" or URL parameter \"authorization\".",
        ));
    };
    let account =
        oauth::authenticate(state, Provider::Dropbox, Some(token)).map_err(DbxError::Auth)?;
    let drive = state
        .read(|w| w.account(&account).map(|a| a.drive_id.clone()))
        .ok_or(DbxError::Auth(oauth::AuthFailure::Invalid))?;
    Ok(Caller { account, drive })
}

const JSON_TYPES: &str = "\"application/json\", \"application/json; charset=utf-8\", \"text/plain; charset=dropbox-cors-hack\"";

fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
}

fn is_json_type(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    let essence = lower.split(';').next().unwrap_or("").trim();
    essence == "application/json"
        || lower.replace(' ', "") == "text/plain;charset=dropbox-cors-hack"
}

fn bad_content_type(route: &'static str, value: &str) -> DbxError {
    DbxError::bad_input(
        route,
        format!("Bad HTTP \"Content-Type\" header: \"{value}\".  Expecting one of {JSON_TYPES}."),
    )
}

/// Decodes the JSON argument of an RPC route.
pub fn json_arg<T: DeserializeOwned>(
    route: &'static str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<T, DbxError> {
    match content_type(headers) {
        Some(ct) if is_json_type(ct) => {}
        Some(ct) => return Err(bad_content_type(route, ct)),
        None => return Err(bad_content_type(route, "")),
    }
    decode(route, "request body", body)
}

/// Accepts the argument of a Void route: body `null` with a JSON content
/// type (Python SDK), or no body and no content type (JS SDK).
pub fn void_arg(route: &'static str, headers: &HeaderMap, body: &Bytes) -> Result<(), DbxError> {
    let text = std::str::from_utf8(body).unwrap_or("").trim();
    match content_type(headers) {
        None if text.is_empty() => Ok(()),
        None => Err(bad_content_type(route, "")),
        Some(ct) if !is_json_type(ct) => Err(bad_content_type(route, ct)),
        Some(_) if text == "null" => Ok(()),
        Some(_) if text.is_empty() => Err(DbxError::bad_input(
            route,
            "request body: could not decode input as JSON",
        )),
        Some(_) => Err(DbxError::bad_input(
            route,
            format!("request body: expected null, got value {text}"),
        )),
    }
}

/// Decodes the `Dropbox-API-Arg` header of a download-style route; the
/// request body must be empty.
pub fn header_arg<T: DeserializeOwned>(
    route: &'static str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<T, DbxError> {
    if !body.is_empty() {
        return Err(DbxError::bad_input(
            route,
            "The request body is supposed to be empty, but it isn't; got \"...\"",
        ));
    }
    let Some(arg) = headers.get("dropbox-api-arg") else {
        return Err(DbxError::bad_input(
            route,
            "Must provide HTTP header \"Dropbox-API-Arg\" or URL parameter \"arg\".",
        ));
    };
    let arg = arg.to_str().map_err(|_| {
        DbxError::bad_input(
            route,
            "HTTP header \"Dropbox-API-Arg\": could not decode input as JSON",
        )
    })?;
    decode(
        route,
        "HTTP header \"Dropbox-API-Arg\"",
        &Bytes::copy_from_slice(arg.as_bytes()),
    )
}

fn decode<T: DeserializeOwned>(
    route: &'static str,
    what: &str,
    body: &Bytes,
) -> Result<T, DbxError> {
    serde_json::from_slice(body).map_err(|e| {
        let message = if e.is_syntax() || e.is_eof() {
            format!("{what}: could not decode input as JSON")
        } else {
            format!("{what}: {e}")
        };
        DbxError::bad_input(route, message)
    })
}

/// 200 with the JSON of `value`.
pub fn ok_json(value: &impl Serialize) -> Result<Response, DbxError> {
    let body = serde_json::to_string(value).map_err(anyhow::Error::from)?;
    Ok(json_response(StatusCode::OK, body))
}

/// JSON with every non-ASCII and control character escaped as `\uXXXX`,
/// fit for an HTTP header (what Dropbox sends in `Dropbox-API-Result`).
/// serde_json already escapes the controls below 0x20; DEL (0x7f) is the
/// one ASCII character JSON may leave raw that a header cannot hold.
pub fn ascii_json(value: &impl Serialize) -> Result<String, DbxError> {
    let json = serde_json::to_string(value).map_err(anyhow::Error::from)?;
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() && !c.is_ascii_control() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_json_fits_a_header_whatever_the_name() {
        let name = "del\u{7f} tab\t nl\n nul\0 bell\u{7} é 😀 \u{202e}";
        let s = ascii_json(&serde_json::json!({ "name": name })).unwrap();
        assert!(
            s.bytes().all(|b| (0x20..0x7f).contains(&b)),
            "only visible ASCII and spaces: {s}"
        );
        assert!(http::HeaderValue::from_str(&s).is_ok());
        assert!(s.contains(r"\u007f"), "{s}");
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back["name"], name);
    }

    #[test]
    fn ascii_json_escapes_non_ascii() {
        let s = ascii_json(&serde_json::json!({"name": "é😀"})).unwrap();
        assert_eq!(s, r#"{"name":"\u00e9\ud83d\ude00"}"#);
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back["name"], "é😀");
    }

    #[test]
    fn void_bodies() {
        let mut json = HeaderMap::new();
        json.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        assert!(void_arg("r", &json, &Bytes::from_static(b"null")).is_ok());
        assert!(void_arg("r", &HeaderMap::new(), &Bytes::new()).is_ok());
        assert!(void_arg("r", &json, &Bytes::new()).is_err());
        let mut text = HeaderMap::new();
        text.insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
        assert!(void_arg("r", &text, &Bytes::from_static(b"null")).is_err());
    }
}
