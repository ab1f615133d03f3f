//! The OAuth 2.0 servers of all three providers: clients, authorization
//! codes (PKCE), access and refresh tokens, and [`authenticate`], which
//! every API handler calls with the request's bearer token.
//!
//! Per-provider semantics (see `WIRE.md`, OAuth):
//! - Google: a refresh token only with `access_type=offline`; refreshing
//!   returns no new refresh token; `/revoke` kills a token and its family.
//! - Microsoft: a refresh token only with the `offline_access` scope; every
//!   refresh returns a new one; with strict rotation (default) the used one
//!   stops working.
//! - Dropbox: a refresh token only with `token_access_type=offline`; token
//!   answers carry `uid` and `account_id`; refreshing returns only
//!   `access_token`, `token_type`, `expires_in`.

mod pkce;
mod routes;

use std::collections::HashMap;

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

pub use pkce::verify_pkce;
pub use routes::{dropbox_router, google_router, microsoft_router};

use crate::AppState;
use crate::world::{AccountId, Provider};

/// A registered OAuth client (app).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Client {
    pub provider: Provider,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
}

/// An issued, not yet redeemed authorization code.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeGrant {
    pub provider: Provider,
    pub client_id: String,
    pub account: AccountId,
    pub redirect_uri: String,
    pub scope: String,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    /// A refresh token is issued on redemption.
    pub offline: bool,
    pub expires_at: DateTime<Utc>,
}

/// An access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessToken {
    pub provider: Provider,
    pub client_id: String,
    pub account: AccountId,
    pub scope: String,
    pub expires_at: DateTime<Utc>,
    pub revoked: bool,
    /// The refresh-token family it came from (revoking one revokes all).
    pub family: Option<u64>,
}

/// A refresh token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshToken {
    pub provider: Provider,
    pub client_id: String,
    pub account: AccountId,
    pub scope: String,
    pub revoked: bool,
    /// Set when rotation replaced it (Microsoft).
    pub used: bool,
    pub family: u64,
}

/// All OAuth state; persisted with the world.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct OAuthState {
    /// Clients by (provider, client id) key `"provider client_id"`.
    pub clients: HashMap<String, Client>,
    pub codes: HashMap<String, CodeGrant>,
    pub access_tokens: HashMap<String, AccessToken>,
    pub refresh_tokens: HashMap<String, RefreshToken>,
    next_family: u64,
}

/// Why a bearer token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    /// No `Authorization: Bearer` header.
    #[error("missing bearer token")]
    Missing,
    /// Unknown token, or a token of another provider.
    #[error("invalid access token")]
    Invalid,
    /// The token expired (or `tokens/expire` was called).
    #[error("expired access token")]
    Expired,
    /// The token was revoked.
    #[error("revoked access token")]
    Revoked,
}

/// Errors of the token endpoint, rendered in each provider's shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    #[error("invalid_client: {0}")]
    InvalidClient(String),
    #[error("invalid_grant: {0}")]
    InvalidGrant(String),
    #[error("unsupported_grant_type: {0}")]
    UnsupportedGrantType(String),
}

/// A successful token answer before rendering.
#[derive(Debug, Clone)]
pub struct Issued {
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_token: Option<String>,
    pub scope: String,
    pub account: AccountId,
}

fn client_key(provider: Provider, client_id: &str) -> String {
    format!("{provider} {client_id}")
}

/// A random url-safe token of `bytes` random bytes with a prefix.
fn random_token(prefix: &str, bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    )
}

impl OAuthState {
    /// Registers (or replaces) a client.
    pub fn add_client(&mut self, client: Client) {
        self.clients
            .insert(client_key(client.provider, &client.client_id), client);
    }

    /// The client `client_id` of `provider`.
    pub fn client(&self, provider: Provider, client_id: &str) -> Option<&Client> {
        self.clients.get(&client_key(provider, client_id))
    }

    /// Checks the client id and, when given, the secret.
    pub fn check_client(
        &self,
        provider: Provider,
        client_id: &str,
        secret: Option<&str>,
    ) -> Result<&Client, TokenError> {
        let client = self
            .client(provider, client_id)
            .ok_or_else(|| TokenError::InvalidClient("The OAuth client was not found.".into()))?;
        match secret {
            Some(s) if s != client.client_secret => {
                Err(TokenError::InvalidClient("Unauthorized".into()))
            }
            _ => Ok(client),
        }
    }

