//! Folio's API as tests call it: one request answering its status and its
//! body (JSON, or the text as a JSON string when it is not JSON, such as a
//! file's bytes), and the few calls nearly every sync test makes.

use reqwest::Method;
use serde_json::Value;

use crate::TestApp;

impl TestApp {
    /// A request as the admin.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.call_as(&self.admin_token, method, path, body).await
    }

    /// A request with a given Bearer token.
    pub async fn call_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let response = self
            .request_with(token, method, path, body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// A request with a given Bearer token and, when given, a JSON body.
    pub fn request_with(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::RequestBuilder {
        let request = self.as_token(token, method, path);
        match body {
            Some(body) => request.json(&body),
            None => request,
        }
    }

    /// `POST /api/libraries/{natural_id}/_sync` with `body`, as the admin.
    pub async fn sync(&self, natural_id: &str, body: Value) -> (u16, Value) {
        let path = format!("/api/libraries/{natural_id}/_sync");
        self.call(Method::POST, &path, Some(body)).await
    }

    /// `GET /api/libraries/{natural_id}/files/{path}` as the admin: the
    /// status and the file's text (as a JSON string).
    pub async fn file(&self, natural_id: &str, path: &str) -> (u16, Value) {
        let path = format!("/api/libraries/{natural_id}/files/{path}");
        self.call(Method::GET, &path, None).await
    }

    /// The library's sync runs, newest first; fails the test unless the
    /// call answers 200.
    pub async fn runs(&self, natural_id: &str) -> Vec<Value> {
        let path = format!("/api/libraries/{natural_id}/syncs");
        self.items(&path).await
    }

    /// The library's files (the first page); fails the test unless the call
    /// answers 200.
    pub async fn files(&self, natural_id: &str) -> Vec<Value> {
        let path = format!("/api/libraries/{natural_id}/files");
        self.items(&path).await
    }

    async fn items(&self, path: &str) -> Vec<Value> {
        let (status, body) = self.call(Method::GET, path, None).await;
        assert_eq!(status, 200, "{path}: {body}");
        match &body["items"] {
            Value::Array(items) => items.clone(),
            _ => panic!("{path}: no items in {body}"),
        }
    }
}
