use folio_server::ServerConfig;
use folio_testkit::TestApp;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{DELETE, GET, PUT, assert_error};

async fn local_library(app: &TestApp, natural_id: &str) -> Value {
    app.create_library(
        &app.admin_token,
        json!({"name": natural_id, "naturalId": natural_id, "type": "local"}),
    )
    .await
}

async fn upload(app: &TestApp, library: &str, path: &str, bytes: Vec<u8>) -> reqwest::Response {
    app.admin(PUT, &format!("/api/libraries/{library}/files/{path}"))
        .body(bytes)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn upload_list_download_round_trip() {
    let app = TestApp::spawn().await;
    local_library(&app, "docs").await;
    let bytes = b"hello folio".to_vec();
    let response = upload(&app, "docs", "notes/hello.txt", bytes.clone()).await;
    assert_eq!(response.status(), 201);
    let file: Value = response.json().await.unwrap();
    let expected_hash = hex::encode(Sha256::digest(&bytes));
    assert_eq!(file["path"], "notes/hello.txt");
    assert_eq!(file["size"], 11);
    assert_eq!(file["hash"], expected_hash);
    assert_eq!(file["contentType"], "text/plain");
    assert_eq!(file["remoteId"], Value::Null);

    let list: Value = app
        .admin(GET, "/api/libraries/docs/files")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let item = &list["items"][0];
    for key in [
        "path",
        "size",
        "contentType",
        "hash",
        "modifiedAt",
        "remoteId",
        "syncedAt",
    ] {
        assert!(item.get(key).is_some(), "missing {key}");
    }
    assert_eq!(list["next"], Value::Null);

    let response = app
        .admin(GET, "/api/libraries/docs/files/notes/hello.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"{expected_hash}\""));
    assert_eq!(response.headers()["content-type"], "text/plain");
    assert_eq!(response.bytes().await.unwrap().as_ref(), bytes.as_slice());

    let response = app
        .admin(GET, "/api/libraries/docs/files/notes/hello.txt")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 304);

    let response = app
        .admin(GET, "/api/libraries/docs/files/notes/hello.txt")
        .header("range", "bytes=6-")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 206);
    assert_eq!(response.headers()["content-range"], "bytes 6-10/11");
    assert_eq!(response.bytes().await.unwrap().as_ref(), b"folio");

    let response = app
        .admin(GET, "/api/libraries/docs/files/notes/hello.txt")
        .header("range", "bytes=50-60")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-range"], "bytes */11");
    assert_error(response, 416).await;
}

#[tokio::test]
async fn replacing_a_file_collects_the_old_blob_and_dedupes_equal_content() {
    let app = TestApp::spawn().await;
    local_library(&app, "docs").await;
    assert_eq!(
        upload(&app, "docs", "a.txt", b"one".to_vec())
            .await
            .status(),
        201
    );
    assert_eq!(
        upload(&app, "docs", "b.txt", b"one".to_vec())
            .await
            .status(),
        201
    );
    assert_eq!(
        app.blobs.list_hashes().await.unwrap().len(),
        1,
        "equal content is stored once"
    );
    assert_eq!(
        upload(&app, "docs", "a.txt", b"two".to_vec())
            .await
            .status(),
        200
    );
    assert_eq!(app.blobs.list_hashes().await.unwrap().len(), 2);
    assert_eq!(
        upload(&app, "docs", "b.txt", b"three".to_vec())
            .await
            .status(),
        200
    );
    let mut hashes = app.blobs.list_hashes().await.unwrap();
    hashes.sort();
    let mut expected = vec![
        hex::encode(Sha256::digest(b"two")),
        hex::encode(Sha256::digest(b"three")),
    ];
    expected.sort();
    assert_eq!(
        hashes, expected,
        "the blob of 'one' is gone once no file uses it"
    );
}

#[tokio::test]
async fn listing_pages_with_cursor_and_prefix() {
    let app = TestApp::spawn().await;
    local_library(&app, "docs").await;
    for name in ["a/1.txt", "a/2.txt", "a/3.txt", "b/1.txt", "ab.txt"] {
        assert_eq!(
            upload(&app, "docs", name, name.as_bytes().to_vec())
                .await
                .status(),
            201
        );
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = "/api/libraries/docs/files?limit=2".to_owned();
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: Value = app
            .admin(GET, &url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|i| i["path"].as_str().unwrap().to_owned()));
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ["a/1.txt", "a/2.txt", "a/3.txt", "ab.txt", "b/1.txt"]);

    let page: Value = app
        .admin(GET, "/api/libraries/docs/files?prefix=a/")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["a/1.txt", "a/2.txt", "a/3.txt"]);

    for bad in ["limit=0", "limit=1001", "limit=x", "cursor=%%%"] {
        let response = app
            .admin(GET, &format!("/api/libraries/docs/files?{bad}"))
            .send()
            .await
            .unwrap();
        assert_error(response, 400).await;
    }
}

/// Sends a request line exactly as given (HTTP clients normalise `..`
/// away before sending; an attacker's client need not) and returns the status.
async fn raw_put(app: &TestApp, target: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let request = format!(
        "PUT {target} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx",
        app.addr, app.admin_token
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {response:?}"))
}

#[tokio::test]
async fn hostile_paths_are_rejected_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    local_library(&app, "docs").await;
    let hostile = [
        "..%2Fescape.txt",
        "a/../b",
        "a/%2E%2E/b",
        "../../etc/passwd",
        "%2E%2E",
        "a//b",
        "a%5Cb",
        "a%00b",
        "a%0Ab",
        "a/",
        "./a",
    ];
    for path in hostile {
        let status = raw_put(&app, &format!("/api/libraries/docs/files/{path}")).await;
        assert!(status == 400 || status == 404, "{path}: {status}");
    }
    let response = upload(&app, "docs", "..%2Fescape.txt", b"x".to_vec()).await;
    let message = assert_error(response, 400).await;
    assert!(message.contains("path"), "{message}");
    let list: Value = app
        .admin(GET, "/api/libraries/docs/files")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], json!([]));
    assert!(app.blobs.list_hashes().await.unwrap().is_empty());
    assert!(!app.dir.path().join("escape.txt").exists());
}

