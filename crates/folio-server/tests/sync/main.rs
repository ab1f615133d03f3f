//! `POST /api/libraries/{id}/_sync`, `/syncs` and `/api/progress/{id}` over
//! real HTTP: Folio and cloudsim in-process, a library connected through
//! the real OAuth flow, on SQLite or (with FOLIO_TEST_DATABASE_URL)
//! PostgreSQL.

use folio_server::ServerConfig;
use folio_testkit::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

const SECRET: &str = "sim-client-secret-sync";

struct World {
    app: TestApp,
    sim: cloudsim::SimHandle,
    http: reqwest::Client,
}

impl World {
    async fn start() -> World {
        let sim = cloudsim::Sim::start(cloudsim::SimOptions::default())
            .await
            .expect("cloudsim");
        let app = TestApp::spawn_with(ServerConfig {
            allow_private_provider_urls: true,
            ..ServerConfig::default()
        })
        .await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let world = World { app, sim, http };
        let redirect = world.app.url("/api/oauth/callback");
        world
            .sim(
                "POST",
                "/_sim/clients",
                json!({"provider": "google", "clientId": "folio-google",
                "clientSecret": SECRET, "redirectUris": [redirect]}),
            )
            .await;
        world
            .sim(
                "POST",
                "/_sim/accounts",
                json!({"provider": "google", "email": "a@example.com", "displayName": "A"}),
            )
            .await;
        world
    }

