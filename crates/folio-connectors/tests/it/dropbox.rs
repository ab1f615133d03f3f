//! Dropbox specifics against cloudsim: a path source, paths relative to it,
//! folder deletes as one path, revoke.

use folio_connectors::{ConnectorError, ProviderKind, RemoteChange, Source, connector_for};

use crate::support::{Fixture, drain, fetch, find, upserts};

#[tokio::test]
async fn path_source_reports_paths_relative_to_it() {
    let fx = Fixture::new(ProviderKind::Dropbox).await;
    fx.put("Team/Docs/Plan.txt", b"plan").await;
    fx.put("Team/Docs/Sub/Deep.txt", b"deep").await;
    fx.put("Team/Other.txt", b"other").await;
    let mut cfg = fx.config();
    cfg.source = Source {
        path: Some("/Team/Docs".into()),
        ..Source::default()
    };
    let c =
        connector_for(ProviderKind::Dropbox, cfg, fx.account.tokens.clone()).expect("connector");
    assert_eq!(c.root().await.expect("root").name, "Docs");
    let (changes, cursor, _) = drain(c.as_ref(), None).await;
    let items = upserts(&changes);
    assert_eq!(
        find(&items, "Plan.txt").and_then(|i| i.path.as_deref()),
        Some("/Plan.txt")
    );
    assert_eq!(
        find(&items, "Deep.txt").and_then(|i| i.path.as_deref()),
        Some("/Sub/Deep.txt")
    );
    assert!(find(&items, "Other.txt").is_none());
    assert!(
        find(&items, "Docs").is_none(),
        "the source folder itself is not reported"
    );
    let plan = find(&items, "Plan.txt").expect("plan").clone();
    let (bytes, _, _) = fetch(c.as_ref(), &plan, true).await.expect("download");
    assert_eq!(bytes, b"plan");

    fx.remove("Team/Docs/Sub").await;
    let (changes, _, _) = drain(c.as_ref(), Some(cursor)).await;
    assert!(
        changes
            .iter()
            .any(|c| matches!(c, RemoteChange::DeletePath { path } if path == "/sub")),
        "a folder delete is one lowercase path: {changes:?}"
    );
}

#[tokio::test]
async fn missing_path_source_is_not_found() {
    let fx = Fixture::new(ProviderKind::Dropbox).await;
    let mut cfg = fx.config();
    cfg.source = Source {
        path: Some("/Nope".into()),
        ..Source::default()
    };
    let c =
        connector_for(ProviderKind::Dropbox, cfg, fx.account.tokens.clone()).expect("connector");
    assert!(
        matches!(c.root().await, Err(ConnectorError::NotFound(_))),
        "{:?}",
        c.root().await
    );
}

#[tokio::test]
async fn revoke_kills_the_grant() {
    let fx = Fixture::new(ProviderKind::Dropbox).await;
    let c = fx.connector();
    assert!(c.revoke().await.expect("revoke"));
    let err = c.account().await.expect_err("revoked");
    assert!(
        matches!(err, ConnectorError::NeedsReauthorization(_)),
        "{err}"
    );
}
