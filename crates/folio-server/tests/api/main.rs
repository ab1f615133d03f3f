//! The HTTP API, over real HTTP on 127.0.0.1, against a real store (SQLite,
//! or PostgreSQL with FOLIO_TEST_DATABASE_URL) and real local blob storage.

mod auth;
mod errors;
mod files;
mod libraries;
mod names;
mod users;

use reqwest::Method;
use serde_json::Value;

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

pub const GET: Method = Method::GET;
pub const POST: Method = Method::POST;
pub const PUT: Method = Method::PUT;
pub const PATCH: Method = Method::PATCH;
pub const DELETE: Method = Method::DELETE;