    async fn sim(&self, method: &str, path: &str, body: Value) -> Value {
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let response = self
            .http
            .request(method, format!("{}{path}", self.sim.base_url()))
            .json(&body)
            .send()
            .await
            .expect("sim");
        assert!(
            response.status().is_success(),
            "cloudsim {path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    async fn put(&self, drive: &str, path: &str, bytes: &[u8]) {
        let response = self
            .http
            .put(format!(
                "{}/_sim/google/{drive}/files/{path}",
                self.sim.base_url()
            ))
            .body(bytes.to_vec())
            .send()
            .await
            .expect("put");
        assert!(response.status().is_success());
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.app.as_token(&self.app.admin_token, method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// A Google Drive library `docs` connected to cloudsim's account; the
    /// account's drive id.
    async fn connected_library(&self) -> String {
        let base = self.sim.base_url().to_owned();
        let (status, integration) = self
            .call(Method::POST, "/api/integrations", Some(json!({"type": "google-drive", "name": "sim",
                "clientId": "folio-google", "clientSecret": SECRET, "authUri": format!("{base}/o/oauth2/v2/auth"),
                "tokenUri": format!("{base}/token"), "apiUri": base})))
            .await;
        assert_eq!(status, 201, "{integration}");
        let (status, library) = self
            .call(
                Method::POST,
                "/api/libraries",
                Some(json!({"name": "docs", "naturalId": "docs", "type": "google-drive"})),
            )
            .await;
        assert_eq!(status, 201, "{library}");
        let (status, body) = self
            .call(
                Method::PUT,
                "/api/libraries/docs/integration",
                Some(json!({"integrationId": integration["id"]})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let authorize = self
            .http
            .get(self.app.url("/api/libraries/docs/connection/authorize"))
            .bearer_auth(&self.app.admin_token)
            .send()
            .await
            .expect("authorize");
        assert_eq!(authorize.status(), 302);
        let provider = location(&authorize);
        let approved = self.http.get(provider).send().await.expect("approve");
        assert_eq!(approved.status(), 302);
        let callback = self
            .http
            .get(location(&approved))
            .send()
            .await
            .expect("callback");
        assert!(
            callback.status().is_success() || callback.status().is_redirection(),
            "{}",
            callback.status()
        );
        let accounts = self.sim("GET", "/_sim/requests", json!({})).await;
        let _ = accounts;
        let (_, conn) = self
            .call(Method::GET, "/api/libraries/docs/connection", None)
            .await;
        conn["providerAccountId"]
            .as_str()
            .expect("account id")
            .to_owned()
    }
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("location")
        .to_owned()
}

#[tokio::test]
async fn sync_route_answers_the_contract_shape_and_records_history() {
    let world = World::start().await;
    // Before any connection: 409.
    let (status, _) = world
        .call(
            Method::POST,
            "/api/libraries",
            Some(json!({"name": "lone", "naturalId": "lone", "type": "google-drive"})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, body) = world
        .call(Method::POST, "/api/libraries/lone/_sync", None)
        .await;
    assert_eq!(status, 409, "{body}");

    let drive = world.connected_library().await;
    world.put(&drive, "a.txt", b"alpha").await;
    world.put(&drive, "sub/b.txt", b"bravo").await;
    let (status, result) = world
        .call(
            Method::POST,
            "/api/libraries/docs/_sync",
            Some(json!({"progress": "p-1"})),
        )
        .await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(
        result,
        json!({"syncedFiles": 2, "addedFiles": 2, "updatedFiles": 0, "deletedFiles": 0, "errors": []})
    );
    let (status, file) = world
        .call(Method::GET, "/api/libraries/docs/files/sub/b.txt", None)
        .await;
    assert_eq!((status, file), (200, Value::String("bravo".into())));

    let (status, progress) = world.call(Method::GET, "/api/progress/p-1", None).await;
    assert_eq!(status, 200, "{progress}");
    assert_eq!(
        (progress["status"].as_str(), progress["done"].as_i64()),
        (Some("done"), Some(2))
    );

    let (status, again) = world
        .call(Method::POST, "/api/libraries/docs/_sync", Some(json!({})))
        .await;
    assert_eq!(status, 200);
    assert_eq!(again["addedFiles"], 0);

    let (status, history) = world
        .call(Method::GET, "/api/libraries/docs/syncs", None)
        .await;
    assert_eq!(status, 200);
    let items = history["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{history}");
    assert_eq!(items[1]["trigger"], "manual");
    assert_eq!(items[1]["status"], "done");
    assert_eq!(items[1]["addedFiles"], 2);

    let (status, body) = world
        .call(
            Method::POST,
            "/api/libraries/docs/_sync",
            Some(json!({"purge": "yes"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn a_second_sync_gets_409_with_the_running_progress_id_and_a_revoked_grant_422() {
    let world = std::sync::Arc::new(World::start().await);
    let drive = world.connected_library().await;
    world.put(&drive, "slow.txt", b"slow bytes").await;
    world
        .sim(
            "POST",
            "/_sim/faults",
            json!({"provider": "google", "kind": "latency", "latencyMs": 1500, "count": 1}),
        )
        .await;
    let first = {
        let world = world.clone();
        tokio::spawn(async move {
            world
                .call(
                    Method::POST,
                    "/api/libraries/docs/_sync",
                    Some(json!({"progress": "long-one"})),
                )
                .await
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let (status, body) = world
        .call(Method::POST, "/api/libraries/docs/_sync", None)
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("long-one")),
        "{body}"
    );
    let (status, progress) = world
        .call(Method::GET, "/api/progress/long-one", None)
        .await;
    assert_eq!(
        (status, progress["status"].as_str()),
        (200, Some("running")),
        "{progress}"
    );
    let (status, result) = first.await.expect("first sync");
    assert_eq!(
        (status, result["addedFiles"].as_i64()),
        (200, Some(1)),
        "{result}"
    );

    world
        .sim("POST", "/_sim/google/tokens/revoke", json!({}))
        .await;
    world.put(&drive, "more.txt", b"more").await;
    let (status, body) = world
        .call(Method::POST, "/api/libraries/docs/_sync", None)
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("reconnect")),
        "{body}"
    );
}

#[tokio::test]
async fn connection_folders_lists_remote_folders_with_the_source_to_pick() {
    let world = World::start().await;
    let (status, _) = world
        .call(
            Method::POST,
            "/api/libraries",
            Some(json!({"name": "lone", "naturalId": "lone", "type": "google-drive"})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, body) = world
        .call(Method::GET, "/api/libraries/lone/connection/folders", None)
        .await;
    assert_eq!(status, 409, "no connection yet: {body}");

    let drive = world.connected_library().await;
    world.put(&drive, "Reports/q1.txt", b"q1").await;
    world.put(&drive, "Reports/2026/q2.txt", b"q2").await;
    world.put(&drive, "top.txt", b"t").await;
    let (status, root) = world
        .call(Method::GET, "/api/libraries/docs/connection/folders", None)
        .await;
    assert_eq!(status, 200, "{root}");
    let items = root["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "only folders, not files: {root}");
    assert_eq!(items[0]["name"], "Reports");
    let reports = items[0]["id"].as_str().expect("id").to_owned();
    assert_eq!(items[0]["source"]["folderId"], reports.as_str());

    let (status, nested) = world
        .call(
            Method::GET,
            &format!("/api/libraries/docs/connection/folders?parent={reports}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{nested}");
    let names: Vec<&str> = nested["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert_eq!(names, ["2026"]);
}