#[tokio::test]
async fn oversized_uploads_get_413_and_leave_nothing() {
    let app = TestApp::spawn_with(ServerConfig {
        max_upload_bytes: 1000,
        ..ServerConfig::default()
    })
    .await;
    local_library(&app, "docs").await;
    let response = upload(&app, "docs", "big.bin", vec![7u8; 1001]).await;
    assert_error(response, 413).await;

    // A chunked body without Content-Length is cut off by the stream limit.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..20).map(|_| Ok(vec![1u8; 100])).collect();
    let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    let response = app
        .admin(PUT, "/api/libraries/docs/files/chunked.bin")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_error(response, 413).await;

    let list: Value = app
        .admin(GET, "/api/libraries/docs/files")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], json!([]));
    assert!(app.blobs.list_hashes().await.unwrap().is_empty());
    assert_eq!(
        upload(&app, "docs", "ok.bin", vec![7u8; 1000])
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn file_permissions_follow_the_library() {
    let app = TestApp::spawn().await;
    let (reader_id, reader) = app.create_user("reader").await;
    let (_s, stranger) = app.create_user("stranger").await;
    local_library(&app, "docs").await;
    app.admin(PUT, &format!("/api/libraries/docs/shares/{reader_id}"))
        .json(&json!({"level": "read"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        upload(&app, "docs", "x.txt", b"x".to_vec()).await.status(),
        201
    );
    let ok = app
        .as_token(&reader, GET, "/api/libraries/docs/files/x.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let denied = app
        .as_token(&reader, PUT, "/api/libraries/docs/files/y.txt")
        .body("y")
        .send()
        .await
        .unwrap();
    assert_error(denied, 403).await;
    let hidden = app
        .as_token(&stranger, GET, "/api/libraries/docs/files/x.txt")
        .send()
        .await
        .unwrap();
    assert_error(hidden, 404).await;
    let hidden = app
        .as_token(&stranger, GET, "/api/libraries/docs/files")
        .send()
        .await
        .unwrap();
    assert_error(hidden, 404).await;
    let missing = app
        .admin(GET, "/api/libraries/docs/files/none.txt")
        .send()
        .await
        .unwrap();
    assert_error(missing, 404).await;
}

#[tokio::test]
async fn delete_file_and_library_remove_their_blobs_but_keep_shared_ones() {
    let app = TestApp::spawn().await;
    local_library(&app, "one").await;
    local_library(&app, "two").await;
    upload(&app, "one", "shared.txt", b"same".to_vec()).await;
    upload(&app, "two", "shared.txt", b"same".to_vec()).await;
    upload(&app, "one", "own.txt", b"mine".to_vec()).await;
    upload(&app, "one", "gone.txt", b"bye".to_vec()).await;
    assert_eq!(app.blobs.list_hashes().await.unwrap().len(), 3);

    let response = app
        .admin(DELETE, "/api/libraries/one/files/gone.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(app.blobs.list_hashes().await.unwrap().len(), 2);
    let response = app
        .admin(DELETE, "/api/libraries/one/files/gone.txt")
        .send()
        .await
        .unwrap();
    assert_error(response, 404).await;

    let response = app
        .admin(DELETE, "/api/libraries/one")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(
        app.blobs.list_hashes().await.unwrap(),
        vec![hex::encode(Sha256::digest(b"same"))],
        "the blob library 'two' still uses stays"
    );
    let still: Value = app
        .admin(GET, "/api/libraries/two/files/shared.txt")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(Value::from)
        .unwrap();
    assert_eq!(still, "same");
    assert!(app.store.orphan_blob_hashes(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn provider_libraries_take_no_uploads() {
    let app = TestApp::spawn().await;
    app.create_library(
        &app.admin_token,
        json!({"name": "g", "naturalId": "g", "type": "google-drive"}),
    )
    .await;
    let response = upload(&app, "g", "x.txt", b"x".to_vec()).await;
    let message = assert_error(response, 409).await;
    assert!(message.contains("local"), "{message}");
    assert!(app.blobs.list_hashes().await.unwrap().is_empty());
}

/// Folio's listener sets TCP_NODELAY: a download's headers and body are two
/// writes, and with Nagle's algorithm the second would wait for the client's
/// delayed ACK (about 40 ms) on many requests of a kept-alive connection:
/// 300 downloads took 3-4 s with it and about 0.4 s without.
#[tokio::test]
async fn downloads_on_one_connection_do_not_wait_for_delayed_acks() {
    let app = TestApp::spawn().await;
    local_library(&app, "nagle").await;
    let response = upload(&app, "nagle", "small.bin", vec![7u8; 1024]).await;
    assert_eq!(response.status(), 201);
    let started = std::time::Instant::now();
    for _ in 0..300 {
        let response = app
            .admin(GET, "/api/libraries/nagle/files/small.bin")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.bytes().await.unwrap().len(), 1024);
    }
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_secs(2),
        "300 downloads on one connection took {took:?}: is TCP_NODELAY off?"
    );
}
