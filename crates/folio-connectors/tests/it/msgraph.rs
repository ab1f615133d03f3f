//! OneDrive and SharePoint specifics against cloudsim: download URLs are
//! resolved right before downloading, SharePoint sources and library
//! discovery, folder deletes.

use folio_connectors::{ConnectorError, ProviderKind, RemoteHashExt, Source, connector_for};

use crate::support::{Fixture, drain, fetch, find, removes, upserts};

#[tokio::test]
async fn download_url_is_resolved_right_before_the_download() {
    let fx = Fixture::new(ProviderKind::OneDrive).await;
    fx.put("a.txt", b"abc").await;
    let c = fx.connector();
    let (changes, _, _) = drain(c.as_ref(), None).await;
    let item = find(&upserts(&changes), "a.txt").expect("listed").clone();
    fx.env
        .http
        .delete(fx.env.url("/_sim/requests"))
        .send()
        .await
        .expect("reset counters");
    let (bytes, _, hash) = fetch(c.as_ref(), &item, true).await.expect("download");
    assert_eq!(bytes, b"abc");
    item.hash
        .as_ref()
        .expect("quickXorHash")
        .check(&hash)
        .expect("hash");
    let counts = fx.env.counts().await;
    assert_eq!(
        counts["microsoft GET /v1.0/drives/{driveId}/items/{itemId}"], 1,
        "{counts}"
    );
    assert_eq!(counts["microsoft GET /download/{token}"], 1, "{counts}");
}

#[tokio::test]
async fn sharepoint_without_a_site_lists_site_libraries() {
    let fx = Fixture::new(ProviderKind::SharePoint).await;
    let mut cfg = fx.config();
    cfg.source = Source::default();
    let c =
        connector_for(ProviderKind::SharePoint, cfg, fx.account.tokens.clone()).expect("connector");
    let libs = c.list_folders(None).await.expect("libraries");
    let lib = libs
        .iter()
        .find(|l| l.name.starts_with("Marketing"))
        .unwrap_or_else(|| panic!("{libs:?}"));
    assert_eq!(lib.source.drive_id.as_deref(), Some(fx.drive.as_str()));
    assert!(lib.source.site_id.is_some());
    // Without a site, the source cannot be resolved.
    assert!(matches!(c.root().await, Err(ConnectorError::Permanent(_))));
}

#[tokio::test]
async fn folder_delete_is_reported() {
    for kind in [ProviderKind::OneDrive, ProviderKind::SharePoint] {
        let fx = Fixture::new(kind).await;
        fx.put("f/a.txt", b"a").await;
        fx.put("f/b.txt", b"b").await;
        let c = fx.connector();
        let (_, cursor, _) = drain(c.as_ref(), None).await;
        let folder = fx.remove("f").await;
        let (changes, _, _) = drain(c.as_ref(), Some(cursor)).await;
        assert!(removes(&changes, &folder, "/f"), "{kind}: {changes:?}");
    }
}
