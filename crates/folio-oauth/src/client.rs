//! The provider calls: token endpoint (code exchange, refresh), revoke,
//! and the connected account.
//!
//! Hand-written form posts over our reqwest 0.13 rather than the oauth2
//! crate: oauth2 5's built-in client is reqwest 0.12 (a second reqwest),
//! its typed errors drop the raw error body we must log redacted, and the
//! provider quirks (Microsoft `scope` on refresh, Dropbox's account read,
//! revoke styles) are data in each provider's profile
//! ([`folio_domain::provider::OAuthProfile`]), read here. The client never
//! follows redirects (a token endpoint that redirects could leak the code
//! or the secret elsewhere).

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use folio_domain::provider::{AccountEndpoint, AccountMethod, RevokeStyle};

use crate::provider::{Endpoints, join};
pub use crate::redact::redact_body;

/// An integration's client id and secret.
#[derive(Clone)]
pub struct ClientCredentials {
    pub client_id: String,
    pub client_secret: SecretString,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}

/// What a token endpoint handed out. `Debug` redacts the tokens.
#[derive(Debug)]
pub struct TokenResponse {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    pub expires_in: Option<i64>,
    pub refresh_token_expires_in: Option<i64>,
    pub scope: Option<String>,
}

/// A URL as errors show it: origin and path, never the query.
fn shown(url: &Url) -> String {
    format!("{}{}", url.origin().ascii_serialization(), url.path())
}

/// A request that got no answer, in words: the address (and the
/// integration field it comes from) and every cause in the error's source
/// chain, where the real reason is (`Connection refused`, a DNS failure, a
/// certificate not trusted).
fn unreachable(e: &reqwest::Error, url: &Url, field: &str) -> OAuthError {
    let mut text = e.to_string();
    if let Some(at) = text.find(" for url (") {
        text.truncate(at);
    }
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    OAuthError::Unreachable(format!(
        "{} (the integration's {field}): {text}",
        shown(url)
    ))
}

/// A grant to redeem at the token endpoint.
pub enum Grant<'a> {
    AuthorizationCode {
        code: &'a str,
        redirect_uri: &'a str,
        code_verifier: &'a SecretString,
    },
    RefreshToken(&'a SecretString),
}

/// What the provider's OAuth server or API said. Messages carry the
/// provider's error code and (redacted) description, never a token.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The code, or the refresh token, is dead: the user must reconnect.
    #[error("the provider refused the grant (invalid_grant: {0})")]
    InvalidGrant(String),
    /// The integration's client id or secret is wrong.
    #[error("the provider rejected the integration's client id or secret (invalid_client: {0})")]
    InvalidClient(String),
    /// Any other OAuth error the provider answered with.
    #[error("the provider answered {status} ({code}: {description})")]
    Provider {
        status: u16,
        code: String,
        description: String,
    },
    /// The access token was refused by the API (401).
    #[error("the provider refused the access token (401)")]
    Unauthorized,
    #[error("the provider could not be reached: {0}")]
    Unreachable(String),
    #[error("the provider's answer was not understood: {0}")]
    BadResponse(String),
}

