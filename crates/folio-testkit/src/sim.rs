//! Folio and cloudsim together, for tests that connect and sync libraries:
//! cloudsim started in-process on a random port, an OAuth client and an
//! account registered at it, and libraries connected to that account through
//! the real OAuth flow (authorize, cloudsim approves at once, callback), as
//! an operator connects one.
//!
//! Reading order: [`Provider`] (a cloudsim provider, a view of the
//! registry's profiles),
//! [`Cloudsim`] (the emulator and its `/_sim` control API, described in
//! cloudsim's README), [`connect_library`] (the flow, on any [`TestApp`], such as one
//! replica of several), then [`SimWorld`] (one server, cloudsim and one
//! account: the usual set-up).

use folio_connectors::registry;
use folio_domain::provider::OAuthProfile;
use folio_domain::{LibraryType, ProviderKind};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::TestApp;

/// The client secret of every OAuth client these helpers register; long
/// enough for a leak scan to look for.
pub const CLIENT_SECRET: &str = "sim-client-secret-6f1d2c9a";

/// A provider cloudsim emulates: one OAuth server of Folio's registry
/// (Google, Microsoft for OneDrive and SharePoint, Dropbox), seen through
/// the [`ProviderKind`] of its personal drive. A thin view: its names and
/// endpoints come from the provider's profile, not from a table here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Provider(ProviderKind);

// Named like the variants of an enum, as the tests read them.
#[allow(non_upper_case_globals)]
impl Provider {
    pub const Google: Provider = Provider(ProviderKind::GoogleDrive);
    pub const Microsoft: Provider = Provider(ProviderKind::OneDrive);
    pub const Dropbox: Provider = Provider(ProviderKind::Dropbox);

    /// The provider serving `kind`: the first kind that signs in at the
    /// same OAuth server (SharePoint is Microsoft's, as OneDrive).
    pub fn of(kind: ProviderKind) -> Self {
        let server = registry::profile(kind).oauth;
        let first = ProviderKind::ALL
            .iter()
            .copied()
            .find(|&k| registry::profile(k).oauth.same_server(server))
            .unwrap_or(kind);
        Self(first)
    }

    /// The provider of a library type (`google-drive`, `onedrive`,
    /// `sharepoint`, `dropbox`).
    ///
    /// # Panics
    /// On a type no provider serves (`local`).
    pub fn of_library_type(library_type: &str) -> Self {
        match library_type
            .parse::<LibraryType>()
            .map(LibraryType::provider)
        {
            Ok(Some(kind)) => Self::of(kind),
            _ => panic!("no cloudsim provider serves library type '{library_type}'"),
        }
    }

    fn oauth(self) -> &'static OAuthProfile {
        registry::profile(self.0).oauth
    }

    /// Its name in cloudsim's control API and request counters: its
    /// profile's label.
    pub fn sim_name(self) -> &'static str {
        self.oauth().label
    }

    /// The library type of its personal drive.
    pub fn library_type(self) -> &'static str {
        self.0.as_str()
    }

    /// The OAuth client id these helpers register for it.
    pub fn client_id(self) -> String {
        format!("folio-{}", self.sim_name())
    }

    /// Path of its authorize endpoint on cloudsim: the real one's, with
    /// the default tenant.
    pub fn auth_path(self) -> String {
        self.default_path(self.oauth().authorize_uri)
    }

    /// Its file download endpoint, as a fault selects it (cloudsim counts
    /// downloads under it, apart from the metadata calls).
    pub fn download_endpoint(self) -> &'static str {
        match self.0 {
            ProviderKind::GoogleDrive => "GET /drive/v3/files/{fileId}?alt=media",
            ProviderKind::OneDrive | ProviderKind::SharePoint => "GET /download/{token}",
            ProviderKind::Dropbox => "POST /2/files/download",
        }
    }

    /// Path of its token endpoint on cloudsim: the real one's, with the
    /// default tenant.
    pub fn token_path(self) -> String {
        self.default_path(self.oauth().token_uri)
    }

    /// The path of one of the profile's endpoints (cloudsim serves the
    /// real paths).
    ///
    /// # Panics
    /// When the profile's endpoint is not a URL (a registry mistake).
    fn default_path(self, uri: &str) -> String {
        let uri = uri.replace("{tenant}", self.oauth().default_tenant.unwrap_or(""));
        reqwest::Url::parse(&uri)
            .expect("a profile's endpoint is a URL")
            .path()
            .to_owned()
    }
}

