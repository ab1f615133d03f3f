//! Dropbox end to end over HTTP: connect through /oauth2/authorize and
//! /oauth2/token, get_current_account, list_folder paging and continue
//! rounds (add, change, delete, rename, move), reset, download with
//! Dropbox-API-Result and Range, content_hash over the real bytes, faults,
//! and auth, argument and path errors.

use cloudsim::hashes;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::provider_support::{Env, REDIRECT_URI};

const APP: &str = "dropbox-app";

async fn connect(env: &Env, email: &str) -> (String, String) {
    let code = env
        .authorize(
            "/oauth2/authorize",
            &[
                ("client_id", APP),
                ("response_type", "code"),
                ("redirect_uri", REDIRECT_URI),
                ("state", "xyz"),
                ("token_access_type", "offline"),
                ("login_hint", email),
            ],
        )
        .await;
    let (status, tok) = env
        .token(
            "/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", APP),
                ("client_secret", "secret"),
                ("redirect_uri", REDIRECT_URI),
            ],
        )
        .await;
    assert_eq!(status, 200, "{tok}");
    assert!(tok["uid"].is_string() && tok["account_id"].is_string());
    (
        tok["access_token"].as_str().unwrap().to_string(),
        tok["refresh_token"].as_str().unwrap().to_string(),
    )
}

async fn setup() -> (Env, String, String) {
    let env = Env::start().await;
    let (_, drive) = env
        .account("dropbox", APP, "kim@example.test", "Kim Park")
        .await;
    let (token, _) = connect(&env, "kim@example.test").await;
    (env, drive, token)
}

/// An RPC call: (status, content-type, body text).
async fn rpc(env: &Env, token: &str, route: &str, arg: &Value) -> (StatusCode, String, String) {
    let resp = env
        .http
        .post(env.url(&format!("/2/{route}")))
        .bearer_auth(token)
        .header("Content-Type", "application/json")
        .body(arg.to_string())
        .send()
        .await
        .expect("rpc");
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, resp.text().await.unwrap())
}

async fn rpc_ok(env: &Env, token: &str, route: &str, arg: Value) -> Value {
    let (status, ct, body) = rpc(env, token, route, &arg).await;
    assert_eq!(status, StatusCode::OK, "{route}: {body}");
    assert_eq!(ct, "application/json");
    serde_json::from_str(&body).unwrap()
}

/// Lists with paging; returns (entries, last cursor, pages).
async fn list_all(env: &Env, token: &str, arg: Value) -> (Vec<Value>, String, usize) {
    let mut page = rpc_ok(env, token, "files/list_folder", arg).await;
    let mut entries = page["entries"].as_array().unwrap().clone();
    let mut pages = 1;
    while page["has_more"] == true {
        page = rpc_ok(
            env,
            token,
            "files/list_folder/continue",
            json!({"cursor": page["cursor"]}),
        )
        .await;
        entries.extend(page["entries"].as_array().unwrap().iter().cloned());
        pages += 1;
    }
    (entries, page["cursor"].as_str().unwrap().to_string(), pages)
}

async fn continue_all(env: &Env, token: &str, cursor: &str) -> (Vec<Value>, String) {
    let mut entries = Vec::new();
    let mut cursor = cursor.to_string();
    loop {
        let page = rpc_ok(
            env,
            token,
            "files/list_folder/continue",
            json!({"cursor": cursor}),
        )
        .await;
        entries.extend(page["entries"].as_array().unwrap().iter().cloned());
        cursor = page["cursor"].as_str().unwrap().to_string();
        if page["has_more"] != true {
            return (entries, cursor);
        }
    }
}

fn at<'a>(entries: &'a [Value], path_lower: &str) -> Option<&'a Value> {
    entries.iter().rev().find(|e| e["path_lower"] == path_lower)
}

fn is_rfc3339_seconds(s: &str) -> bool {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%SZ").is_ok()
}