impl OAuthError {
    /// Errors a retry later may fix (network, 5xx, 429).
    pub fn is_temporary(&self) -> bool {
        match self {
            Self::Unreachable(_) => true,
            Self::Provider { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

/// The identity a connection was made with.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub account_id: String,
}

#[derive(Deserialize)]
struct RawToken {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: Option<serde_json::Value>,
    refresh_token_expires_in: Option<serde_json::Value>,
    scope: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawError {
    error: Option<String>,
    error_description: Option<String>,
}

fn as_seconds(v: Option<serde_json::Value>) -> Option<i64> {
    match v? {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The HTTP client for OAuth servers and account reads.
#[derive(Clone, Debug)]
pub struct OAuthHttp {
    client: reqwest::Client,
}

/// A DNS resolver that refuses names resolving to internal addresses, so a
/// host that passed the connect-time check cannot rebind to one between
/// the check and the request.
struct PublicOnlyResolver;

impl reqwest::dns::Resolve for PublicOnlyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.iter().any(|a| crate::urlcheck::is_internal(a.ip())) {
                let refused = std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!(
                        "'{host}' resolves to an internal address (FOLIO_ALLOW_PRIVATE_PROVIDER_URLS is off)"
                    ),
                );
                return Err(Box::new(refused) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

impl OAuthHttp {
    /// A client that never follows redirects, gives up after `timeout`,
    /// and (unless `policy` allows private targets) never connects to a
    /// name that resolves to an internal address.
    pub fn new(timeout: Duration, policy: crate::UrlPolicy) -> Result<Self, OAuthError> {
        let mut builder = reqwest::Client::builder();
        if !policy.allow_private {
            builder = builder.dns_resolver(PublicOnlyResolver);
        }
        let client = builder
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .user_agent(concat!("folio/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| OAuthError::Unreachable(format!("building the HTTP client: {e}")))?;
        Ok(Self { client })
    }

    /// Redeems a code or a refresh token.
    pub async fn token(
        &self,
        endpoints: &Endpoints,
        client: &ClientCredentials,
        grant: Grant<'_>,
    ) -> Result<TokenResponse, OAuthError> {
        let secret = client.client_secret.expose_secret();
        let mut form: Vec<(&str, &str)> =
            vec![("client_id", &client.client_id), ("client_secret", secret)];
        let mut known: Vec<&str> = vec![secret];
        match &grant {
            Grant::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
            } => {
                form.extend([
                    ("grant_type", "authorization_code"),
                    ("code", *code),
                    ("redirect_uri", *redirect_uri),
                    ("code_verifier", code_verifier.expose_secret()),
                ]);
                known.extend([*code, code_verifier.expose_secret()]);
            }
            Grant::RefreshToken(token) => {
                form.extend([
                    ("grant_type", "refresh_token"),
                    ("refresh_token", token.expose_secret()),
                ]);
                known.push(token.expose_secret());
            }
        }
        if endpoints.oauth.scope_on_token_requests {
            form.push(("scope", &endpoints.scope));
        }
        let token_uri = &endpoints.token_uri;
        let response = self
            .client
            .post(token_uri.clone())
            .header("accept", "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| unreachable(&e, token_uri, "tokenUri"))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| unreachable(&e, token_uri, "tokenUri"))?;
        if !status.is_success() {
            let at = format!("{} (the integration's tokenUri)", shown(token_uri));
            return Err(token_error(
                endpoints.oauth.name,
                status.as_u16(),
                &body,
                &known,
                &at,
            ));
        }
        let raw: RawToken = serde_json::from_str(&body).map_err(|e| {
            tracing::warn!(provider = endpoints.oauth.name, body = %redact_body(&body, &known), "token endpoint answer not understood");
            OAuthError::BadResponse(format!("token response: {e}"))
        })?;
        Ok(TokenResponse {
            access_token: SecretString::from(raw.access_token),
            refresh_token: raw.refresh_token.map(SecretString::from),
            expires_in: as_seconds(raw.expires_in),
            refresh_token_expires_in: as_seconds(raw.refresh_token_expires_in),
            scope: raw.scope,
        })
    }

    /// Revokes a grant where the provider can, as its profile's
    /// [`RevokeStyle`] says: Google `POST /revoke` with the refresh token
    /// (which kills the whole grant), Dropbox `/2/auth/token/revoke` with
    /// the access token as bearer (which also kills its refresh token).
    /// Microsoft has no per-app revoke endpoint: `Ok(false)` and the caller
    /// only destroys the tokens.
    pub async fn revoke(
        &self,
        endpoints: &Endpoints,
        access_token: &SecretString,
        refresh_token: Option<&SecretString>,
    ) -> Result<bool, OAuthError> {
        let Some(url) = endpoints.revoke_uri() else {
            return Ok(false);
        };
        let url_shown = url.clone();
        let request = match endpoints.oauth.revoke {
            RevokeStyle::FormBesideTokenUri { .. } => {
                let token = refresh_token.unwrap_or(access_token).expose_secret();
                self.client.post(url).form(&[("token", token)])
            }
            RevokeStyle::BearerOnApi { .. } | RevokeStyle::Unsupported => self
                .client
                .post(url)
                .bearer_auth(access_token.expose_secret())
                .header("content-type", "application/json")
                .body("null"),
        };
        let response = request
            .send()
            .await
            .map_err(|e| OAuthError::Unreachable(e.without_url().to_string()))?;
        let status = response.status();
        if status.is_success() {
            return Ok(true);
        }
        if status.as_u16() == 401 {
            return Err(OAuthError::Unauthorized);
        }
        let body = response.text().await.unwrap_or_default();
        let known = [
            access_token.expose_secret(),
            refresh_token.map_or("", |t| t.expose_secret()),
        ];
        Err(token_error(
            endpoints.oauth.name,
            status.as_u16(),
            &body,
            &known,
            &shown(&url_shown),
        ))
    }

    /// Reads the connected account live where the profile's
    /// [`AccountEndpoint`] says: Drive `about?fields=user`, Graph `/me`,
    /// Dropbox `users/get_current_account`.
    pub async fn account(
        &self,
        endpoints: &Endpoints,
        access_token: &SecretString,
    ) -> Result<Account, OAuthError> {
        let api = &endpoints.api_uri;
        let read = &endpoints.oauth.account;
        let mut url = join(api, read.path);
        url.set_query(read.query);
        let request = match read.method {
            AccountMethod::Get => self.client.get(url),
            AccountMethod::PostNull => self
                .client
                .post(url)
                .header("content-type", "application/json")
                .body("null"),
        };
        let response = request
            .bearer_auth(access_token.expose_secret())
            .send()
            .await
            .map_err(|e| unreachable(&e, api, "apiUri"))?;
        let status = response.status();
        let at = response.url().clone();
        let body = response
            .text()
            .await
            .map_err(|e| unreachable(&e, api, "apiUri"))?;
        if status.as_u16() == 401 {
            return Err(OAuthError::Unauthorized);
        }
        if !status.is_success() {
            let known = [access_token.expose_secret()];
            tracing::warn!(provider = endpoints.oauth.name, status = status.as_u16(), body = %redact_body(&body, &known), "reading the account failed");
            return Err(OAuthError::Provider {
                status: status.as_u16(),
                code: "account".into(),
                description: format!(
                    "reading the account at {} (the integration's apiUri) answered {status}",
                    shown(&at)
                ),
            });
        }
        let value: serde_json::Value = serde_json::from_str(&body)
            .map_err(|e| OAuthError::BadResponse(format!("account: {e}")))?;
        parse_account(read, &value)
    }
}

/// The account's fields, found where the profile points.
fn parse_account(read: &AccountEndpoint, v: &serde_json::Value) -> Result<Account, OAuthError> {
    let at = |pointer: &str| {
        v.pointer(pointer)
            .and_then(|f| f.as_str())
            .map(str::to_owned)
    };
    let email = read.email.iter().find_map(|pointer| at(pointer));
    let display_name = at(read.display_name);
    let account_id = at(read.account_id);
    let account_id =
        account_id.ok_or_else(|| OAuthError::BadResponse("the account has no id".into()))?;
    Ok(Account {
        email,
        display_name,
        account_id,
    })
}

/// An OAuth server's refusal; `at` names the address that answered (and
/// the integration field it comes from), said when the answer is no OAuth
/// error at all (a wrong address answers 404 with a page of its own).
fn token_error(
    provider: &'static str,
    status: u16,
    body: &str,
    known: &[&str],
    at: &str,
) -> OAuthError {
    let redacted = redact_body(body, known);
    tracing::warn!(provider, status, body = %redacted, "the provider's OAuth server refused");
    let raw: RawError = serde_json::from_str(body).unwrap_or_default();
    let description = match (&raw.error, raw.error_description.as_deref()) {
        (Some(_), Some(text)) => redact_body(text, known),
        (Some(_), None) => String::new(),
        (None, _) => format!("{at} answered {status} with no OAuth error: is the address right?"),
    };
    let code = raw.error.unwrap_or_else(|| format!("http_{status}"));
    match code.as_str() {
        "invalid_grant" => OAuthError::InvalidGrant(description),
        "invalid_client" | "unauthorized_client" => OAuthError::InvalidClient(description),
        _ => OAuthError::Provider {
            status,
            code,
            description,
        },
    }
}

/// A URL for the provider's authorize page.
pub fn authorize_url(
    endpoints: &Endpoints,
    client_id: &str,
    redirect_uri: &str,
    state: &str,
    code_challenge: &str,
    login_hint: Option<&str>,
) -> Url {
    let mut url = endpoints.auth_uri.clone();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("scope", &endpoints.scope)
            .append_pair("state", state)
            .append_pair("code_challenge", code_challenge)
            .append_pair("code_challenge_method", "S256");
        for (k, v) in endpoints.oauth.offline_params {
            q.append_pair(k, v);
        }
        if let Some(hint) = login_hint {
            q.append_pair("login_hint", hint);
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_read_where_each_profile_points() {
        use folio_domain::ProviderKind;
        let read = |kind: ProviderKind, body: serde_json::Value| {
            parse_account(&crate::provider::oauth_profile(kind).account, &body)
        };
        let google = read(
            ProviderKind::GoogleDrive,
            serde_json::json!({"user": {"emailAddress": "a@x", "displayName": "A", "permissionId": "p1"}}),
        )
        .unwrap();
        assert_eq!(
            (
                google.email.as_deref(),
                google.display_name.as_deref(),
                google.account_id.as_str()
            ),
            (Some("a@x"), Some("A"), "p1")
        );
        // Graph: `mail` may be null; the sign-in name stands in for it.
        let microsoft = read(
            ProviderKind::SharePoint,
            serde_json::json!({"mail": null, "userPrincipalName": "b@x", "displayName": "B", "id": "m1"}),
        )
        .unwrap();
        assert_eq!(microsoft.email.as_deref(), Some("b@x"));
        assert_eq!(microsoft.account_id, "m1");
        let dropbox = read(
            ProviderKind::Dropbox,
            serde_json::json!({"email": "c@x", "name": {"display_name": "C"}, "account_id": "dbid:1"}),
        )
        .unwrap();
        assert_eq!(dropbox.display_name.as_deref(), Some("C"));
        let nameless = read(ProviderKind::Dropbox, serde_json::json!({"email": "c@x"}));
        assert!(matches!(nameless, Err(OAuthError::BadResponse(_))));
    }

    #[test]
    fn credentials_debug_hides_the_secret() {
        let c = ClientCredentials {
            client_id: "id".into(),
            client_secret: SecretString::from("s3cret-value"),
        };
        assert!(!format!("{c:?}").contains("s3cret-value"));
    }

    #[tokio::test]
    async fn the_token_client_does_not_follow_redirects() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let answer = "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:1/steal\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            socket.write_all(answer.as_bytes()).await.unwrap();
        });
        let endpoints = crate::Endpoints::resolve(
            crate::IntegrationType::Dropbox,
            None,
            Some(&format!("http://{addr}/oauth2/token")),
            None,
            None,
            None,
        )
        .unwrap();
        let http = OAuthHttp::new(
            Duration::from_secs(5),
            crate::UrlPolicy {
                allow_private: true,
            },
        )
        .unwrap();
        let credentials = ClientCredentials {
            client_id: "id".into(),
            client_secret: SecretString::from("secret"),
        };
        let refresh = SecretString::from("refresh-token");
        let err = http
            .token(&endpoints, &credentials, Grant::RefreshToken(&refresh))
            .await
            .unwrap_err();
        assert!(
            matches!(err, OAuthError::Provider { status: 307, .. }),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn names_resolving_to_internal_addresses_are_refused_when_not_allowed() {
        let endpoints = crate::Endpoints::resolve(
            crate::IntegrationType::Dropbox,
            None,
            Some("http://localhost:9/oauth2/token"),
            None,
            None,
            None,
        )
        .unwrap();
        let http = OAuthHttp::new(Duration::from_secs(5), crate::UrlPolicy::default()).unwrap();
        let credentials = ClientCredentials {
            client_id: "id".into(),
            client_secret: SecretString::from("secret"),
        };
        let refresh = SecretString::from("refresh-token");
        let err = http
            .token(&endpoints, &credentials, Grant::RefreshToken(&refresh))
            .await
            .unwrap_err();
        assert!(matches!(err, OAuthError::Unreachable(_)), "{err:?}");
    }
}
