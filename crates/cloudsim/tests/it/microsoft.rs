//! Microsoft Graph end to end over HTTP: connect through the identity
//! platform endpoints, /me and drives, delta paging and change rounds,
//! 410 resync, items, children, content with the 302 download URL, hashes,
//! SharePoint sites, faults, and auth and path errors.

use cloudsim::hashes;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::provider_support::{Env, REDIRECT_URI};

const CLIENT: &str = "graph-app";

/// Connects `email` through the tenant endpoints; returns the access token.
async fn connect(env: &Env, email: &str) -> String {
    let scope = "offline_access Files.Read.All Sites.Read.All User.Read";
    let code = env
        .authorize(
            "/common/oauth2/v2.0/authorize",
            &[
                ("client_id", CLIENT),
                ("response_type", "code"),
                ("redirect_uri", REDIRECT_URI),
                ("response_mode", "query"),
                ("scope", scope),
                ("state", "xyz"),
                ("login_hint", email),
            ],
        )
        .await;
    let (status, tok) = env
        .token(
            "/common/oauth2/v2.0/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", CLIENT),
                ("client_secret", "secret"),
                ("code", &code),
                ("redirect_uri", REDIRECT_URI),
                ("scope", scope),
            ],
        )
        .await;
    assert_eq!(status, 200, "{tok}");
    tok["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

async fn setup() -> (Env, String, String) {
    let env = Env::start().await;
    let (_, drive) = env
        .account("microsoft", CLIENT, "ada@contoso.test", "Ada Lovelace")
        .await;
    let token = connect(&env, "ada@contoso.test").await;
    (env, drive, token)
}

async fn get(
    env: &Env,
    token: &str,
    path_or_url: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let url = if path_or_url.starts_with("http") {
        path_or_url.to_string()
    } else {
        env.url(path_or_url)
    };
    let resp = env
        .http
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

/// Follows nextLinks from `first`; returns all items and the deltaLink.
async fn delta_all(env: &Env, token: &str, first: &str) -> (Vec<Value>, String, usize) {
    let (status, _, mut page) = get(env, token, first).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let mut items: Vec<Value> = page["value"].as_array().expect("value").clone();
    let mut pages = 1;
    while let Some(next) = page["@odata.nextLink"].as_str().map(str::to_string) {
        assert!(
            next.starts_with(&format!("{}/v1.0/", env.sim.base_url())),
            "{next}"
        );
        assert!(page.get("@odata.deltaLink").is_none());
        let (status, _, p) = get(env, token, &next).await;
        assert_eq!(status, StatusCode::OK, "{p}");
        items.extend(p["value"].as_array().expect("value").iter().cloned());
        page = p;
        pages += 1;
    }
    let link = page["@odata.deltaLink"]
        .as_str()
        .expect("deltaLink on the last page")
        .to_string();
    (items, link, pages)
}

fn named<'a>(items: &'a [Value], name: &str) -> Option<&'a Value> {
    items.iter().rev().find(|i| i["name"] == name)
}

#[tokio::test]
async fn me_and_drives() {
    let (env, drive, token) = setup().await;
    let (status, headers, me) = get(&env, &token, "/v1.0/me").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(me["displayName"], "Ada Lovelace");
    assert_eq!(me["userPrincipalName"], "ada@contoso.test");
    let (_, _, alias) = get(&env, &token, "/v1.0/users/me-token-to-replace").await;
    assert_eq!(alias["id"], me["id"]);
    let (_, _, d) = get(&env, &token, "/v1.0/me/drive").await;
    assert_eq!(d["id"], drive.as_str());
    assert_eq!(d["driveType"], "business");
    let (_, _, same) = get(&env, &token, &format!("/v1.0/drives/{drive}")).await;
    assert_eq!(same["id"], drive.as_str());
    let (_, _, list) = get(&env, &token, "/v1.0/me/drives").await;
    assert_eq!(list["value"][0]["id"], drive.as_str());
}