#[tokio::test]
async fn current_account_has_the_required_shape() {
    let (env, drive, token) = setup().await;
    // Python SDK style: body null with a JSON content type.
    let account = rpc_ok(&env, &token, "users/get_current_account", Value::Null).await;
    assert_eq!(account["account_id"].as_str().unwrap().len(), 40);
    assert_eq!(account["email"], "kim@example.test");
    assert_eq!(account["name"]["display_name"], "Kim Park");
    assert_eq!(account["name"]["abbreviated_name"], "KP");
    assert_eq!(account["account_type"][".tag"], "basic");
    assert_eq!(account["root_info"][".tag"], "user");
    assert_eq!(account["root_info"]["root_namespace_id"], drive.as_str());
    assert_eq!(account["country"].as_str().unwrap().len(), 2);
    // JS SDK style: no body, no content type.
    let resp = env
        .http
        .post(env.url("/2/users/get_current_account"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/json");
    // A wrong content type is a 400 in plain text.
    let resp = env
        .http
        .post(env.url("/2/users/get_current_account"))
        .bearer_auth(&token)
        .header("Content-Type", "text/plain")
        .body("null")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("Bad HTTP \"Content-Type\" header")
    );
}

#[tokio::test]
async fn list_folder_pages_recursively() {
    let (env, drive, token) = setup().await;
    env.put("dropbox", &drive, "Docs/Readme.TXT", b"hello world")
        .await;
    env.put("dropbox", &drive, "Docs/Deep/n.md", b"notes").await;
    env.put("dropbox", &drive, "top.txt", b"top").await;
    env.put("dropbox", &drive, "empty.txt", b"").await;

    let (entries, _, pages) = list_all(
        &env,
        &token,
        json!({"path": "", "recursive": true, "limit": 2}),
    )
    .await;
    assert!(pages >= 3);
    assert_eq!(entries.len(), 6, "{entries:?}");
    let readme = at(&entries, "/docs/readme.txt").expect("readme");
    assert_eq!(readme[".tag"], "file");
    assert_eq!(readme["path_display"], "/Docs/Readme.TXT");
    assert_eq!(readme["name"], "Readme.TXT");
    assert_eq!(readme["size"], 11);
    assert_eq!(
        readme["content_hash"],
        "bc62d4b80d9e36da29c16c5d4d9f11731f36052c72401a76c23c0fb5a9b74423"
    );
    assert!(readme["id"].as_str().unwrap().starts_with("id:"));
    let rev = readme["rev"].as_str().unwrap();
    assert!(
        rev.len() >= 9
            && rev
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert!(is_rfc3339_seconds(
        readme["server_modified"].as_str().unwrap()
    ));
    assert!(is_rfc3339_seconds(
        readme["client_modified"].as_str().unwrap()
    ));
    assert_eq!(
        at(&entries, "/empty.txt").unwrap()["content_hash"],
        hashes::dropbox_content_hash(b"")
    );
    assert_eq!(at(&entries, "/docs").unwrap()[".tag"], "folder");
    // Parents come before children.
    let pos = |p: &str| entries.iter().position(|e| e["path_lower"] == p).unwrap();
    assert!(pos("/docs") < pos("/docs/deep") && pos("/docs/deep") < pos("/docs/deep/n.md"));

    let (shallow, _, _) = list_all(&env, &token, json!({"path": "/DOCS"})).await;
    let paths: Vec<&str> = shallow
        .iter()
        .map(|e| e["path_lower"].as_str().unwrap())
        .collect();
    assert_eq!(paths.len(), 2);
    assert!(paths.contains(&"/docs/readme.txt") && paths.contains(&"/docs/deep"));
}

#[tokio::test]
async fn continue_reports_adds_changes_deletes_and_moves() {
    let (env, drive, token) = setup().await;
    env.put("dropbox", &drive, "a/one.txt", b"1").await;
    env.put("dropbox", &drive, "a/two.txt", b"2").await;
    env.put("dropbox", &drive, "b/three.txt", b"3").await;
    let (_, cursor, _) = list_all(&env, &token, json!({"path": "", "recursive": true})).await;
    let (none, cursor) = continue_all(&env, &token, &cursor).await;
    assert!(none.is_empty());

    env.put("dropbox", &drive, "a/one.txt", b"one, changed")
        .await;
    env.put("dropbox", &drive, "a/new.txt", b"new").await;
    env.remove("dropbox", &drive, "a/two.txt").await;
    env.mv("dropbox", &drive, "b", "c").await;
    let (changes, cursor) = continue_all(&env, &token, &cursor).await;
    let one = at(&changes, "/a/one.txt").expect("changed file");
    assert_eq!(one["size"], 12);
    assert_eq!(
        one["content_hash"],
        hashes::dropbox_content_hash(b"one, changed")
    );
    assert_eq!(at(&changes, "/a/new.txt").unwrap()[".tag"], "file");
    assert_eq!(at(&changes, "/a/two.txt").unwrap()[".tag"], "deleted");
    assert_eq!(at(&changes, "/c").unwrap()[".tag"], "folder");
    assert_eq!(
        at(&changes, "/b").unwrap()[".tag"],
        "deleted",
        "a move deletes the old path"
    );
    let pos = |p: &str| changes.iter().position(|e| e["path_lower"] == p).unwrap();
    assert!(pos("/b") < pos("/c"), "the delete comes before the add");
    assert_eq!(
        at(&changes, "/c/three.txt").map(|e| e[".tag"].clone()),
        Some(json!("file")),
        "a moved folder's contents appear under the new path"
    );
    let (after, cursor) = continue_all(&env, &token, &cursor).await;
    assert!(after.is_empty());

    // A file renamed, then changed: the old name is deleted once.
    env.mv("dropbox", &drive, "a/one.txt", "a/uno.txt").await;
    env.put("dropbox", &drive, "a/uno.txt", b"uno").await;
    let (changes, _) = continue_all(&env, &token, &cursor).await;
    let tags: Vec<(String, String)> = changes
        .iter()
        .map(|e| {
            (
                e[".tag"].as_str().unwrap().into(),
                e["path_lower"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        tags,
        [
            ("deleted".to_string(), "/a/one.txt".to_string()),
            ("file".to_string(), "/a/uno.txt".to_string())
        ]
    );
}

#[tokio::test]
async fn latest_cursor_sees_only_later_changes_and_reset_is_409() {
    let (env, drive, token) = setup().await;
    env.put("dropbox", &drive, "old.txt", b"old").await;
    let latest = rpc_ok(
        &env,
        &token,
        "files/list_folder/get_latest_cursor",
        json!({"path": ""}),
    )
    .await;
    let cursor = latest["cursor"].as_str().unwrap().to_string();
    env.put("dropbox", &drive, "later.txt", b"later").await;
    let (changes, cursor) = continue_all(&env, &token, &cursor).await;
    let paths: Vec<&str> = changes
        .iter()
        .map(|e| e["path_lower"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/later.txt"]);

    env.control(&format!("/dropbox/{drive}/reset-cursors"), json!({}))
        .await;
    let (status, ct, body) = rpc(
        &env,
        &token,
        "files/list_folder/continue",
        &json!({"cursor": cursor}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(ct, "application/json");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"][".tag"], "reset");
    assert!(
        body["error_summary"]
            .as_str()
            .unwrap()
            .starts_with("reset/")
    );

    let (status, _, _) = rpc(
        &env,
        &token,
        "files/list_folder/continue",
        &json!({"cursor": "garbage"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn bad_paths_and_arguments() {
    let (env, _, token) = setup().await;
    let (status, ct, body) = rpc(&env, &token, "files/list_folder", &json!({"path": "/"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(ct.starts_with("text/plain"));
    assert!(
        body.contains("Specify the root folder as an empty string rather than as \"/\"."),
        "{body}"
    );

    let (status, _, body) = rpc(
        &env,
        &token,
        "files/list_folder",
        &json!({"path": "/missing"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body["error"],
        json!({".tag": "path", "path": {".tag": "not_found"}})
    );
    assert!(
        body["error_summary"]
            .as_str()
            .unwrap()
            .starts_with("path/not_found/")
    );

    for limit in [0, 2001] {
        let (status, _, _) = rpc(
            &env,
            &token,
            "files/list_folder",
            &json!({"path": "", "limit": limit}),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "limit {limit}");
    }
    let (status, _, _) = rpc(
        &env,
        &token,
        "files/list_folder",
        &json!({"recursive": true}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "path is required");

    let resp = env
        .http
        .post(env.url("/2/files/nonexistent"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert!(resp.text().await.unwrap().contains("Unknown API function"));
}

#[tokio::test]
async fn download_streams_bytes_with_result_header() {
    let (env, drive, token) = setup().await;
    let data: Vec<u8> = (0..5_000_000u32).map(|i| (i % 253) as u8).collect();
    env.put("dropbox", &drive, "Big/Résumé.bin", &data).await;
    let download = |arg: Value, range: Option<&'static str>| {
        let mut req = env
            .http
            .post(env.url("/2/files/download"))
            .bearer_auth(&token)
            .header("Dropbox-API-Arg", arg.to_string().replace('é', "\\u00e9"));
        if let Some(r) = range {
            req = req.header("Range", r);
        }
        req.send()
    };
    let resp = download(json!({"path": "/big/résumé.bin"}), None)
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let result: Value =
        serde_json::from_str(resp.headers()["dropbox-api-result"].to_str().unwrap()).unwrap();
    assert_eq!(result["name"], "Résumé.bin");
    assert_eq!(result["size"], data.len());
    assert_eq!(result["content_hash"], hashes::dropbox_content_hash(&data));
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &data[..]);

    let id = result["id"].as_str().unwrap().to_string();
    let resp = download(json!({"path": id}), Some("bytes=4194300-4194309"))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        resp.bytes().await.unwrap().as_ref(),
        &data[4_194_300..4_194_310]
    );

    let rev = result["rev"].as_str().unwrap();
    let resp = download(json!({"path": format!("rev:{rev}")}), None)
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    let resp = download(json!({"path": "/nope.bin"}), None).await.unwrap();
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["path"][".tag"], "not_found");

    let resp = download(json!({"path": "/Big"}), None).await.unwrap();
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["path"][".tag"], "not_file");

    let resp = env
        .http
        .post(env.url("/2/files/download"))
        .bearer_auth(&token)
        .header("Dropbox-API-Arg", r#"{"path": "/Big/x"}"#)
        .body("not empty")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    let counts = env.counts().await;
    assert!(
        counts["dropbox POST /2/files/download"].as_u64().unwrap() >= 6,
        "{counts}"
    );
}

#[tokio::test]
async fn generated_files_hash_over_their_bytes() {
    let (env, drive, token) = setup().await;
    env.control(
        &format!("/dropbox/{drive}/generate"),
        json!({"root": "gen", "files": 2, "bytes": 9_000_000, "depth": 0}),
    )
    .await;
    let (entries, _, _) = list_all(&env, &token, json!({"path": "/gen"})).await;
    let file = &entries[0];
    let resp = env
        .http
        .post(env.url("/2/files/download"))
        .bearer_auth(&token)
        .header(
            "Dropbox-API-Arg",
            json!({"path": file["path_lower"]}).to_string(),
        )
        .send()
        .await
        .unwrap();
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(bytes.len(), 9_000_000);
    assert_eq!(file["content_hash"], hashes::dropbox_content_hash(&bytes));
}

#[tokio::test]
async fn auth_errors_and_revoke() {
    let (env, _, token) = setup().await;
    let resp = env
        .http
        .post(env.url("/2/users/get_current_account"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::BAD_REQUEST,
        "no Authorization header"
    );

    let (status, ct, body) = rpc(&env, "wrong", "users/get_current_account", &Value::Null).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(ct, "application/json");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"][".tag"], "invalid_access_token");

    let resp = env
        .http
        .post(env.url("/2/auth/token/revoke"))
        .bearer_auth(&token)
        .header("Content-Type", "application/json")
        .body("null")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(resp.text().await.unwrap(), "null");
    let (status, _, body) = rpc(&env, &token, "users/get_current_account", &Value::Null).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("invalid_access_token"));
}

#[tokio::test]
async fn expired_token_then_refresh() {
    let env = Env::start().await;
    env.account("dropbox", APP, "lee@example.test", "Lee").await;
    let (token, refresh) = connect(&env, "lee@example.test").await;
    env.control("/dropbox/tokens/expire", json!({})).await;
    let (status, _, body) = rpc(&env, &token, "users/get_current_account", &Value::Null).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"][".tag"], "expired_access_token");
    assert!(
        body["error_summary"]
            .as_str()
            .unwrap()
            .starts_with("expired_access_token/")
    );

    let (status, fresh) = env
        .token(
            "/oauth2/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh),
                ("client_id", APP),
                ("client_secret", "secret"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        fresh.get("refresh_token").is_none(),
        "Dropbox does not rotate"
    );
    let new_token = fresh["access_token"].as_str().unwrap();
    rpc_ok(&env, new_token, "users/get_current_account", Value::Null).await;
}

#[tokio::test]
async fn rate_limit_has_header_and_json_retry_after() {
    let (env, _, token) = setup().await;
    env.control(
        "/faults",
        json!({"provider": "dropbox", "endpoint": "/2/files/list_folder", "kind": "rate_limit", "count": 1, "retryAfterSeconds": 3}),
    )
    .await;
    let resp = env
        .http
        .post(env.url("/2/files/list_folder"))
        .bearer_auth(&token)
        .header("Content-Type", "application/json")
        .body(json!({"path": ""}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.headers()["retry-after"], "3");
    assert_eq!(resp.headers()["content-type"], "application/json");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["retry_after"], 3);
    assert_eq!(body["error"]["reason"][".tag"], "too_many_requests");
    rpc_ok(&env, &token, "files/list_folder", json!({"path": ""})).await;
}

#[tokio::test]
async fn cursors_and_tokens_survive_a_restart_with_state() {
    let dir = tempfile::tempdir().unwrap();
    let options = || cloudsim::SimOptions {
        state_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let env = Env::start_with(options()).await;
    let (_, drive) = env
        .account("dropbox", APP, "kim@example.test", "Kim Park")
        .await;
    let (token, _) = connect(&env, "kim@example.test").await;
    env.put("dropbox", &drive, "a.txt", b"a").await;
    let (_, cursor, _) = list_all(&env, &token, json!({"path": "", "recursive": true})).await;
    env.sim.shutdown().await.unwrap();

    let env = Env::start_with(options()).await;
    env.put("dropbox", &drive, "b.txt", b"b").await;
    let (changes, _) = continue_all(&env, &token, &cursor).await;
    let paths: Vec<&str> = changes
        .iter()
        .map(|e| e["path_lower"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/b.txt"]);
}

#[tokio::test]
async fn longpoll_wakes_on_a_change() {
    let (env, drive, token) = setup().await;
    let latest = rpc_ok(
        &env,
        &token,
        "files/list_folder/get_latest_cursor",
        json!({"path": "", "recursive": true}),
    )
    .await;
    let cursor = latest["cursor"].as_str().unwrap().to_string();
    let poll = {
        let http = env.http.clone();
        let url = env.url("/2/files/list_folder/longpoll");
        let body = json!({"cursor": cursor, "timeout": 30}).to_string();
        tokio::spawn(async move {
            // The notify host takes no Authorization header.
            let resp = http
                .post(url)
                .header("Content-Type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = resp.status();
            (status, resp.json::<Value>().await.unwrap())
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!poll.is_finished(), "nothing changed yet");
    env.put("dropbox", &drive, "x.txt", b"x").await;
    let (status, body) = tokio::time::timeout(std::time::Duration::from_secs(5), poll)
        .await
        .expect("longpoll answers after the change")
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["changes"], true);

    let (status, _, _) = rpc(
        &env,
        &token,
        "files/list_folder/longpoll",
        &json!({"cursor": cursor, "timeout": 5}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "timeout below 30");
}

#[tokio::test]
async fn include_deleted_and_folder_ids() {
    let (env, drive, token) = setup().await;
    env.put("dropbox", &drive, "d/keep.txt", b"k").await;
    env.put("dropbox", &drive, "d/gone.txt", b"g").await;
    env.remove("dropbox", &drive, "d/gone.txt").await;
    let (plain, _, _) = list_all(&env, &token, json!({"path": "/d"})).await;
    assert_eq!(plain.len(), 1);
    let (with_deleted, _, _) =
        list_all(&env, &token, json!({"path": "/d", "include_deleted": true})).await;
    assert_eq!(at(&with_deleted, "/d/gone.txt").unwrap()[".tag"], "deleted");
    let (root, _, _) = list_all(&env, &token, json!({"path": ""})).await;
    let folder_id = at(&root, "/d").unwrap()["id"].as_str().unwrap().to_string();
    let (by_id, _, _) = list_all(&env, &token, json!({"path": folder_id})).await;
    assert_eq!(by_id[0]["path_lower"], "/d/keep.txt");
}

/// Names a header cannot hold raw: DEL, other controls, non-ASCII, emoji,
/// a bidi override. Each downloads with a `Dropbox-API-Result` that is
/// visible ASCII and decodes back to the name.
#[tokio::test]
async fn download_result_header_escapes_any_name() {
    let (env, drive, token) = setup().await;
    let names = [
        "del\u{7f}.txt",
        "tab\tand\u{1}ctl.txt",
        "new\nline.txt",
        "Résumé.txt",
        "emoji 😀🎉.txt",
        "evil\u{202e}txt.exe",
    ];
    for name in names {
        let encoded: String = url_path_segment(name);
        env.put(
            "dropbox",
            &drive,
            &format!("odd/{encoded}"),
            name.as_bytes(),
        )
        .await;
        let arg = ascii_arg(&json!({"path": format!("/odd/{name}")}));
        let resp = env
            .http
            .post(env.url("/2/files/download"))
            .bearer_auth(&token)
            .header("Dropbox-API-Arg", arg)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{name:?}");
        let raw = resp.headers()["dropbox-api-result"].as_bytes().to_vec();
        assert!(
            raw.iter().all(|b| (0x20..0x7f).contains(b)),
            "{name:?}: {}",
            String::from_utf8_lossy(&raw)
        );
        let result: Value = serde_json::from_slice(&raw).unwrap();
        assert_eq!(result["name"], name);
        assert_eq!(result["path_display"], format!("/odd/{name}"));
        assert_eq!(resp.bytes().await.unwrap().as_ref(), name.as_bytes());
    }
}

/// Percent-encodes every byte but unreserved ASCII (for control paths).
fn url_path_segment(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// JSON fit for a request header, as the SDKs send `Dropbox-API-Arg`.
fn ascii_arg(value: &Value) -> String {
    let mut out = String::new();
    for c in value.to_string().chars() {
        if c.is_ascii() && !c.is_ascii_control() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

#[tokio::test]
async fn get_metadata_by_path_id_and_rev() {
    let (env, drive, token) = setup().await;
    env.put("dropbox", &drive, "Docs/Report.txt", b"hello")
        .await;
    let file = rpc_ok(
        &env,
        &token,
        "files/get_metadata",
        json!({"path": "/docs/report.TXT", "include_media_info": false}),
    )
    .await;
    assert_eq!(file[".tag"], "file");
    assert_eq!(file["name"], "Report.txt");
    assert_eq!(file["path_display"], "/Docs/Report.txt");
    assert_eq!(file["size"], 5);
    assert_eq!(file["content_hash"], hashes::dropbox_content_hash(b"hello"));
    let by_id = rpc_ok(
        &env,
        &token,
        "files/get_metadata",
        json!({"path": file["id"]}),
    )
    .await;
    assert_eq!(by_id, file);
    let rev = format!("rev:{}", file["rev"].as_str().unwrap());
    let by_rev = rpc_ok(&env, &token, "files/get_metadata", json!({"path": rev})).await;
    assert_eq!(by_rev["id"], file["id"]);

    let folder = rpc_ok(&env, &token, "files/get_metadata", json!({"path": "/Docs"})).await;
    assert_eq!(folder[".tag"], "folder");
    assert_eq!(folder["path_lower"], "/docs");
    assert!(folder.get("size").is_none());

    let (status, _, body) = rpc(
        &env,
        &token,
        "files/get_metadata",
        &json!({"path": "/nope"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"][".tag"], "path");
    assert_eq!(body["error"]["path"][".tag"], "not_found");
    assert!(
        body["error_summary"]
            .as_str()
            .unwrap()
            .starts_with("path/not_found/")
    );

    // The root has no metadata: "" does not match the path pattern.
    let (status, ct, body) = rpc(&env, &token, "files/get_metadata", &json!({"path": ""})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(ct.starts_with("text/plain"), "{ct}");
    assert!(
        body.starts_with(
            "Error in call to API function \"files/get_metadata\": request body: path:"
        ),
        "{body}"
    );
    let (status, _, _) = rpc(&env, &token, "files/get_metadata", &json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = rpc(
        &env,
        "bogus",
        "files/get_metadata",
        &json!({"path": "/Docs"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn space_usage_counts_live_files() {
    let (env, drive, token) = setup().await;
    env.put("dropbox", &drive, "a.bin", &[0u8; 1000]).await;
    env.put("dropbox", &drive, "d/b.bin", &[0u8; 24]).await;
    env.put("dropbox", &drive, "gone.bin", &[0u8; 500]).await;
    env.remove("dropbox", &drive, "gone.bin").await;
    let usage = rpc_ok(&env, &token, "users/get_space_usage", Value::Null).await;
    assert_eq!(usage["used"], 1024);
    assert_eq!(usage["allocation"][".tag"], "individual");
    assert!(usage["allocation"]["allocated"].as_u64().unwrap() > 1024);
    // A Void route: a JSON body other than null is refused.
    let (status, _, _) = rpc(&env, &token, "users/get_space_usage", &json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn token_endpoint_also_under_v1_path() {
    let env = Env::start().await;
    env.account("dropbox", APP, "v1@example.test", "Vee One")
        .await;
    let (token, refresh) = connect(&env, "v1@example.test").await;
    env.control("/dropbox/tokens/expire", json!({})).await;
    let (status, _, _) = rpc(&env, &token, "users/get_current_account", &Value::Null).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, fresh) = env
        .token(
            "/1/oauth2/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh),
                ("client_id", APP),
                ("client_secret", "secret"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{fresh}");
    assert_eq!(fresh["token_type"], "bearer");
    let new_token = fresh["access_token"].as_str().unwrap();
    rpc_ok(&env, new_token, "users/get_current_account", Value::Null).await;
    let counts = env.counts().await;
    assert_eq!(counts["dropbox POST /1/oauth2/token"], 1, "{counts}");
}

#[tokio::test]
async fn unknown_paths_on_dropbox_hosts_answer_dropbox_404() {
    let env = Env::start().await;
    for host in [
        "api.dropboxapi.com",
        "content.dropboxapi.com:443",
        "www.dropbox.com",
    ] {
        let resp = env
            .http
            .get(env.url("/no/such/thing"))
            .header("Host", host)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{host}");
        assert_eq!(
            resp.headers()["content-type"],
            "text/plain; charset=utf-8",
            "{host}"
        );
        assert!(resp.headers().contains_key("x-dropbox-request-id"));
        let text = resp.text().await.unwrap();
        assert!(text.starts_with("Unknown API function"), "{text}");
    }
    // Elsewhere the path decides: Google's JSON 404 for an unknown path.
    let resp = env
        .http
        .get(env.url("/no/such/thing"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], 404);
}
