//! `folio_token_refreshes_total{provider,result}`: every redemption of a
//! refresh token, by what came of it. Process-wide, like the connectors'
//! metrics; the server registers it with [`register`].

use std::sync::LazyLock;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use folio_domain::provider::OAuthProfile;

type Labels = Vec<(&'static str, &'static str)>;

static REFRESHES: LazyLock<Family<Labels, Counter>> = LazyLock::new(Family::default);

/// Adds `folio_token_refreshes_total` to `registry`.
pub fn register(registry: &mut Registry) {
    registry.register(
        "folio_token_refreshes",
        "Access-token refreshes, by result (ok, failed, or reauthorize: the grant was refused or missing)",
        REFRESHES.clone(),
    );
}

/// The result label of a refresh.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RefreshResult {
    Ok,
    Failed,
    Reauthorize,
}

pub(crate) fn record_refresh(provider: &OAuthProfile, result: RefreshResult) {
    let result = match result {
        RefreshResult::Ok => "ok",
        RefreshResult::Failed => "failed",
        RefreshResult::Reauthorize => "reauthorize",
    };
    REFRESHES
        .get_or_create(&vec![("provider", provider.label), ("result", result)])
        .inc();
}