    /// Stores a code for `grant`; returns the code. Expired codes and
    /// long-expired access tokens are dropped on the way.
    pub fn issue_code(&mut self, grant: CodeGrant) -> String {
        self.sweep();
        let prefix = match grant.provider {
            Provider::Google => "4/0A",
            Provider::Microsoft => "M.C5",
            Provider::Dropbox => "",
        };
        let code = random_token(prefix, 24);
        self.codes.insert(code.clone(), grant);
        code
    }

    /// Issues an access token (and a refresh token in a new family when `offline`).
    fn issue(
        &mut self,
        provider: Provider,
        client_id: &str,
        account: &str,
        scope: &str,
        lifetime: u64,
        family: Option<u64>,
    ) -> (String, Option<String>) {
        let (access_prefix, refresh_prefix) = match provider {
            Provider::Google => ("ya29.a0", "1//0g"),
            Provider::Microsoft => ("EwB", "M.C5"),
            Provider::Dropbox => ("sl.u.", ""),
        };
        let access = random_token(access_prefix, 48);
        let refresh = family.map(|family| {
            let token = random_token(refresh_prefix, 48);
            self.refresh_tokens.insert(
                token.clone(),
                RefreshToken {
                    provider,
                    client_id: client_id.to_string(),
                    account: account.to_string(),
                    scope: scope.to_string(),
                    revoked: false,
                    used: false,
                    family,
                },
            );
            token
        });
        self.access_tokens.insert(
            access.clone(),
            AccessToken {
                provider,
                client_id: client_id.to_string(),
                account: account.to_string(),
                scope: scope.to_string(),
                expires_at: Utc::now() + Duration::seconds(lifetime as i64),
                revoked: false,
                family,
            },
        );
        (access, refresh)
    }

    fn new_family(&mut self) -> u64 {
        self.next_family += 1;
        self.next_family
    }

    /// Redeems an authorization code (single use; PKCE and redirect_uri checked).
    pub fn redeem_code(
        &mut self,
        provider: Provider,
        client_id: &str,
        code: &str,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
        lifetime: u64,
    ) -> Result<Issued, TokenError> {
        let bad = || TokenError::InvalidGrant(invalid_code_message(provider));
        let grant = self.codes.remove(code).ok_or_else(bad)?;
        if grant.provider != provider || grant.client_id != client_id {
            return Err(bad());
        }
        if grant.expires_at < Utc::now() {
            return Err(bad());
        }
        match redirect_uri {
            Some(r) if r != grant.redirect_uri => {
                return Err(TokenError::InvalidGrant(
                    "redirect_uri does not match the authorization request".into(),
                ));
            }
            None if provider != Provider::Dropbox => {
                return Err(TokenError::InvalidRequest(
                    "Missing parameter: redirect_uri".into(),
                ));
            }
            _ => {}
        }
        if let Some(challenge) = &grant.code_challenge {
            let verifier = code_verifier
                .ok_or_else(|| TokenError::InvalidGrant("Missing code verifier.".into()))?;
            if !verify_pkce(challenge, grant.code_challenge_method.as_deref(), verifier) {
                return Err(TokenError::InvalidGrant("Invalid code verifier.".into()));
            }
        }
        let family = grant.offline.then(|| self.new_family());
        let (access, refresh) = self.issue(
            provider,
            client_id,
            &grant.account,
            &grant.scope,
            lifetime,
            family,
        );
        Ok(Issued {
            access_token: access,
            expires_in: lifetime,
            refresh_token: refresh,
            scope: grant.scope,
            account: grant.account,
        })
    }

    /// Redeems a refresh token with the provider's rotation rules.
    pub fn refresh(
        &mut self,
        provider: Provider,
        client_id: &str,
        refresh_token: &str,
        lifetime: u64,
        strict_rotation: bool,
    ) -> Result<Issued, TokenError> {
        let bad = || TokenError::InvalidGrant(expired_message(provider));
        let rt = self
            .refresh_tokens
            .get(refresh_token)
            .ok_or_else(bad)?
            .clone();
        if rt.provider != provider || rt.client_id != client_id || rt.revoked {
            return Err(bad());
        }
        if rt.used && strict_rotation {
            return Err(bad());
        }
        let rotate = provider == Provider::Microsoft;
        let (access, new_refresh) = self.issue(
            provider,
            client_id,
            &rt.account,
            &rt.scope,
            lifetime,
            if rotate { Some(rt.family) } else { None },
        );
        if rotate && let Some(old) = self.refresh_tokens.get_mut(refresh_token) {
            old.used = true;
        }
        if let Some(a) = self.access_tokens.get_mut(&access) {
            a.family = Some(rt.family);
        }
        Ok(Issued {
            access_token: access,
            expires_in: lifetime,
            refresh_token: new_refresh,
            scope: rt.scope,
            account: rt.account,
        })
    }