/// An account made at cloudsim (`POST /_sim/accounts`).
#[derive(Debug, Clone)]
pub struct SimAccount {
    pub account_id: String,
    /// Its personal drive.
    pub drive_id: String,
}

/// cloudsim in-process on 127.0.0.1 and a random port, with a client for
/// its control API that does not follow redirects (so an OAuth flow can be
/// walked step by step).
pub struct Cloudsim {
    handle: cloudsim::SimHandle,
    http: reqwest::Client,
}

impl Cloudsim {
    /// # Panics
    /// When cloudsim cannot start: a test cannot go on without it.
    pub async fn start() -> Self {
        let handle = cloudsim::Sim::start(cloudsim::SimOptions::default())
            .await
            .expect("cloudsim");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        Self { handle, http }
    }

    /// The running emulator.
    pub fn handle(&self) -> &cloudsim::SimHandle {
        &self.handle
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn base_url(&self) -> &str {
        self.handle.base_url()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    /// The client that does not follow redirects.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// A call to the control API with a JSON body; fails the test unless it
    /// succeeds. The answer's JSON, or null when it has none.
    pub async fn call(&self, method: Method, path: &str, body: Value) -> Value {
        let response = self
            .http
            .request(method, self.url(path))
            .json(&body)
            .send()
            .await
            .expect("cloudsim request");
        assert!(
            response.status().is_success(),
            "cloudsim {path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        self.call(Method::POST, path, body).await
    }

    /// Writes a file into `drive` (parent folders made as needed); its JSON
    /// (`{"id"}`).
    pub async fn put_file(
        &self,
        provider: Provider,
        drive: &str,
        path: &str,
        bytes: &[u8],
    ) -> Value {
        let url = self.url(&format!(
            "/_sim/{}/{drive}/files/{path}",
            provider.sim_name()
        ));
        let response = self
            .http
            .put(url)
            .body(bytes.to_vec())
            .send()
            .await
            .expect("cloudsim put");
        assert!(
            response.status().is_success(),
            "cloudsim put {path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    /// Every request counter (`{"<provider> <METHOD> <route>": n}`).
    pub async fn request_counts(&self) -> Value {
        self.call(Method::GET, "/_sim/requests", json!({})).await["counts"].clone()
    }

    /// One request counter; 0 when that request was not made.
    pub async fn request_count(&self, key: &str) -> u64 {
        self.request_counts().await[key].as_u64().unwrap_or(0)
    }

    /// How many files of `provider` were downloaded (exports not counted).
    pub async fn downloads(&self, provider: Provider) -> u64 {
        let key = format!("{} {}", provider.sim_name(), provider.download_endpoint());
        self.request_count(&key).await
    }

    pub async fn reset_request_counts(&self) {
        self.call(Method::DELETE, "/_sim/requests", json!({})).await;
    }

    /// Makes `files` files of `bytes` bytes each under `root` of `drive`,
    /// spread over folders `depth` deep (their bytes are made on demand).
    pub async fn generate(
        &self,
        provider: Provider,
        drive: &str,
        root: &str,
        files: u32,
        bytes: u64,
        depth: u32,
    ) {
        let path = format!("/_sim/{}/{drive}/generate", provider.sim_name());
        let body = json!({"root": root, "files": files, "bytes": bytes, "depth": depth});
        self.post(&path, body).await;
    }

    /// Requests of `provider` to `endpoint` (every endpoint when `None`)
    /// wait `latency_ms` first: the next `count` of them, or all when
    /// `None`.
    pub async fn add_latency(
        &self,
        provider: Provider,
        endpoint: Option<&str>,
        latency_ms: u64,
        count: Option<u32>,
    ) {
        let mut fault =
            json!({"provider": provider.sim_name(), "kind": "latency", "latencyMs": latency_ms});
        if let Some(endpoint) = endpoint {
            fault["endpoint"] = json!(endpoint);
        }
        if let Some(count) = count {
            fault["count"] = json!(count);
        }
        self.post("/_sim/faults", fault).await;
    }

    /// Registers Folio as `provider`'s OAuth client ([`Provider::client_id`],
    /// [`CLIENT_SECRET`]) with one redirect URI.
    pub async fn register_client(&self, provider: Provider, redirect_uri: &str) {
        self.post(
            "/_sim/clients",
            json!({"provider": provider.sim_name(), "clientId": provider.client_id(),
                "clientSecret": CLIENT_SECRET, "redirectUris": [redirect_uri]}),
        )
        .await;
    }

    /// Makes an account; the first of a provider is the one its authorize
    /// endpoint approves for.
    pub async fn add_account(
        &self,
        provider: Provider,
        email: &str,
        display_name: &str,
    ) -> SimAccount {
        let account = self
            .post(
                "/_sim/accounts",
                json!({"provider": provider.sim_name(), "email": email, "displayName": display_name}),
            )
            .await;
        let field = |name: &str| account[name].as_str().expect(name).to_owned();
        SimAccount {
            account_id: field("accountId"),
            drive_id: field("driveId"),
        }
    }

    /// The body of `POST /api/integrations` for an integration of
    /// `library_type` whose every URL (OAuth and API) is this cloudsim.
    pub fn integration_body(&self, library_type: &str, name: &str) -> Value {
        let provider = Provider::of_library_type(library_type);
        json!({
            "type": library_type, "name": name,
            "clientId": provider.client_id(), "clientSecret": CLIENT_SECRET,
            "authUri": self.url(&provider.auth_path()), "tokenUri": self.url(&provider.token_path()),
            "apiUri": self.base_url(),
        })
    }
}

/// The `Location` header of a redirect.
///
/// # Panics
/// When the response has none.
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("a Location header")
        .to_owned()
}

/// A library connected to a cloudsim account.
#[derive(Debug, Clone)]
pub struct ConnectedLibrary {
    pub id: Uuid,
    pub natural_id: String,
    /// The connection's `providerAccountId`; cloudsim also takes an account
    /// id for its personal drive in `/_sim/{provider}/{drive}/...`.
    pub account_id: String,
}

/// As `app`'s admin: creates an integration of `library_type` pointing at
/// `sim`, the library `natural_id` of that type with it, and connects the
/// library through the real OAuth flow: authorize (302 to the provider),
/// the provider approves at once (302 to the callback), the callback. The
/// provider's client and account must exist at `sim` already.
pub async fn connect_library(
    app: &TestApp,
    sim: &Cloudsim,
    library_type: &str,
    natural_id: &str,
) -> ConnectedLibrary {
    let body = sim.integration_body(library_type, &format!("cloudsim {natural_id}"));
    let (status, integration) = app
        .call(Method::POST, "/api/integrations", Some(body))
        .await;
    assert_eq!(status, 201, "{integration}");
    let library_body = json!({"name": natural_id, "naturalId": natural_id, "type": library_type});
    let (status, library) = app
        .call(Method::POST, "/api/libraries", Some(library_body))
        .await;
    assert_eq!(status, 201, "{library}");
    let (status, body) = app
        .call(
            Method::PUT,
            &format!("/api/libraries/{natural_id}/integration"),
            Some(json!({"integrationId": integration["id"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    authorize_and_approve(app, sim, natural_id).await;
    let (status, connection) = app
        .call(
            Method::GET,
            &format!("/api/libraries/{natural_id}/connection"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{connection}");
    ConnectedLibrary {
        id: library["id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .expect("library id"),
        natural_id: natural_id.to_owned(),
        account_id: connection["providerAccountId"]
            .as_str()
            .expect("account id")
            .to_owned(),
    }
}

/// The OAuth flow of a library that has its integration, as `app`'s admin.
async fn authorize_and_approve(app: &TestApp, sim: &Cloudsim, natural_id: &str) {
    let authorize = app.url(&format!("/api/libraries/{natural_id}/connection/authorize"));
    let authorize = sim.http().get(authorize).bearer_auth(&app.admin_token);
    let provider_url = redirect_target(authorize, "authorize").await;
    let callback_url =
        redirect_target(sim.http().get(provider_url), "the provider's approval").await;
    let callback = sim.http().get(callback_url).send().await.expect("callback");
    assert!(
        callback.status().is_success() || callback.status().is_redirection(),
        "callback: {}",
        callback.status()
    );
}

/// Sends a request that must answer a redirect (302); where it points.
async fn redirect_target(request: reqwest::RequestBuilder, step: &str) -> String {
    let response = request.send().await.expect(step);
    assert_eq!(response.status(), 302, "{step}");
    location(&response)
}

/// The real server (allowed to reach providers on 127.0.0.1) and cloudsim,
/// with Folio registered as `provider`'s OAuth client and one account
/// there (`a@example.com`).
pub struct SimWorld {
    pub app: TestApp,
    pub sim: Cloudsim,
    pub provider: Provider,
    pub account: SimAccount,
}

impl SimWorld {
    /// # Panics
    /// When cloudsim or the server cannot start.
    pub async fn start(provider: Provider) -> Self {
        Self::start_with(provider, folio_server::ServerConfig::default()).await
    }

    /// [`SimWorld::start`] with the server's `config` (providers on
    /// 127.0.0.1 allowed whatever it says).
    ///
    /// # Panics
    /// When cloudsim or the server cannot start.
    pub async fn start_with(provider: Provider, config: folio_server::ServerConfig) -> Self {
        let sim = Cloudsim::start().await;
        let app = TestApp::spawn_with(folio_server::ServerConfig {
            allow_private_provider_urls: true,
            ..config
        })
        .await;
        sim.register_client(provider, &app.url("/api/oauth/callback"))
            .await;
        let account = sim.add_account(provider, "a@example.com", "A").await;
        Self {
            app,
            sim,
            provider,
            account,
        }
    }

    /// The library `natural_id` of the provider's personal drive type,
    /// connected to the account.
    pub async fn connect_library(&self, natural_id: &str) -> ConnectedLibrary {
        connect_library(
            &self.app,
            &self.sim,
            self.provider.library_type(),
            natural_id,
        )
        .await
    }

    /// Connects library `natural_id` to the account, whose drive then holds
    /// `files` generated files (under `gen/`, 2,000 bytes each) and whose
    /// every download waits `latency_ms`: a sync that lasts long enough to
    /// watch or to interrupt.
    pub async fn connect_slow_library(
        &self,
        natural_id: &str,
        files: u32,
        latency_ms: u64,
    ) -> ConnectedLibrary {
        let library = self.connect_library(natural_id).await;
        self.sim
            .generate(self.provider, &library.account_id, "gen", files, 2000, 1)
            .await;
        self.slow_downloads(latency_ms).await;
        library
    }

    /// Every download of the provider from now on waits `latency_ms`.
    pub async fn slow_downloads(&self, latency_ms: u64) {
        let downloads = Some(self.provider.download_endpoint());
        self.sim
            .add_latency(self.provider, downloads, latency_ms, None)
            .await;
    }

    /// Writes a file into `drive` of the provider.
    pub async fn put_file(&self, drive: &str, path: &str, bytes: &[u8]) -> Value {
        self.sim.put_file(self.provider, drive, path, bytes).await
    }
}
