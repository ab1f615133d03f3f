//! The core over HTTP: faults, token expiry, request counters, the state
//! directory across restarts, generated trees (the streamed 2 GiB file is
//! in `tests/memory.rs`), Microsoft and Dropbox token semantics, TLS, and
//! the `serve` binary.

use std::io::BufRead;
use std::time::{Duration, Instant};

use cloudsim::SimOptions;
use cloudsim::server::TlsOptions;
use serde_json::{Value, json};

use crate::google_support::*;

// ----- faults ------------------------------------------------------------------

#[tokio::test]
async fn rate_limit_by_count_with_retry_after() {
    let s = Sim2::start().await;
    let (token, _) = s.connect().await;
    s.post(
        "/faults",
        json!({"provider": "google", "endpoint": "GET /drive/v3/files", "kind": "rate_limit",
               "count": 2, "retryAfterSeconds": 7}),
    )
    .await;
    for _ in 0..2 {
        let resp = s.get(&token, "/drive/v3/files").await;
        assert_eq!(resp.status(), 429);
        assert_eq!(resp.headers()["retry-after"], "7");
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["error"]["errors"][0]["reason"], "rateLimitExceeded");
        assert_eq!(v["error"]["code"], 429);
    }
    assert_eq!(s.get(&token, "/drive/v3/files").await.status(), 200);
    // Drive's other quota answer: 403 userRateLimitExceeded.
    s.post(
        "/faults",
        json!({"provider": "google", "endpoint": "/drive/v3/files", "kind": "rate_limit", "count": 1, "status": 403}),
    )
    .await;
    let (status, v) = s.get_json(&token, "/drive/v3/files").await;
    assert_eq!(status, 403);
    assert_eq!(v["error"]["errors"][0]["reason"], "userRateLimitExceeded");
    // Other endpoints were never affected.
    let (status, _) = s.get_json(&token, "/drive/v3/about?fields=user").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn server_errors_by_probability_latency_and_clearing() {
    let s = Sim2::start().await;
    let (token, _) = s.connect().await;
    s.post(
        "/faults",
        json!({"provider": "google", "kind": "server_error", "probability": 1.0}),
    )
    .await;
    for _ in 0..3 {
        let (status, v) = s.get_json(&token, "/drive/v3/files").await;
        assert_eq!(status, 503);
        assert_eq!(v["error"]["errors"][0]["reason"], "backendError");
    }
    // Faults are per provider.
    let resp = s
        .http
        .post(s.url("/_sim/faults"))
        .json(&json!({"provider": "dropbox", "kind": "server_error", "status": 500}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let listed = s
        .control(reqwest::Method::GET, "/faults", Value::Null)
        .await;
    assert_eq!(listed["faults"].as_array().unwrap().len(), 2);
    s.control(reqwest::Method::DELETE, "/faults", Value::Null)
        .await;
    assert_eq!(s.get(&token, "/drive/v3/files").await.status(), 200);

    s.post(
        "/faults",
        json!({"provider": "google", "endpoint": "/drive/v3/files", "kind": "latency", "latencyMs": 300, "count": 1}),
    )
    .await;
    let started = Instant::now();
    assert_eq!(s.get(&token, "/drive/v3/files").await.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn corrupt_flips_download_bytes() {
    let s = Sim2::start().await;
    let (token, drive) = s.connect().await;
    let id = s.put(&drive, "f.bin", b"abcdef".to_vec()).await;
    s.post(
        "/faults",
        json!({"provider": "google", "endpoint": "GET /drive/v3/files/{fileId}?alt=media", "kind": "corrupt", "count": 1}),
    )
    .await;
    let bad = s
        .get(&token, &format!("/drive/v3/files/{id}?alt=media"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(bad.len(), 6);
    assert_ne!(&bad[..], b"abcdef");
    let good = s
        .get(&token, &format!("/drive/v3/files/{id}?alt=media"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(&good[..], b"abcdef");
}

#[tokio::test]
async fn tokens_expire_now_and_revoke() {
    let s = Sim2::start().await;
    let (token, _) = s.connect().await;
    assert_eq!(s.get(&token, "/drive/v3/files").await.status(), 200);
    s.post("/google/tokens/expire", json!({})).await;
    let (status, v) = s.get_json(&token, "/drive/v3/files").await;
    assert_eq!(status, 401);
    assert_eq!(v["error"]["errors"][0]["reason"], "authError");

    // A refresh still works after expiry, but not after revocation.
    let code = s.code().await;
    let tok = s.exchange(&code).await;
    let refresh = tok["refresh_token"].as_str().unwrap();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh),
        ("client_id", CLIENT_ID),
        ("client_secret", SECRET),
    ];
    s.post("/google/tokens/expire", json!({})).await;
    assert_eq!(s.form("/token", &form).await.0, 200);
    s.post("/google/tokens/revoke", json!({})).await;
    let (status, v) = s.form("/token", &form).await;
    assert_eq!((status, v["error"].as_str()), (400, Some("invalid_grant")));
}

#[tokio::test]
async fn access_token_lifetime_is_settable() {
    let s = Sim2::start().await;
    s.google_account("alice@example.test").await;
    s.control(
        reqwest::Method::PATCH,
        "/settings",
        json!({"accessTokenLifetimeSeconds": {"google": 1}}),
    )
    .await;
    let code = s.code().await;
    let tok = s.exchange(&code).await;
    assert_eq!(tok["expires_in"], 1);
    let token = tok["access_token"].as_str().unwrap();
    assert_eq!(s.get(token, "/drive/v3/files").await.status(), 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(s.get(token, "/drive/v3/files").await.status(), 401);
}

// ----- counters ------------------------------------------------------------------

#[tokio::test]
async fn request_counters_and_reset() {
    let s = Sim2::start().await;
    let (token, drive) = s.connect().await;
    let id = s.put(&drive, "a.txt", "a").await;
    let doc = s
        .put_with(
            &drive,
            "D",
            "d",
            "mimeType=application/vnd.google-apps.document",
        )
        .await;
    s.get(&token, &format!("/drive/v3/files/{id}")).await;
    s.get(&token, &format!("/drive/v3/files/{id}")).await;
    s.get(&token, &format!("/drive/v3/files/{id}?alt=media"))
        .await;
    s.get(
        &token,
        &format!("/drive/v3/files/{doc}/export?mimeType=application%2Fpdf"),
    )
    .await;
    s.get(&token, "/drive/v3/files").await;
    let counts = s.counts().await;
    assert_eq!(counts["google GET /drive/v3/files/{fileId}"], 2, "{counts}");
    assert_eq!(counts["google GET /drive/v3/files/{fileId}?alt=media"], 1);
    assert_eq!(counts["google GET /drive/v3/files/{fileId}/export"], 1);
    assert_eq!(counts["google GET /drive/v3/files"], 1);
    assert_eq!(counts["google POST /token"], 1);
    assert_eq!(counts["google GET /o/oauth2/v2/auth"], 1);
    assert!(
        counts
            .as_object()
            .unwrap()
            .keys()
            .all(|k| !k.contains("_sim"))
    );

    let resp = s.http.delete(s.url("/_sim/requests")).send().await.unwrap();
    assert!(resp.status().is_success());
    assert!(s.counts().await.as_object().unwrap().is_empty());
}

// ----- state directory -----------------------------------------------------------

#[tokio::test]
async fn cursor_and_tokens_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let options = SimOptions {
        state_dir: Some(dir.path().to_path_buf()),
        ..SimOptions::default()
    };
    let s = Sim2::with(options.clone()).await;
    let (token, drive) = s.connect().await;
    let before = s.put(&drive, "before.txt", "b").await;
    s.post(
        &format!("/google/{drive}/generate"),
        json!({"root": "gen", "files": 10, "bytes": 1000, "depth": 1}),
    )
    .await;
    let (_, v) = s.get_json(&token, "/drive/v3/changes/startPageToken").await;
    let cursor = v["startPageToken"].as_str().unwrap().to_string();
    let gen_file = s
        .sim
        .state()
        .read(|w| w.resolve_path(&drive, "gen").unwrap().id.clone());
    s.sim.shutdown().await.unwrap();

    let s = Sim2::with(options).await;
    let after = s.put(&drive, "after.txt", "after").await;
    let (status, v) = s
        .get_json(&token, &format!("/drive/v3/changes?pageToken={cursor}"))
        .await;
    assert_eq!(status, 200, "the access token and the cursor survive: {v}");
    let ids: Vec<&str> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["fileId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [after.as_str()]);
    let (status, f) = s
        .get_json(
            &token,
            &format!("/drive/v3/files/{before}?fields=name,md5Checksum"),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(f["md5Checksum"], md5_hex(b"b"), "uploaded bytes survive");
    let (_, kids) = s
        .get_json(
            &token,
            &format!(
                "/drive/v3/files?q={}&pageSize=1000",
                enc(&format!("'{gen_file}' in parents"))
            ),
        )
        .await;
    assert!(
        !kids["files"].as_array().unwrap().is_empty(),
        "generated tree survives"
    );
    assert!(dir.path().join("state.json").exists());
    s.sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_state_is_written_without_a_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let s = Sim2::with(SimOptions {
        state_dir: Some(dir.path().to_path_buf()),
        ..SimOptions::default()
    })
    .await;
    let (token, drive) = s.connect().await;
    let (_, v) = s.get_json(&token, "/drive/v3/changes/startPageToken").await;
    let cursor = v["startPageToken"].as_str().unwrap().to_string();
    let id = s.put(&drive, "x.txt", "x").await;
    // As if the process were killed: copy the directory after the flush interval.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let copy = tempfile::tempdir().unwrap();
    for entry in walk(dir.path()) {
        let target = copy.path().join(entry.strip_prefix(dir.path()).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &target).unwrap();
    }
    let s2 = Sim2::with(SimOptions {
        state_dir: Some(copy.path().to_path_buf()),
        ..SimOptions::default()
    })
    .await;
    let (status, v) = s2
        .get_json(&token, &format!("/drive/v3/changes?pageToken={cursor}"))
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["changes"][0]["fileId"], id.as_str());
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

// ----- generated content ---------------------------------------------------------

#[tokio::test]
async fn generate_100k_files() {
    let s = Sim2::start().await;
    let (token, drive) = s.connect().await;
    let g = s
        .post(
            &format!("/google/{drive}/generate"),
            json!({"root": "lib", "files": 100_000, "bytes": 256, "depth": 2}),
        )
        .await;
    assert_eq!(g["files"], 100_000);
    assert_eq!(g["bytes"], 25_600_000);
    let (files, folders) = s.sim.state().read(|w| {
        let root = w.resolve_path(&drive, "lib").unwrap().id.clone();
        let all = w.subtree(&root);
        let files = all
            .iter()
            .filter(|id| w.item(id).is_some_and(|i| i.is_file()))
            .count();
        (files, all.len() - files - 1)
    });
    assert_eq!(files, 100_000);
    assert_eq!(folders as u64, g["folders"].as_u64().unwrap());
    // Every file is visible through changes from the beginning of time.
    let (_, v) = s
        .get_json(
            &token,
            "/drive/v3/changes?pageToken=0&pageSize=1000&fields=nextPageToken,changes(fileId)",
        )
        .await;
    assert_eq!(v["changes"].as_array().unwrap().len(), 1000);
    assert!(v["nextPageToken"].is_string());
    // A leaf folder lists its files with sizes and md5s.
    let leaf = s.sim.state().read(|w| {
        w.items
            .values()
            .find(|i| i.name == "file-0000000.bin")
            .unwrap()
            .parent_id
            .clone()
            .unwrap()
    });
    let (_, v) = s
        .get_json(
            &token,
            &format!(
                "/drive/v3/files?q={}&fields=files(name,size,md5Checksum)",
                enc(&format!("'{leaf}' in parents"))
            ),
        )
        .await;
    let files = v["files"].as_array().unwrap();
    assert!(!files.is_empty());
    assert!(
        files
            .iter()
            .all(|f| f["size"] == "256" && f["md5Checksum"].as_str().unwrap().len() == 32)
    );
}

// ----- Microsoft and Dropbox token semantics ----------------------------------------

async fn ms_code(s: &Sim2, scope: &str) -> String {
    let resp = s
        .http
        .get(s.url("/common/oauth2/v2.0/authorize"))
        .query(&[
            ("client_id", "ms-app"),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", scope),
            ("state", "s"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let url = reqwest::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    param(&url, "code").unwrap()
}

#[tokio::test]
async fn microsoft_rotates_refresh_tokens_strictly() {
    let s = Sim2::start().await;
    s.post("/clients", json!({"provider": "microsoft", "clientId": "ms-app", "clientSecret": "pw", "redirectUris": [REDIRECT]})).await;
    s.post(
        "/accounts",
        json!({"provider": "microsoft", "email": "ada@contoso.test", "displayName": "Ada"}),
    )
    .await;
    let scope = "offline_access Files.Read.All User.Read";
    let code = ms_code(&s, scope).await;
    let (status, tok) = s
        .form(
            "/organizations/oauth2/v2.0/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", "ms-app"),
                ("client_secret", "pw"),
                ("redirect_uri", REDIRECT),
                ("scope", scope),
            ],
        )
        .await;
    assert_eq!(status, 200, "{tok}");
    assert_eq!(tok["token_type"], "Bearer");
    assert!(tok["ext_expires_in"].is_number());
    assert!(!tok["scope"].as_str().unwrap().contains("offline_access"));
    let rt1 = tok["refresh_token"].as_str().unwrap().to_string();
    let refresh = |rt: String| {
        let s = &s;
        async move {
            s.form(
                "/common/oauth2/v2.0/token",
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &rt),
                    ("client_id", "ms-app"),
                    ("client_secret", "pw"),
                ],
            )
            .await
        }
    };
    let (status, v) = refresh(rt1.clone()).await;
    assert_eq!(status, 200);
    let rt2 = v["refresh_token"]
        .as_str()
        .expect("a new refresh token on every refresh")
        .to_string();
    assert_ne!(rt1, rt2);
    let (status, v) = refresh(rt1.clone()).await;
    assert_eq!(status, 400, "the used refresh token stops working");
    assert_eq!(v["error"], "invalid_grant");
    assert!(v["error_codes"].is_array());
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS")
    );

    s.control(
        reqwest::Method::PATCH,
        "/settings",
        json!({"strictRotation": false}),
    )
    .await;
    let (status, _) = refresh(rt2.clone()).await;
    assert_eq!(status, 200);
    let (status, _) = refresh(rt2.clone()).await;
    assert_eq!(
        status, 200,
        "without strict rotation an old token still works"
    );

    let (status, v) = s
        .form(
            "/common/oauth2/v2.0/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &rt2),
                ("client_id", "ms-app"),
                ("client_secret", "bad"),
            ],
        )
        .await;
    assert_eq!((status, v["error"].as_str()), (401, Some("invalid_client")));

    // Without offline_access: no refresh token.
    let code = ms_code(&s, "Files.Read.All").await;
    let (_, tok) = s
        .form(
            "/common/oauth2/v2.0/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", "ms-app"),
                ("client_secret", "pw"),
                ("redirect_uri", REDIRECT),
            ],
        )
        .await;
    assert!(tok.get("refresh_token").is_none());
}

#[tokio::test]
async fn dropbox_offline_tokens_uid_and_refresh_shape() {
    let s = Sim2::start().await;
    s.post("/clients", json!({"provider": "dropbox", "clientId": "dbx-key", "clientSecret": "dbx-secret", "redirectUris": [REDIRECT]})).await;
    let acct = s
        .post(
            "/accounts",
            json!({"provider": "dropbox", "email": "d@x.test", "displayName": "D"}),
        )
        .await;
    let challenge = challenge(VERIFIER);
    let authorize = |offline: bool| {
        let s = &s;
        let challenge = challenge.clone();
        async move {
            let mut q = vec![
                ("client_id", "dbx-key"),
                ("redirect_uri", REDIRECT),
                ("response_type", "code"),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
                ("state", "z"),
            ];
            if offline {
                q.push(("token_access_type", "offline"));
            }
            let resp = s
                .http
                .get(s.url("/oauth2/authorize"))
                .query(&q)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 302);
            let url = reqwest::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
            param(&url, "code").unwrap()
        }
    };
    let code = authorize(true).await;
    // PKCE app: no secret, just the verifier.
    let (status, tok) = s
        .form(
            "/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", "dbx-key"),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_eq!(status, 200, "{tok}");
    assert_eq!(tok["token_type"], "bearer");
    assert_eq!(tok["expires_in"], 14400);
    assert_eq!(tok["account_id"], acct["accountId"]);
    assert!(tok["uid"].is_string());
    let rt = tok["refresh_token"].as_str().unwrap().to_string();

    let (status, v) = s
        .form(
            "/oauth2/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &rt),
                ("client_id", "dbx-key"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["access_token", "expires_in", "token_type"]);

    let code = authorize(false).await;
    let (_, tok) = s
        .form(
            "/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", "dbx-key"),
                ("client_secret", "dbx-secret"),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert!(
        tok.get("refresh_token").is_none(),
        "online access: no refresh token"
    );
    let (status, v) = s
        .form(
            "/oauth2/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", "nope"),
                ("client_id", "dbx-key"),
            ],
        )
        .await;
    assert_eq!((status, v["error"].as_str()), (400, Some("invalid_grant")));
}

// ----- TLS and the binary ------------------------------------------------------------

#[tokio::test]
async fn tls_generate_serves_https() {
    let dir = tempfile::tempdir().unwrap();
    let sim = cloudsim::Sim::start(SimOptions {
        tls: Some(TlsOptions::Generate {
            dir: dir.path().to_path_buf(),
        }),
        ..SimOptions::default()
    })
    .await
    .unwrap();
    assert!(sim.base_url().starts_with("https://127.0.0.1:"));
    for f in ["ca.pem", "cert.pem", "key.pem"] {
        assert!(dir.path().join(f).exists(), "{f}");
    }
    let ca =
        reqwest::Certificate::from_pem(&std::fs::read(dir.path().join("ca.pem")).unwrap()).unwrap();
    let http = reqwest::Client::builder()
        .tls_certs_only([ca])
        .build()
        .unwrap();
    for host in ["127.0.0.1", "localhost"] {
        let url = format!("https://{host}:{}/drive/v3/files", sim.addr().port());
        let resp = http
            .get(url)
            .send()
            .await
            .expect("TLS handshake with the generated CA");
        assert_eq!(resp.status(), 401);
    }
    sim.shutdown().await.unwrap();

    // The same files given as --tls-cert/--tls-key.
    let sim = cloudsim::Sim::start(SimOptions {
        tls: Some(TlsOptions::Files {
            cert: dir.path().join("cert.pem"),
            key: dir.path().join("key.pem"),
        }),
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let url = format!("https://localhost:{}/drive/v3/files", sim.addr().port());
    assert_eq!(http.get(url).send().await.unwrap().status(), 401);
    sim.shutdown().await.unwrap();
}

/// Nagle's algorithm on the TLS listener held the second TLS record of each
/// HTTP/2 response until the client's delayed ACK, about 40 ms per request.
/// With TCP_NODELAY, 100 sequential downloads of 1 KiB on one connection take
/// a few milliseconds each at most; with Nagle back they take 4 s or more.
#[tokio::test]
async fn tls_downloads_on_one_connection_do_not_wait_for_delayed_acks() {
    let dir = tempfile::tempdir().unwrap();
    let s = Sim2::with(SimOptions {
        tls: Some(TlsOptions::Generate {
            dir: dir.path().to_path_buf(),
        }),
        ..SimOptions::default()
    })
    .await;
    let (token, drive) = s.connect().await;
    let id = s.put(&drive, "small.bin", vec![7u8; 1024]).await;
    let path = format!("/drive/v3/files/{id}?alt=media");
    let first = s.get(&token, &path).await;
    assert_eq!(first.version(), reqwest::Version::HTTP_2, "ALPN picks h2");
    let started = Instant::now();
    for _ in 0..100 {
        let response = s.get(&token, &path).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.bytes().await.unwrap().len(), 1024);
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "100 downloads on one HTTP/2 connection took {took:?}: is TCP_NODELAY off?"
    );
}

#[test]
fn serve_prints_the_listening_line() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cloudsim"))
        .args(["serve", "--port", "0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let rest = line
        .trim()
        .strip_prefix("listening on http://127.0.0.1:")
        .expect(&line);
    assert!(rest.parse::<u16>().unwrap() > 0);
}