#[tokio::test]
async fn delta_pages_then_reports_changes() {
    let (env, drive, token) = setup().await;
    env.put("microsoft", &drive, "Docs/a.txt", b"alpha").await;
    env.put("microsoft", &drive, "Docs/b.txt", b"bravo").await;
    env.put("microsoft", &drive, "Photos/c.jpg", b"charlie")
        .await;
    env.put("microsoft", &drive, "top.txt", b"top").await;

    let (items, link, pages) = delta_all(&env, &token, "/v1.0/me/drive/root/delta?$top=2").await;
    assert!(pages >= 4, "7 items in pages of 2");
    assert_eq!(items.len(), 7, "root, 2 folders, 4 files");
    assert!(items[0]["root"].is_object(), "the root comes first");
    let a = named(&items, "a.txt").expect("a.txt");
    assert_eq!(a["size"], 5);
    assert_eq!(
        a["file"]["hashes"]["quickXorHash"],
        hashes::quick_xor_base64(b"alpha")
    );
    assert_eq!(
        a["file"]["hashes"]["sha256Hash"],
        hashes::sha256_hex(b"alpha").to_uppercase()
    );
    assert_eq!(a["parentReference"]["driveId"], drive.as_str());
    assert!(
        a["parentReference"].get("path").is_none(),
        "delta omits parentReference.path"
    );
    let docs = named(&items, "Docs").expect("Docs");
    assert_eq!(docs["folder"]["childCount"], 2);
    assert_eq!(a["parentReference"]["id"], docs["id"]);

    // Nothing changed: an empty round with a deltaLink.
    let (same, link, _) = delta_all(&env, &token, &link).await;
    assert!(same.is_empty());

    env.put("microsoft", &drive, "Docs/a.txt", b"alpha v2")
        .await;
    env.put("microsoft", &drive, "Docs/new.txt", b"new").await;
    env.remove("microsoft", &drive, "top.txt").await;
    env.mv("microsoft", &drive, "Docs/b.txt", "Photos/b-renamed.txt")
        .await;
    let (changed, link, _) = delta_all(&env, &token, &link).await;
    let a2 = named(&changed, "a.txt").expect("changed a.txt");
    assert_eq!(a2["size"], 8);
    assert_ne!(a2["cTag"], a["cTag"]);
    assert_ne!(a2["eTag"], a["eTag"]);
    assert!(named(&changed, "new.txt").is_some());
    let moved = named(&changed, "b-renamed.txt").expect("renamed item");
    let photos = named(&items, "Photos").expect("Photos");
    assert_eq!(moved["parentReference"]["id"], photos["id"]);
    let deleted: Vec<&Value> = changed
        .iter()
        .filter(|i| i["deleted"].is_object())
        .collect();
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0]["deleted"]["state"], "deleted");
    assert!(
        changed.iter().all(|i| i["name"] != "c.jpg"),
        "unchanged items stay out"
    );

    let (after, link, _) = delta_all(&env, &token, &link).await;
    assert!(after.is_empty());

    // OneDrive has no Drive-style trash: a trashed item reads as deleted.
    env.control(
        &format!("/microsoft/{drive}/trash"),
        json!({"path": "Photos/c.jpg"}),
    )
    .await;
    let (trashed, _, _) = delta_all(&env, &token, &link).await;
    assert_eq!(trashed.len(), 1);
    assert_eq!(trashed[0]["deleted"]["state"], "deleted");
}

#[tokio::test]
async fn delta_link_forms_and_latest() {
    let (env, drive, token) = setup().await;
    env.put("microsoft", &drive, "one.txt", b"1").await;
    let (_, link, _) = delta_all(&env, &token, &format!("/v1.0/drives/{drive}/root/delta()")).await;
    let token_value = link
        .split("token=")
        .nth(1)
        .expect("token in link")
        .to_string();
    env.put("microsoft", &drive, "two.txt", b"2").await;
    for form in [
        format!("/v1.0/drives/{drive}/root/delta(token='{token_value}')"),
        format!("/v1.0/drives/{drive}/root/delta?token={token_value}"),
        format!("/v1.0/drives/{drive}/items/root/delta(token='{token_value}')"),
        format!("/v1.0/me/drive/root/delta(token='{token_value}')"),
    ] {
        let (items, _, _) = delta_all(&env, &token, &form).await;
        let names: Vec<&str> = items.iter().filter_map(|i| i["name"].as_str()).collect();
        assert_eq!(names, ["two.txt"], "{form}");
    }
    let (status, _, latest) = get(&env, &token, "/v1.0/me/drive/root/delta?token=latest").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(latest["value"], json!([]));
    let latest_link = latest["@odata.deltaLink"]
        .as_str()
        .expect("deltaLink")
        .to_string();
    env.put("microsoft", &drive, "three.txt", b"3").await;
    let (items, _, _) = delta_all(&env, &token, &latest_link).await;
    let names: Vec<&str> = items.iter().filter_map(|i| i["name"].as_str()).collect();
    assert_eq!(names, ["three.txt"]);
}

