//! Google end to end over HTTP: OAuth (PKCE, refresh, revoke, errors),
//! Drive files.list (paging, q, trashed, shared drives), changes, alt=media
//! with Range and md5, export and its limit, and Google-shaped errors.

use serde_json::{Value, json};

use crate::google_support::*;

// ----- OAuth ---------------------------------------------------------------

#[tokio::test]
async fn oauth_code_pkce_refresh_revoke() {
    let s = Sim2::start().await;
    s.google_account("alice@example.test").await;

    let url = s.authorize(&[]).await;
    assert!(url.as_str().starts_with(REDIRECT));
    assert_eq!(param(&url, "state").as_deref(), Some("st-123"));
    let code = param(&url, "code").expect("code");

    // A wrong PKCE verifier fails (and burns the code).
    let (status, v) = s
        .form(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", CLIENT_ID),
                ("client_secret", SECRET),
                ("redirect_uri", REDIRECT),
                (
                    "code_verifier",
                    "not-the-verifier-not-the-verifier-not-the-verifier",
                ),
            ],
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(v["error"], "invalid_grant");

    let code = s.code().await;
    let tok = s.exchange(&code).await;
    assert_eq!(tok["token_type"], "Bearer");
    assert!(tok["expires_in"].as_u64().unwrap() > 3000);
    let access = tok["access_token"].as_str().unwrap().to_string();
    let refresh = tok["refresh_token"]
        .as_str()
        .expect("offline gives a refresh token")
        .to_string();

    // Codes are single-use.
    let (status, v) = s
        .form(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", CLIENT_ID),
                ("client_secret", SECRET),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_eq!((status, v["error"].as_str()), (400, Some("invalid_grant")));

    let (status, about) = s.get_json(&access, "/drive/v3/about?fields=user").await;
    assert_eq!(status, 200, "{about}");
    assert_eq!(about["user"]["emailAddress"], "alice@example.test");
    assert_eq!(about["user"]["kind"], "drive#user");
    assert!(about.get("storageQuota").is_none(), "fields filters");

    // Refresh: a new access token and no new refresh token (Google).
    let refresh_form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("client_id", CLIENT_ID),
        ("client_secret", SECRET),
    ];
    let (status, v) = s.form("/token", &refresh_form).await;
    assert_eq!(status, 200, "{v}");
    assert!(v.get("refresh_token").is_none());
    let access2 = v["access_token"].as_str().unwrap().to_string();
    assert_ne!(access2, access);
    // The same refresh token works again (no rotation at Google).
    let (status, _) = s.form("/token", &refresh_form).await;
    assert_eq!(status, 200);

    // Revoke the refresh token: refresh fails with invalid_grant, its access tokens die.
    let (status, _) = s.form("/revoke", &[("token", &refresh)]).await;
    assert_eq!(status, 200);
    let (status, v) = s.form("/token", &refresh_form).await;
    assert_eq!(status, 400);
    assert_eq!(v["error"], "invalid_grant");
    assert_eq!(v["error_description"], "Token has been expired or revoked.");
    let (status, v) = s.get_json(&access2, "/drive/v3/about?fields=user").await;
    assert_eq!(status, 401);
    assert_eq!(v["error"]["errors"][0]["reason"], "authError");
}