    /// Revokes `token` (access or refresh) and every token of its family.
    /// Returns false when the token is unknown.
    pub fn revoke(&mut self, provider: Provider, token: &str) -> bool {
        let family = if let Some(a) = self.access_tokens.get_mut(token) {
            if a.provider != provider {
                return false;
            }
            a.revoked = true;
            a.family
        } else if let Some(r) = self.refresh_tokens.get(token) {
            if r.provider != provider {
                return false;
            }
            Some(r.family)
        } else {
            return false;
        };
        if let Some(f) = family {
            self.revoke_family(f);
        }
        true
    }

    fn revoke_family(&mut self, family: u64) {
        for a in self.access_tokens.values_mut() {
            if a.family == Some(family) {
                a.revoked = true;
            }
        }
        for r in self.refresh_tokens.values_mut() {
            if r.family == family {
                r.revoked = true;
            }
        }
    }

    /// `tokens/expire`: every access token of `provider` expires now.
    pub fn expire_all(&mut self, provider: Provider) -> usize {
        let now = Utc::now();
        let mut n = 0;
        for a in self
            .access_tokens
            .values_mut()
            .filter(|a| a.provider == provider)
        {
            a.expires_at = now;
            n += 1;
        }
        n
    }

    /// `tokens/revoke`: every token of `provider`, refresh ones too, is revoked.
    pub fn revoke_all(&mut self, provider: Provider) -> usize {
        let mut n = 0;
        for a in self
            .access_tokens
            .values_mut()
            .filter(|a| a.provider == provider)
        {
            a.revoked = true;
            n += 1;
        }
        for r in self
            .refresh_tokens
            .values_mut()
            .filter(|r| r.provider == provider)
        {
            r.revoked = true;
            n += 1;
        }
        n
    }

    /// Checks an access token of `provider`.
    pub fn check_access(
        &self,
        provider: Provider,
        token: &str,
    ) -> Result<AccessToken, AuthFailure> {
        let t = self
            .access_tokens
            .get(token)
            .filter(|t| t.provider == provider)
            .ok_or(AuthFailure::Invalid)?;
        if t.revoked {
            return Err(AuthFailure::Revoked);
        }
        if t.expires_at <= Utc::now() {
            return Err(AuthFailure::Expired);
        }
        Ok(t.clone())
    }

    /// Drops expired codes and long-expired access tokens (keeps the maps small).
    pub fn sweep(&mut self) {
        let now = Utc::now();
        self.codes.retain(|_, c| c.expires_at > now);
        let horizon = now - Duration::days(1);
        self.access_tokens.retain(|_, a| a.expires_at > horizon);
    }
}

fn invalid_code_message(provider: Provider) -> String {
    match provider {
        Provider::Google => "Malformed auth code.".into(),
        Provider::Microsoft => "AADSTS70008: The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.".into(),
        Provider::Dropbox => "code doesn't exist or has expired".into(),
    }
}

fn expired_message(provider: Provider) -> String {
    match provider {
        Provider::Google => "Token has been expired or revoked.".into(),
        Provider::Microsoft => "AADSTS70000: The provided value for the 'refresh_token' is not valid. The refresh token has been revoked or has already been used.".into(),
        Provider::Dropbox => "refresh token is invalid or revoked".into(),
    }
}

/// The bearer token of a request, if any.
pub fn bearer(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Checks `bearer` (the token from `Authorization: Bearer`, or None) for
/// `provider`, and returns the account it acts for. API handlers turn the
/// failure into their provider's 401.
pub fn authenticate(
    state: &AppState,
    provider: Provider,
    bearer: Option<&str>,
) -> Result<AccountId, AuthFailure> {
    let token = bearer.ok_or(AuthFailure::Missing)?;
    let access = state.shared().oauth.lock().check_access(provider, token)?;
    Ok(access.account)
}