#[tokio::test]
async fn stale_token_answers_410_resync_with_location() {
    let (env, drive, token) = setup().await;
    env.put("microsoft", &drive, "a.txt", b"a").await;
    let (_, link, _) = delta_all(&env, &token, "/v1.0/me/drive/root/delta").await;
    env.control(&format!("/microsoft/{drive}/reset-cursors"), json!({}))
        .await;
    let (status, headers, body) = get(&env, &token, &link).await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(body["error"]["code"], "resyncRequired");
    assert_eq!(
        body["error"]["innerError"]["code"],
        "resyncChangesApplyDifferences"
    );
    let location = headers["location"].to_str().expect("Location").to_string();
    let (items, _, _) = delta_all(&env, &token, &location).await;
    assert!(
        named(&items, "a.txt").is_some(),
        "Location starts a full enumeration"
    );
}

#[tokio::test]
async fn content_redirects_to_a_preauthenticated_url() {
    let (env, drive, token) = setup().await;
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let id = env.put("microsoft", &drive, "big.bin", &data).await;

    let (status, _, item) = get(&env, &token, &format!("/v1.0/drives/{drive}/items/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(item["size"], data.len());
    assert_eq!(
        item["file"]["hashes"]["quickXorHash"],
        hashes::quick_xor_base64(&data)
    );
    assert_eq!(
        item["parentReference"]["path"],
        format!("/drives/{drive}/root:")
    );
    assert!(item["@microsoft.graph.downloadUrl"].as_str().is_some());

    let resp = env
        .http
        .get(env.url(&format!("/v1.0/me/drive/items/{id}/content")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with(&format!("{}/download/", env.sim.base_url())),
        "{location}"
    );

    // No Authorization header needed.
    let body = env.http.get(&location).send().await.unwrap();
    assert_eq!(body.status(), StatusCode::OK);
    assert_eq!(body.bytes().await.unwrap().as_ref(), &data[..]);
    let part = env
        .http
        .get(&location)
        .header("Range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 10-19/{}", data.len()).as_str()
    );
    assert_eq!(part.bytes().await.unwrap().as_ref(), &data[10..20]);

    // eTag match: 304.
    let etag = item["eTag"].as_str().unwrap();
    let not_modified = env
        .http
        .get(env.url(&format!("/v1.0/drives/{drive}/items/{id}/content")))
        .bearer_auth(&token)
        .header("If-None-Match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);

    // Expired and forged URLs are refused.
    let expired = env.sim.state().shared().download_urls.url_until(
        env.sim.base_url(),
        &id,
        chrono::Utc::now().timestamp() - 1,
    );
    assert_eq!(
        env.http.get(&expired).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let forged = format!("{location}x");
    assert_eq!(
        env.http.get(&forged).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    let counts = env.counts().await;
    let downloads: u64 = counts
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.starts_with("microsoft GET /download/"))
        .map(|(_, v)| v.as_u64().unwrap())
        .sum();
    assert!(downloads >= 4, "{counts}");
}

#[tokio::test]
async fn generated_file_hashes_match_its_bytes() {
    let (env, drive, token) = setup().await;
    env.control(
        &format!("/microsoft/{drive}/generate"),
        json!({"root": "gen", "files": 3, "bytes": 5_000_000, "depth": 0}),
    )
    .await;
    let (items, _, _) = delta_all(&env, &token, "/v1.0/me/drive/root/delta").await;
    let file = items
        .iter()
        .find(|i| i["file"].is_object())
        .expect("a generated file");
    let id = file["id"].as_str().unwrap();
    let resp = env
        .http
        .get(env.url(&format!("/v1.0/me/drive/items/{id}/content")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let bytes = env
        .http
        .get(&location)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes.len(), 5_000_000);
    assert_eq!(
        file["file"]["hashes"]["quickXorHash"],
        hashes::quick_xor_base64(&bytes)
    );
    assert_eq!(
        file["file"]["hashes"]["sha256Hash"],
        hashes::sha256_hex(&bytes).to_uppercase()
    );
}

#[tokio::test]
async fn children_page_with_skiptoken() {
    let (env, drive, token) = setup().await;
    for i in 0..5 {
        env.put("microsoft", &drive, &format!("dir/f{i}.txt"), b"x")
            .await;
    }
    let (_, _, root) = get(&env, &token, "/v1.0/me/drive/root/children").await;
    let dir = root["value"][0]["id"].as_str().expect("dir").to_string();
    let mut url = format!("/v1.0/drives/{drive}/items/{dir}/children?$top=2");
    let mut names = Vec::new();
    loop {
        let (status, _, page) = get(&env, &token, &url).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        names.extend(
            page["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["name"].as_str().unwrap().to_string()),
        );
        match page["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert_eq!(names, ["f0.txt", "f1.txt", "f2.txt", "f3.txt", "f4.txt"]);
}

#[tokio::test]
async fn sharepoint_sites_and_libraries() {
    let (env, _, token) = setup().await;
    let accounts = env
        .http
        .get(env.url("/_sim/accounts"))
        .send()
        .await
        .unwrap();
    let accounts: Value = accounts.json().await.unwrap();
    let ada = accounts
        .as_array()
        .or_else(|| accounts["accounts"].as_array())
        .and_then(|a| a.iter().find(|x| x["email"] == "ada@contoso.test"))
        .and_then(|a| a["id"].as_str().or(a["accountId"].as_str()))
        .expect("account id")
        .to_string();
    let site = env
        .control(
            "/microsoft/sites",
            json!({"name": "Marketing", "members": [ada]}),
        )
        .await;
    let site_id = site["siteId"].as_str().expect("siteId").to_string();
    let lib = site["driveId"].as_str().expect("driveId").to_string();
    env.put("microsoft", &lib, "Plans/q1.docx", b"plan").await;

    let (_, _, found) = get(&env, &token, "/v1.0/sites?search=market").await;
    assert_eq!(found["value"][0]["id"], site_id.as_str());
    let (_, _, none) = get(&env, &token, "/v1.0/sites?search=finance").await;
    assert_eq!(none["value"], json!([]));
    let (_, _, s) = get(&env, &token, &format!("/v1.0/sites/{site_id}")).await;
    assert_eq!(s["displayName"], "Marketing");
    let (_, _, drives) = get(&env, &token, &format!("/v1.0/sites/{site_id}/drives")).await;
    assert_eq!(drives["value"][0]["id"], lib.as_str());
    assert_eq!(drives["value"][0]["driveType"], "documentLibrary");
    let (_, _, d) = get(&env, &token, &format!("/v1.0/sites/{site_id}/drive")).await;
    assert_eq!(d["id"], lib.as_str());

    // A second library: listed after the default, reachable, not the default.
    let second = env
        .control(
            &format!("/microsoft/sites/{site_id}/libraries"),
            json!({"name": "Contracts"}),
        )
        .await;
    let contracts = second["driveId"].as_str().expect("driveId").to_string();
    env.put("microsoft", &contracts, "Acme/msa.pdf", b"msa")
        .await;
    let (_, _, drives) = get(&env, &token, &format!("/v1.0/sites/{site_id}/drives")).await;
    let names: Vec<&str> = drives["value"]
        .as_array()
        .expect("drives")
        .iter()
        .filter_map(|d| d["name"].as_str())
        .collect();
    assert_eq!(names, ["Documents", "Contracts"]);
    assert_eq!(drives["value"][1]["id"], contracts.as_str());
    let (_, _, d) = get(&env, &token, &format!("/v1.0/sites/{site_id}/drive")).await;
    assert_eq!(
        d["id"],
        lib.as_str(),
        "the default library stays the default"
    );
    let (items, _, _) = delta_all(
        &env,
        &token,
        &format!("/v1.0/drives/{contracts}/root/delta"),
    )
    .await;
    assert!(named(&items, "msa.pdf").is_some());
    let (items, _, _) = delta_all(
        &env,
        &token,
        &format!("/v1.0/sites/{site_id}/drive/root/delta"),
    )
    .await;
    let q1 = named(&items, "q1.docx").expect("library file");
    assert_eq!(q1["parentReference"]["siteId"], site_id.as_str());
}

#[tokio::test]
async fn auth_and_path_errors_answer_like_graph() {
    let (env, drive, token) = setup().await;
    let resp = env.http.get(env.url("/v1.0/me")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");

    let (status, _, body) = get(&env, "wrong-token", "/v1.0/me/drive").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");

    let (status, _, body) = get(&env, &token, &format!("/v1.0/drives/{drive}/items/01NOPE")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "itemNotFound");
    assert!(body["error"]["innerError"]["request-id"].is_string());

    let (status, _, body) = get(&env, &token, "/v1.0/drives/b!unknown/root/delta").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    let (status, _, body) = get(&env, &token, "/v1.0/nonsense/path").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "BadRequest");
    assert_eq!(
        body["error"]["message"],
        "Resource not found for the segment 'nonsense'."
    );

    env.control("/microsoft/tokens/expire", json!({})).await;
    let (status, _, body) = get(&env, &token, "/v1.0/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
}

#[tokio::test]
async fn throttling_answers_429_with_retry_after() {
    let (env, _, token) = setup().await;
    env.control(
        "/faults",
        json!({"provider": "microsoft", "endpoint": "/v1.0/me", "kind": "rate_limit", "count": 1, "retryAfterSeconds": 7}),
    )
    .await;
    let (status, headers, body) = get(&env, &token, "/v1.0/me").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(headers["retry-after"], "7");
    assert_eq!(body["error"]["code"], "activityLimitReached");
    let (status, _, _) = get(&env, &token, "/v1.0/me").await;
    assert_eq!(status, StatusCode::OK, "the fault fired once");

    env.control(
        "/faults",
        json!({"provider": "microsoft", "kind": "server_error", "count": 1}),
    )
    .await;
    let (status, _, body) = get(&env, &token, "/v1.0/me/drive").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body["error"]["code"].is_string());
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token() {
    let env = Env::start().await;
    env.account("microsoft", CLIENT, "bo@contoso.test", "Bo")
        .await;
    let code = env
        .authorize(
            "/organizations/oauth2/v2.0/authorize",
            &[
                ("client_id", CLIENT),
                ("response_type", "code"),
                ("redirect_uri", REDIRECT_URI),
                ("scope", "offline_access Files.Read.All"),
                ("state", "xyz"),
            ],
        )
        .await;
    let form = |grant: &'static str, key: &'static str, value: String| {
        vec![
            ("grant_type", grant.to_string()),
            ("client_id", CLIENT.to_string()),
            ("client_secret", "secret".to_string()),
            ("redirect_uri", REDIRECT_URI.to_string()),
            (key, value),
        ]
    };
    let post = |f: Vec<(&'static str, String)>| {
        let env = &env;
        async move {
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            env.token("/organizations/oauth2/v2.0/token", &pairs).await
        }
    };
    let (status, first) = post(form("authorization_code", "code", code)).await;
    assert_eq!(status, 200);
    let rt1 = first["refresh_token"].as_str().unwrap().to_string();
    let (status, second) = post(form("refresh_token", "refresh_token", rt1.clone())).await;
    assert_eq!(status, 200);
    let rt2 = second["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt1, rt2);
    let (status, reused) = post(form("refresh_token", "refresh_token", rt1)).await;
    assert_eq!(status, 400);
    assert_eq!(reused["error"], "invalid_grant");
    let access = second["access_token"].as_str().unwrap();
    let (status, _, _) = get(&env, access, "/v1.0/me").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn delta_links_and_tokens_survive_a_restart_with_state() {
    let dir = tempfile::tempdir().unwrap();
    let options = || cloudsim::SimOptions {
        state_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let env = Env::start_with(options()).await;
    let (_, drive) = env
        .account("microsoft", CLIENT, "ada@contoso.test", "Ada")
        .await;
    let token = connect(&env, "ada@contoso.test").await;
    env.put("microsoft", &drive, "a.txt", b"a").await;
    let (_, link, _) = delta_all(&env, &token, "/v1.0/me/drive/root/delta").await;
    let old_base = env.sim.base_url().to_string();
    env.sim.shutdown().await.unwrap();

    // A new port: the link's path and token carry over.
    let env = Env::start_with(options()).await;
    env.put("microsoft", &drive, "b.txt", b"b").await;
    let link = link.replace(&old_base, env.sim.base_url());
    let (items, _, _) = delta_all(&env, &token, &link).await;
    let names: Vec<&str> = items.iter().filter_map(|i| i["name"].as_str()).collect();
    assert_eq!(names, ["b.txt"]);
}

#[tokio::test]
async fn path_based_addressing() {
    let (env, drive, token) = setup().await;
    let id = env
        .put("microsoft", &drive, "My Docs/a b.txt", b"spaced")
        .await;
    let (status, _, item) = get(&env, &token, "/v1.0/me/drive/root:/My%20Docs/a%20b.txt:").await;
    assert_eq!(status, StatusCode::OK, "{item}");
    assert_eq!(item["id"], id.as_str());
    assert_eq!(
        item["parentReference"]["path"],
        format!("/drives/{drive}/root:/My%20Docs")
    );
    let (_, _, kids) = get(
        &env,
        &token,
        &format!("/v1.0/drives/{drive}/root:/my docs:/children"),
    )
    .await;
    assert_eq!(
        kids["value"][0]["id"],
        id.as_str(),
        "names match case-insensitively"
    );
    let resp = env
        .http
        .get(env.url("/v1.0/me/drive/root:/My%20Docs/a%20b.txt:/content"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let (status, _, body) = get(&env, &token, "/v1.0/me/drive/root:/nope.txt:").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "itemNotFound");
}

#[tokio::test]
async fn folder_scoped_delta_sees_only_its_subtree() {
    let (env, drive, token) = setup().await;
    env.put("microsoft", &drive, "in/a.txt", b"a").await;
    env.put("microsoft", &drive, "out/b.txt", b"b").await;
    let (_, _, root) = get(&env, &token, "/v1.0/me/drive/root:/in:").await;
    let folder = root["id"].as_str().unwrap().to_string();
    let first = format!("/v1.0/drives/{drive}/items/{folder}/delta");
    let (items, link, _) = delta_all(&env, &token, &first).await;
    let names: Vec<&str> = items.iter().filter_map(|i| i["name"].as_str()).collect();
    assert_eq!(names, ["in", "a.txt"]);
    env.put("microsoft", &drive, "out/c.txt", b"c").await;
    env.put("microsoft", &drive, "in/d.txt", b"d").await;
    let (changed, _, _) = delta_all(&env, &token, &link).await;
    let names: Vec<&str> = changed.iter().filter_map(|i| i["name"].as_str()).collect();
    assert_eq!(names, ["d.txt"]);
}

#[tokio::test]
async fn item_relative_path_addressing() {
    let (env, drive, token) = setup().await;
    let file = env
        .put("microsoft", &drive, "Top/Mid/Deep File.txt", b"deep")
        .await;
    let (_, _, top) = get(&env, &token, "/v1.0/me/drive/root:/Top:").await;
    let top = top["id"].as_str().unwrap().to_string();

    // Each addressing form of the item names the same file.
    for path in [
        format!("/v1.0/drives/{drive}/items/{top}:/Mid/Deep%20File.txt:"),
        format!("/v1.0/drives/{drive}/items/{top}:/mid/deep%20file.txt"),
        format!("/v1.0/me/drive/items/{top}:/Mid/Deep%20File.txt:"),
        format!("/v1.0/drives/{drive}/items/{top}:/Mid:/children"),
    ] {
        let (status, _, body) = get(&env, &token, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        let id = body.get("value").map_or(&body["id"], |v| &v[0]["id"]);
        assert_eq!(id, file.as_str(), "{path}");
    }
    // The drive root's id works as a base too (what rclone does for a
    // drive it was given by id).
    let (_, _, root) = get(&env, &token, &format!("/v1.0/drives/{drive}/root")).await;
    let root = root["id"].as_str().unwrap().to_string();
    let (status, _, body) = get(
        &env,
        &token,
        &format!("/v1.0/drives/{drive}/items/{root}:/Top/Mid:"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "Mid");
    assert!(body["folder"]["childCount"] == 1, "{body}");

    let resp = env
        .http
        .get(env.url(&format!(
            "/v1.0/drives/{drive}/items/{top}:/Mid/Deep%20File.txt:/content"
        )))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let bytes = env.http.get(location).send().await.unwrap().bytes().await;
    assert_eq!(bytes.unwrap().as_ref(), b"deep");

    // Unknown items and paths: Graph's 404 itemNotFound.
    for path in [
        format!("/v1.0/drives/{drive}/items/{top}:/Mid/nope.txt:"),
        format!("/v1.0/drives/{drive}/items/NOPE:/Mid:"),
        format!("/v1.0/drives/{drive}/items/NOPE"),
        format!("/v1.0/drives/{drive}/items/NOPE/children"),
        format!("/v1.0/drives/{drive}/items/NOPE/content"),
        "/v1.0/me/drive/items/NOPE".to_string(),
        "/v1.0/me/drive/items/NOPE:/a/b:/children".to_string(),
        "/v1.0/drives/NODRIVE/items/NOPE:/a:".to_string(),
    ] {
        let (status, _, body) = get(&env, &token, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(body["error"]["code"], "itemNotFound", "{path}");
    }
    // An unknown function of a known item stays Graph's 400.
    let (status, _, body) = get(
        &env,
        &token,
        &format!("/v1.0/drives/{drive}/items/{top}/bogus"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "BadRequest");
    // The item's delta still answers through the same route.
    let (status, _, body) = get(
        &env,
        &token,
        &format!("/v1.0/drives/{drive}/items/{top}/delta"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["@odata.deltaLink"].is_string(), "{body}");
}

/// Names with DEL, controls, non-ASCII and emoji download with headers a
/// client can read (the file name only in an encoded Content-Disposition).
#[tokio::test]
async fn downloads_of_odd_names_have_valid_headers() {
    let (env, drive, token) = setup().await;
    for (i, name) in ["del\u{7f}x", "ctl\u{1}x", "Résumé", "emoji 😀"]
        .iter()
        .enumerate()
    {
        let encoded: String = name
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let id = env
            .put(
                "microsoft",
                &drive,
                &format!("odd{i}/{encoded}"),
                name.as_bytes(),
            )
            .await;
        let resp = env
            .http
            .get(env.url(&format!("/v1.0/me/drive/items/{id}/content")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::FOUND, "{name:?}");
        let location = resp.headers()["location"].to_str().unwrap().to_string();
        let resp = env.http.get(location).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{name:?}");
        let disposition = resp.headers()["content-disposition"].to_str().unwrap();
        assert!(
            disposition.starts_with("attachment; filename*=UTF-8''"),
            "{disposition}"
        );
        assert_eq!(resp.bytes().await.unwrap().as_ref(), name.as_bytes());
    }
}

#[tokio::test]
async fn personal_onedrive_says_so_and_publishes_sha1() {
    let env = Env::start().await;
    env.control(
        "/clients",
        json!({"provider": "microsoft", "clientId": CLIENT, "clientSecret": "secret",
               "redirectUris": [REDIRECT_URI]}),
    )
    .await;
    let v = env
        .control(
            "/accounts",
            json!({"provider": "microsoft", "email": "pat@outlook.test", "driveType": "personal"}),
        )
        .await;
    let drive = v["driveId"].as_str().unwrap().to_string();
    let token = connect(&env, "pat@outlook.test").await;
    let id = env.put("microsoft", &drive, "p.txt", b"personal").await;
    let (_, _, d) = get(&env, &token, "/v1.0/me/drive").await;
    assert_eq!(d["driveType"], "personal", "{d}");
    let (_, _, item) = get(&env, &token, &format!("/v1.0/me/drive/items/{id}")).await;
    let sha1 = hex::encode(<sha1::Sha1 as sha1::Digest>::digest(b"personal")).to_uppercase();
    assert_eq!(item["file"]["hashes"]["sha1Hash"], sha1.as_str(), "{item}");
    assert!(item["file"]["hashes"]["quickXorHash"].is_string());
    assert!(item["file"]["hashes"].get("sha256Hash").is_none());
    assert_eq!(item["parentReference"]["driveType"], "personal");

    // Business stays the default, and nonsense is refused.
    let v = env
        .control(
            "/accounts",
            json!({"provider": "microsoft", "email": "biz@contoso.test"}),
        )
        .await;
    let business = v["driveId"].as_str().unwrap().to_string();
    let business_token = connect(&env, "biz@contoso.test").await;
    let id = env.put("microsoft", &business, "b.txt", b"b").await;
    let (_, _, item) = get(&env, &business_token, &format!("/v1.0/me/drive/items/{id}")).await;
    assert!(item["file"]["hashes"]["sha256Hash"].is_string(), "{item}");
    assert!(item["file"]["hashes"].get("sha1Hash").is_none());
    let resp = env
        .http
        .post(env.url("/_sim/accounts"))
        .json(&json!({"provider": "microsoft", "email": "x@y.test", "driveType": "team"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = env
        .http
        .post(env.url("/_sim/accounts"))
        .json(&json!({"provider": "dropbox", "email": "x@y.test", "driveType": "personal"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}