#[tokio::test]
async fn oauth_client_and_redirect_errors() {
    let s = Sim2::start().await;
    s.google_account("alice@example.test").await;
    let code = s.code().await;
    let (status, v) = s
        .form(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", CLIENT_ID),
                ("client_secret", "wrong"),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(v["error"], "invalid_client");
    let (status, v) = s
        .form(
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", "x"),
                ("client_id", "nobody"),
            ],
        )
        .await;
    assert_eq!((status, v["error"].as_str()), (401, Some("invalid_client")));

    // Client credentials in HTTP Basic work too.
    let code = s.code().await;
    let resp = s
        .http
        .post(s.url("/token"))
        .basic_auth(CLIENT_ID, Some(SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // A redirect_uri that is not registered exactly gets an error page, no redirect.
    let resp = s
        .http
        .get(s.url("/o/oauth2/v2/auth"))
        .query(&[
            ("client_id", CLIENT_ID),
            ("redirect_uri", "http://127.0.0.1:9/oauth/callback/"),
            ("response_type", "code"),
            ("scope", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("redirect_uri_mismatch"));

    // login_hint picks the account; an unknown hint is refused.
    s.post(
        "/accounts",
        json!({"provider": "google", "email": "bob@example.test"}),
    )
    .await;
    let url = s.authorize(&[("login_hint", "bob@example.test")]).await;
    let tok = s.exchange(&param(&url, "code").unwrap()).await;
    let (_, about) = s
        .get_json(
            tok["access_token"].as_str().unwrap(),
            "/drive/v3/about?fields=user(emailAddress)",
        )
        .await;
    assert_eq!(about["user"]["emailAddress"], "bob@example.test");
}

#[tokio::test]
async fn consent_page_when_auto_approve_is_off() {
    let s = Sim2::start().await;
    s.google_account("alice@example.test").await;
    s.control(
        reqwest::Method::PATCH,
        "/settings",
        json!({"autoApprove": false}),
    )
    .await;
    let query = [
        ("client_id", CLIENT_ID),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "drive"),
        ("state", "abc"),
    ];
    let resp = s
        .http
        .get(s.url("/o/oauth2/v2/auth"))
        .query(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let page = resp.text().await.unwrap();
    assert!(page.contains("Allow"), "{page}");
    let mut silent: Vec<(&str, &str)> = query.to_vec();
    silent.push(("prompt", "none"));
    let resp = s
        .http
        .get(s.url("/o/oauth2/v2/auth"))
        .query(&silent)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let url = reqwest::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(param(&url, "error").as_deref(), Some("consent_required"));
    assert_eq!(param(&url, "state").as_deref(), Some("abc"));
    let mut form: Vec<(&str, &str)> = query.to_vec();
    form.push(("decision", "allow"));
    let resp = s
        .http
        .post(s.url("/o/oauth2/v2/auth"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let url = reqwest::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    assert!(param(&url, "code").is_some());
    assert_eq!(param(&url, "state").as_deref(), Some("abc"));
}

#[tokio::test]
async fn the_consent_page_lets_the_person_choose_another_account() {
    let s = Sim2::start().await;
    s.google_account("alice@example.test").await;
    s.post(
        "/accounts",
        json!({"provider": "google", "email": "bob@example.test", "displayName": "Bob"}),
    )
    .await;
    s.control(
        reqwest::Method::PATCH,
        "/settings",
        json!({"autoApprove": false}),
    )
    .await;
    let challenge = challenge(VERIFIER);
    let query = [
        ("client_id", CLIENT_ID),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "drive"),
        ("state", "abc"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let page = s
        .http
        .get(s.url("/o/oauth2/v2/auth"))
        .query(&query)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<option value=\"alice@example.test\" selected>"),
        "the first account is the one signed in: {page}"
    );
    assert!(
        page.contains("<option value=\"bob@example.test\">Bob (bob@example.test)</option>"),
        "{page}"
    );

    let mut form: Vec<(&str, &str)> = query.to_vec();
    form.push(("login_hint", "bob@example.test"));
    form.push(("decision", "allow"));
    let resp = s
        .http
        .post(s.url("/o/oauth2/v2/auth"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let url = reqwest::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let tok = s.exchange(&param(&url, "code").unwrap()).await;
    let (_, about) = s
        .get_json(
            tok["access_token"].as_str().unwrap(),
            "/drive/v3/about?fields=user(emailAddress)",
        )
        .await;
    assert_eq!(about["user"]["emailAddress"], "bob@example.test");
}

// ----- files.list ------------------------------------------------------------

#[tokio::test]
async fn files_list_pages_at_the_limit() {
    let s = Sim2::start().await;
    let (token, drive) = s.connect().await;
    let g = s
        .post(
            &format!("/google/{drive}/generate"),
            json!({"root": "big", "files": 2500, "bytes": 3, "depth": 0}),
        )
        .await;
    let folder = g["rootId"].as_str().unwrap().to_string();
    let q = enc(&format!("'{folder}' in parents and trashed = false"));
    let mut page_token = String::new();
    let mut sizes = Vec::new();
    let mut ids = std::collections::HashSet::new();
    loop {
        let (status, v) = s
            .get_json(
                &token,
                &format!("/drive/v3/files?q={q}&pageSize=1000&fields=nextPageToken,files(id,size)&pageToken={page_token}"),
            )
            .await;
        assert_eq!(status, 200, "{v}");
        let files = v["files"].as_array().unwrap();
        sizes.push(files.len());
        for f in files {
            assert_eq!(f["size"], "3", "int64 as a string");
            ids.insert(f["id"].as_str().unwrap().to_string());
        }
        match v["nextPageToken"].as_str() {
            Some(t) => page_token = t.to_string(),
            None => break,
        }
    }
    assert_eq!(sizes, vec![1000, 1000, 500]);
    assert_eq!(ids.len(), 2500);

    // Default page size 100 and default fields.
    let (_, v) = s.get_json(&token, &format!("/drive/v3/files?q={q}")).await;
    assert_eq!(v["files"].as_array().unwrap().len(), 100);
    assert_eq!(v["kind"], "drive#fileList");
    let first = v["files"][0].as_object().unwrap();
    let mut keys: Vec<&str> = first.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["id", "kind", "mimeType", "name"]);

    // Out of range is a 400; the configurable cap clamps.
    let (status, v) = s.get_json(&token, "/drive/v3/files?pageSize=1001").await;
    assert_eq!(status, 400);
    assert_eq!(v["error"]["errors"][0]["location"], "pageSize");
    // Without a parent the whole drive pages the same way: no duplicates, nothing lost.
    let (mut seen, mut page_token) = (std::collections::HashSet::new(), String::new());
    loop {
        let (_, v) = s
            .get_json(
                &token,
                &format!("/drive/v3/files?pageSize=997&pageToken={page_token}"),
            )
            .await;
        for f in v["files"].as_array().unwrap() {
            assert!(
                seen.insert(f["id"].as_str().unwrap().to_string()),
                "duplicate"
            );
        }
        match v["nextPageToken"].as_str() {
            Some(t) => page_token = t.to_string(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 2501, "2500 files and their folder");

    s.control(
        reqwest::Method::PATCH,
        "/settings",
        json!({"googleMaxPageSize": 100}),
    )
    .await;
    let (_, v) = s
        .get_json(&token, &format!("/drive/v3/files?q={q}&pageSize=1000"))
        .await;
    assert_eq!(v["files"].as_array().unwrap().len(), 100);
}

#[tokio::test]
async fn q_filters_trash_and_duplicates() {
    let s = Sim2::start().await;
    let (token, drive) = s.connect().await;
    s.put(&drive, "docs/a.txt", "a").await;
    let b = s.put(&drive, "docs/b.txt", "b").await;
    s.put(&drive, "docs/sub/c.txt", "c").await;
    s.put_with(&drive, "docs/a.txt", "a2", "duplicate=true")
        .await;
    s.put_with(
        &drive,
        "docs/Plan",
        "the plan",
        "mimeType=application/vnd.google-apps.document",
    )
    .await;
    s.post(
        &format!("/google/{drive}/trash"),
        json!({"path": "docs/b.txt"}),
    )
    .await;
    let docs = s
        .sim
        .state()
        .read(|w| w.resolve_path(&drive, "docs").unwrap().id.clone());

    let names = |v: &Value| -> Vec<String> {
        let mut n: Vec<String> = v["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap().to_string())
            .collect();
        n.sort();
        n
    };
    let list = |q: String| {
        let s = &s;
        let token = token.clone();
        async move {
            let (status, v) = s
                .get_json(&token, &format!("/drive/v3/files?q={}", enc(&q)))
                .await;
            assert_eq!(status, 200, "{v}");
            v
        }
    };
    let v = list(format!("'{docs}' in parents and trashed = false")).await;
    assert_eq!(names(&v), ["Plan", "a.txt", "a.txt", "sub"]);
    let v = list(format!("'{docs}' in parents and trashed = true")).await;
    assert_eq!(names(&v), ["b.txt"]);
    let v = list(format!(
        "'{docs}' in parents and mimeType = 'application/vnd.google-apps.folder'"
    ))
    .await;
    assert_eq!(names(&v), ["sub"]);
    let v = list(format!("'{docs}' in parents and mimeType != 'application/vnd.google-apps.folder' and trashed = false")).await;
    assert_eq!(names(&v), ["Plan", "a.txt", "a.txt"]);
    let v = list("'root' in parents".to_string()).await;
    assert_eq!(names(&v), ["docs"]);

    let (_, v) = s
        .get_json(
            &token,
            &format!(
                "/drive/v3/files?q={}&orderBy={}",
                enc(&format!("'{docs}' in parents and trashed = false")),
                enc("folder,name desc")
            ),
        )
        .await;
    let ordered: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(ordered, ["sub", "Plan", "a.txt", "a.txt"]);
    let (status, _) = s.get_json(&token, "/drive/v3/files?orderBy=bogus").await;
    assert_eq!(status, 400);
    let (_, v) = s
        .get_json(&token, "/drive/v3/files?spaces=appDataFolder")
        .await;
    assert!(v["files"].as_array().unwrap().is_empty());

    // Trashed items keep their metadata and say so.
    let (_, f) = s
        .get_json(
            &token,
            &format!("/drive/v3/files/{b}?fields=trashed,parents,name"),
        )
        .await;
    assert_eq!(f["trashed"], true);
    assert_eq!(f["parents"][0], docs.as_str());

    let (status, v) = s
        .get_json(
            &token,
            &format!("/drive/v3/files?q={}", enc("modifiedTime > 'x'")),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(v["error"]["errors"][0]["location"], "q");
}

#[tokio::test]
async fn shared_drives_need_the_flags() {
    let s = Sim2::start().await;
    let (token, _) = s.connect().await;
    let account = s
        .sim
        .state()
        .read(|w| w.accounts.keys().next().unwrap().clone());
    let d = s
        .post(
            "/google/shared-drives",
            json!({"name": "Team", "members": [account]}),
        )
        .await;
    let team = d["driveId"].as_str().unwrap().to_string();
    let id = s.put(&team, "spec.txt", "spec").await;

    let (_, v) = s.get_json(&token, "/drive/v3/files").await;
    assert!(v["files"].as_array().unwrap().is_empty(), "{v}");
    let (_, v) = s
        .get_json(&token, "/drive/v3/files?includeItemsFromAllDrives=true&supportsAllDrives=true&fields=files(id,driveId)")
        .await;
    assert_eq!(v["files"][0]["id"], id.as_str());
    assert_eq!(v["files"][0]["driveId"], team.as_str());
    let (status, v) = s
        .get_json(&token, &format!("/drive/v3/files?corpora=drive&driveId={team}&includeItemsFromAllDrives=true&supportsAllDrives=true"))
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["files"].as_array().unwrap().len(), 1);
    let (status, _) = s
        .get_json(
            &token,
            &format!("/drive/v3/files?corpora=drive&driveId={team}"),
        )
        .await;
    assert_eq!(status, 400);

    let (status, _) = s.get_json(&token, &format!("/drive/v3/files/{id}")).await;
    assert_eq!(status, 404);
    let (status, _) = s
        .get_json(
            &token,
            &format!("/drive/v3/files/{id}?supportsAllDrives=true"),
        )
        .await;
    assert_eq!(status, 200);

    let (_, v) = s.get_json(&token, "/drive/v3/drives").await;
    assert_eq!(v["drives"][0]["id"], team.as_str());
    assert_eq!(v["drives"][0]["name"], "Team");

    let (_, start) = s
        .get_json(
            &token,
            &format!("/drive/v3/changes/startPageToken?driveId={team}&supportsAllDrives=true"),
        )
        .await;
    let start = start["startPageToken"].as_str().unwrap().to_string();
    s.put(&team, "spec.txt", "spec v2").await;
    let (status, v) = s
        .get_json(
            &token,
            &format!("/drive/v3/changes?pageToken={start}&driveId={team}&supportsAllDrives=true&includeItemsFromAllDrives=true"),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["changes"][0]["fileId"], id.as_str());
    assert_eq!(v["changes"][0]["driveId"], team.as_str());
}

// ----- changes -------------------------------------------------------------------

#[tokio::test]
async fn changes_after_add_edit_rename_move_trash_delete() {
    let s = Sim2::start().await;
    let (token, drive) = s.connect().await;
    let keep = s.put(&drive, "old.txt", "x").await;
    let (status, v) = s.get_json(&token, "/drive/v3/changes/startPageToken").await;
    assert_eq!(status, 200);
    assert_eq!(v["kind"], "drive#startPageToken");
    let start = v["startPageToken"].as_str().unwrap().to_string();

    let added = s.put(&drive, "a/new.txt", "new").await;
    let edited = s.put(&drive, "old.txt", "edited").await;
    assert_eq!(edited, keep, "overwrite keeps the id");
    let renamed = s.put(&drive, "r.txt", "r").await;
    let moved = s.put(&drive, "m.txt", "m").await;
    let trashed = s.put(&drive, "t.txt", "t").await;
    let deleted = s.put(&drive, "d.txt", "d").await;
    s.post(
        &format!("/google/{drive}/move"),
        json!({"from": "r.txt", "to": "r2.txt"}),
    )
    .await;
    s.post(
        &format!("/google/{drive}/move"),
        json!({"from": "m.txt", "to": "a/m.txt"}),
    )
    .await;
    s.post(&format!("/google/{drive}/trash"), json!({"path": "t.txt"}))
        .await;
    s.http
        .delete(s.url(&format!("/_sim/google/{drive}/files/d.txt")))
        .send()
        .await
        .unwrap();

    // Page through with pageSize 2: nextPageToken until the last page, which has newStartPageToken.
    let mut token_now = start.clone();
    let mut changes: Vec<Value> = Vec::new();
    let new_start = loop {
        let (status, v) = s
            .get_json(
                &token,
                &format!("/drive/v3/changes?pageToken={token_now}&pageSize=2&fields=*"),
            )
            .await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["kind"], "drive#changeList");
        changes.extend(v["changes"].as_array().unwrap().iter().cloned());
        match (v["nextPageToken"].as_str(), v["newStartPageToken"].as_str()) {
            (Some(next), None) => token_now = next.to_string(),
            (None, Some(new_start)) => break new_start.to_string(),
            other => panic!("exactly one of nextPageToken/newStartPageToken: {other:?}"),
        }
    };
    let by_id = |id: &str| {
        changes
            .iter()
            .filter(|c| c["fileId"] == id)
            .cloned()
            .collect::<Vec<_>>()
    };
    for id in [&added, &edited, &renamed, &moved, &trashed, &deleted] {
        assert_eq!(by_id(id).len(), 1, "each changed file once: {id}");
    }
    let a_folder = s
        .sim
        .state()
        .read(|w| w.resolve_path(&drive, "a").unwrap().id.clone());
    assert_eq!(by_id(&added)[0]["file"]["parents"][0], a_folder.as_str());
    assert_eq!(by_id(&edited)[0]["file"]["size"], "6");
    assert_eq!(by_id(&renamed)[0]["file"]["name"], "r2.txt");
    assert_eq!(by_id(&moved)[0]["file"]["parents"][0], a_folder.as_str());
    assert_eq!(by_id(&trashed)[0]["file"]["trashed"], true);
    assert_eq!(by_id(&trashed)[0]["file"]["explicitlyTrashed"], true);
    assert!(by_id(&trashed)[0]["file"]["trashedTime"].is_string());
    assert_eq!(by_id(&trashed)[0]["removed"], false);
    let gone = &by_id(&deleted)[0];
    assert_eq!(gone["removed"], true);
    assert!(gone.get("file").is_none());
    assert_eq!(gone["changeType"], "file");

    // Without removals; and an empty page from the new start.
    let (_, v) = s
        .get_json(
            &token,
            &format!("/drive/v3/changes?pageToken={start}&includeRemoved=false&pageSize=100"),
        )
        .await;
    assert!(
        v["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["removed"] == false)
    );
    let (_, v) = s
        .get_json(&token, &format!("/drive/v3/changes?pageToken={new_start}"))
        .await;
    assert!(v["changes"].as_array().unwrap().is_empty());
    assert_eq!(v["newStartPageToken"], new_start.as_str());

    let (status, v) = s.get_json(&token, "/drive/v3/changes").await;
    assert_eq!(status, 400);
    assert_eq!(v["error"]["errors"][0]["reason"], "required");
}

// ----- bytes ---------------------------------------------------------------------

#[tokio::test]
async fn alt_media_range_and_md5() {
    let s = Sim2::start().await;
    let (token, drive) = s.connect().await;
    let bytes: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
    let id = s.put(&drive, "data.bin", bytes.clone()).await;
    let empty = s.put(&drive, "empty.bin", Vec::new()).await;
    let doc = s
        .put_with(
            &drive,
            "Doc",
            "hello",
            "mimeType=application/vnd.google-apps.document",
        )
        .await;

    let (_, meta) = s
        .get_json(
            &token,
            &format!("/drive/v3/files/{id}?fields=md5Checksum,size,mimeType"),
        )
        .await;
    assert_eq!(meta["md5Checksum"], md5_hex(&bytes));
    assert_eq!(meta["size"], "1000");
    assert_eq!(meta["mimeType"], "application/octet-stream");

    let resp = s
        .get(&token, &format!("/drive/v3/files/{id}?alt=media"))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().to_vec(), bytes);

    let resp = s
        .http
        .get(s.url(&format!("/drive/v3/files/{id}?alt=media")))
        .bearer_auth(&token)
        .header("Range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(resp.headers()["content-range"], "bytes 100-199/1000");
    assert_eq!(
        resp.bytes().await.unwrap().to_vec(),
        bytes[100..200].to_vec()
    );

    let resp = s
        .http
        .get(s.url(&format!("/drive/v3/files/{empty}?alt=media")))
        .bearer_auth(&token)
        .header("Range", "bytes=0-1023")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 416);
    assert_eq!(resp.headers()["content-range"], "bytes */0");

    let (status, v) = s
        .get_json(&token, &format!("/drive/v3/files/{doc}?alt=media"))
        .await;
    assert_eq!(status, 403);
    assert_eq!(v["error"]["errors"][0]["reason"], "fileNotDownloadable");
    let (_, meta) = s
        .get_json(
            &token,
            &format!("/drive/v3/files/{doc}?fields=md5Checksum,size"),
        )
        .await;
    assert!(meta.get("md5Checksum").is_none(), "no md5 for Docs files");
}

#[tokio::test]
async fn export_and_its_size_limit() {
    let s = Sim2::start().await;
    let (token, drive) = s.connect().await;
    let doc = s
        .put_with(
            &drive,
            "Report",
            "report body",
            "mimeType=application/vnd.google-apps.document",
        )
        .await;
    let docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    let resp = s
        .get(
            &token,
            &format!("/drive/v3/files/{doc}/export?mimeType={}", enc(docx)),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], docx);
    let first = resp.bytes().await.unwrap();
    assert!(first.ends_with(b"report body"));
    let again = s
        .get(
            &token,
            &format!("/drive/v3/files/{doc}/export?mimeType={}", enc(docx)),
        )
        .await;
    assert_eq!(again.bytes().await.unwrap(), first, "deterministic");

    let (status, v) = s
        .get_json(
            &token,
            &format!("/drive/v3/files/{doc}/export?mimeType=image%2Fpng"),
        )
        .await;
    assert_eq!(status, 400, "{v}");
    let (status, v) = s
        .get_json(&token, &format!("/drive/v3/files/{doc}/export"))
        .await;
    assert_eq!(
        (status, v["error"]["errors"][0]["reason"].as_str()),
        (400, Some("required"))
    );

    let big = vec![b'x'; 11 * 1024 * 1024];
    let sheet = s
        .put_with(
            &drive,
            "Huge",
            big,
            "mimeType=application/vnd.google-apps.spreadsheet",
        )
        .await;
    let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    let (status, v) = s
        .get_json(
            &token,
            &format!("/drive/v3/files/{sheet}/export?mimeType={}", enc(xlsx)),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(v["error"]["errors"][0]["reason"], "exportSizeLimitExceeded");

    // exportLinks point at cloudsim and have no such cap.
    let (_, meta) = s
        .get_json(
            &token,
            &format!("/drive/v3/files/{sheet}?fields=exportLinks"),
        )
        .await;
    let link = meta["exportLinks"][xlsx].as_str().unwrap();
    assert!(link.starts_with(s.sim.base_url()), "{link}");
    let resp = s.http.get(link).bearer_auth(&token).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.bytes().await.unwrap().len() > 11 * 1024 * 1024);

    let bin = s.put(&drive, "x.bin", "x").await;
    let (status, _) = s
        .get_json(
            &token,
            &format!("/drive/v3/files/{bin}/export?mimeType=application%2Fpdf"),
        )
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn shortcuts_have_details() {
    let s = Sim2::start().await;
    let (token, drive) = s.connect().await;
    let target = s.put(&drive, "t.txt", "t").await;
    let v = s
        .post(
            &format!("/google/{drive}/shortcut"),
            json!({"path": "links/to-t", "target": "t.txt"}),
        )
        .await;
    let id = v["id"].as_str().unwrap();
    let (_, f) = s
        .get_json(
            &token,
            &format!("/drive/v3/files/{id}?fields=mimeType,shortcutDetails,size"),
        )
        .await;
    assert_eq!(f["mimeType"], "application/vnd.google-apps.shortcut");
    assert_eq!(f["shortcutDetails"]["targetId"], target.as_str());
    assert_eq!(f["shortcutDetails"]["targetMimeType"], "text/plain");
    assert!(f.get("size").is_none());
}

// ----- errors ----------------------------------------------------------------------

#[tokio::test]
async fn unknown_path_and_wrong_token_answer_like_google() {
    let s = Sim2::start().await;
    let (token, _) = s.connect().await;
    let resp = s.get(&token, "/drive/v3/nope").await;
    assert_eq!(resp.status(), 404);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["code"], 404);
    assert_eq!(v["error"]["errors"][0]["reason"], "notFound");

    let resp = s
        .http
        .delete(s.url("/drive/v3/about"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    let v: Value = resp.json().await.unwrap();
    assert!(v["error"]["errors"][0]["reason"].is_string(), "{v}");

    let (status, v) = s.get_json("ya29.wrong", "/drive/v3/files").await;
    assert_eq!(status, 401);
    assert_eq!(v["error"]["code"], 401);
    assert_eq!(v["error"]["message"], "Invalid Credentials");
    assert_eq!(v["error"]["errors"][0]["reason"], "authError");
    assert_eq!(v["error"]["errors"][0]["location"], "Authorization");
    let resp = s.http.get(s.url("/drive/v3/files")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(
        v["error"]["errors"][0]["reason"], "required",
        "no credentials: Login Required"
    );

    let (status, v) = s.get_json(&token, "/drive/v3/files/doesnotexist").await;
    assert_eq!(status, 404);
    assert_eq!(v["error"]["message"], "File not found: doesnotexist.");

    let (status, v) = s.get_json(&token, "/drive/v3/about").await;
    assert_eq!(status, 400, "about needs fields");
    assert_eq!(v["error"]["errors"][0]["reason"], "required");
}

/// The query language over HTTP: `or`, `not`, parentheses, dates,
/// `starred`, rclone's own queries, paging across several parents, and
/// Drive's 400 for what it refuses.
#[tokio::test]
async fn files_list_query_language() {
    let s = Sim2::start().await;
    let (token, drive) = s.connect().await;
    s.put(&drive, "a/one.txt", "1").await;
    s.put(&drive, "a/two.md", "2").await;
    s.put(&drive, "b/three.txt", "3").await;
    s.put_with(
        &drive,
        "b/sub",
        Vec::new(),
        "mimeType=application/vnd.google-apps.folder",
    )
    .await;
    s.put(&drive, "c/four.txt", "4").await;
    s.put(&drive, "c/it's.txt", "5").await;
    let id = |path: &str| {
        s.sim
            .state()
            .read(|w| w.resolve_path(&drive, path).unwrap().id.clone())
    };
    let (a, b, c) = (id("a"), id("b"), id("c"));
    let list = |q: String| {
        let s = &s;
        let token = token.clone();
        async move {
            let (status, v) = s
                .get_json(
                    &token,
                    &format!("/drive/v3/files?q={}&pageSize=1000", enc(&q)),
                )
                .await;
            assert_eq!(status, 200, "{q}: {v}");
            let mut names: Vec<String> = v["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["name"].as_str().unwrap().to_string())
                .collect();
            names.sort();
            names
        }
    };
    // rclone's listing of several folders at once.
    assert_eq!(
        list(format!(
            "('{a}' in parents or '{b}' in parents) and trashed=false"
        ))
        .await,
        ["one.txt", "sub", "three.txt", "two.md"]
    );
    // rclone's folder lookup by name.
    assert_eq!(
        list(format!(
            "trashed=false and ('{b}' in parents) and (name='sub') and \
             (mimeType='application/vnd.google-apps.folder' or mimeType='application/vnd.google-apps.shortcut')"
        ))
        .await,
        ["sub"]
    );
    assert_eq!(
        list(format!("'{a}' in parents and not name contains '.txt'")).await,
        ["two.md"]
    );
    assert_eq!(
        list(r"name = 'it\'s.txt' or name = 'three.txt'".to_string()).await,
        ["it's.txt", "three.txt"]
    );
    assert_eq!(
        list(format!("'{c}' in parents and starred = false")).await,
        ["four.txt", "it's.txt"]
    );
    assert!(list("starred = true".to_string()).await.is_empty());
    assert_eq!(
        list(format!(
            "'{c}' in parents and modifiedTime > '2000-01-01T00:00:00Z' and createdTime <= '2999-12-31'"
        ))
        .await,
        ["four.txt", "it's.txt"]
    );
    assert!(
        list(format!(
            "'{c}' in parents and modifiedTime < '2000-01-01T00:00:00Z'"
        ))
        .await
        .is_empty()
    );
    assert_eq!(
        list("mimeType contains 'folder' and not name = 'sub'".to_string()).await,
        ["a", "b", "c"]
    );

    // Pages over several parents follow the order the query names them.
    let q = format!("'{c}' in parents or '{a}' in parents");
    let (_, first) = s
        .get_json(&token, &format!("/drive/v3/files?q={}&pageSize=3", enc(&q)))
        .await;
    let page_token = first["nextPageToken"].as_str().expect("a second page");
    let (_, second) = s
        .get_json(
            &token,
            &format!(
                "/drive/v3/files?q={}&pageSize=3&pageToken={page_token}",
                enc(&q)
            ),
        )
        .await;
    let names: Vec<&str> = first["files"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["files"].as_array().unwrap())
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["four.txt", "it's.txt", "one.txt", "two.md"]);

    for bad in [
        "name = 'a' or",
        "(name = 'a'",
        "trashed = 'yes'",
        "name > 'a'",
        "modifiedTime > 'yesterday'",
        "parents in 'x'",
    ] {
        let (status, v) = s
            .get_json(&token, &format!("/drive/v3/files?q={}", enc(bad)))
            .await;
        assert_eq!(status, 400, "{bad}: {v}");
        assert_eq!(v["error"]["errors"][0]["reason"], "invalid", "{bad}");
        assert_eq!(v["error"]["errors"][0]["location"], "q", "{bad}");
        assert_eq!(v["error"]["message"], "Invalid Value", "{bad}");
    }
    let (status, v) = s
        .get_json(
            &token,
            &format!("/drive/v3/files?q={}", enc("fullText contains 'x'")),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        v["error"]["message"].as_str().unwrap().contains("fullText"),
        "{v}"
    );
}

/// A MIME type a header cannot hold (set through the control API) serves
/// the bytes as application/octet-stream instead of failing.
#[tokio::test]
async fn download_with_an_unusable_mime_type() {
    let s = Sim2::start().await;
    let (token, drive) = s.connect().await;
    let id = s
        .put_with(&drive, "odd.bin", "bytes", "mimeType=text/x-odd%7F%01")
        .await;
    let resp = s
        .get(&token, &format!("/drive/v3/files/{id}?alt=media"))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/octet-stream");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), b"bytes");
}

/// A registered redirect URI holding what a header cannot (a space, a
/// control, non-ASCII) still redirects: the Location is percent-encoded.
#[tokio::test]
async fn authorize_redirect_to_an_unusual_uri_is_a_valid_header() {
    let s = Sim2::start().await;
    s.google_account("odd@example.test").await;
    let odd = "http://127.0.0.1:9/call back/\u{e9}\u{7f}";
    s.post(
        "/clients",
        json!({"provider": "google", "clientId": "odd-client", "clientSecret": "x",
               "redirectUris": [odd]}),
    )
    .await;
    let resp = s
        .http
        .get(s.url("/o/oauth2/v2/auth"))
        .query(&[
            ("client_id", "odd-client"),
            ("redirect_uri", odd),
            ("response_type", "code"),
            ("scope", "https://www.googleapis.com/auth/drive"),
            ("state", "s"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let location = resp.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with("http://127.0.0.1:9/call%20back/%C3%A9%7F?"),
        "{location}"
    );
    assert!(location.contains("code=") && location.contains("state=s"));
}
