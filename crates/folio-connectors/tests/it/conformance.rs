//! The connector contract, written once and run against all four
//! connectors over real HTTP against cloudsim. Each test
//! is instantiated per provider by `for_all!`, gated by `Capability` where
//! the provider lacks the feature.

use std::time::{Duration, Instant};

use folio_connectors::{ConnectorError, PageState, ProviderKind, RemoteChange, RemoteHashExt};
use serde_json::json;

use crate::support::{Fixture, drain, fetch, find, removes, upserts};

macro_rules! for_all {
    ($($test:ident),* $(,)?) => {
        mod google_drive { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $test() { super::$test(folio_connectors::ProviderKind::GoogleDrive).await } )* }
        mod onedrive { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $test() { super::$test(folio_connectors::ProviderKind::OneDrive).await } )* }
        mod sharepoint { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $test() { super::$test(folio_connectors::ProviderKind::SharePoint).await } )* }
        mod dropbox { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $test() { super::$test(folio_connectors::ProviderKind::Dropbox).await } )* }
    };
}

for_all!(
    full_listing_pages_with_parents,
    incremental_changes_after_the_listing,
    changes_during_the_listing_are_not_lost,
    start_cursor_sees_later_changes,
    rejected_cursor_is_cursor_expired,
    downloads_match_bytes_and_hash,
    corrupted_download_fails_the_hash,
    account_is_read_live,
    folders_are_listed_with_their_source,
    rate_limit_honours_retry_after,
    server_errors_are_retried_then_given_up,
    expired_token_refreshes_once,
    second_401_is_unauthorized,
);

/// The control API's endpoint key for a cheap authenticated call.
fn account_endpoint(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::GoogleDrive => "GET /drive/v3/about",
        ProviderKind::OneDrive | ProviderKind::SharePoint => "GET /v1.0/me",
        ProviderKind::Dropbox => "POST /2/users/get_current_account",
    }
}

fn download_endpoint(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::GoogleDrive => "GET /drive/v3/files/{fileId}?alt=media",
        ProviderKind::OneDrive | ProviderKind::SharePoint => "GET /download/{token}",
        ProviderKind::Dropbox => "POST /2/files/download",
    }
}

async fn full_listing_pages_with_parents(kind: ProviderKind) {
    let fx = Fixture::new(kind).await;
    for i in 0..25 {
        fx.put(
            &format!("docs/a/f{i:02}.txt"),
            format!("file {i}").as_bytes(),
        )
        .await;
    }
    fx.put("top.txt", b"top").await;
    let c = fx.connector_with(10);
    let root = c.root().await.expect("root");
    let (changes, _cursor, pages) = drain(c.as_ref(), None).await;
    assert!(
        pages >= 3,
        "{kind}: 27 items in pages of 10 took {pages} page(s)"
    );
    let items = upserts(&changes);
    for i in 0..25 {
        assert!(
            find(&items, &format!("f{i:02}.txt")).is_some(),
            "{kind}: f{i:02} listed"
        );
    }
    let docs = find(&items, "docs").expect("docs folder");
    let a = find(&items, "a").expect("a folder");
    let f0 = find(&items, "f00.txt").expect("f00");
    let top = find(&items, "top.txt").expect("top");
    assert!(docs.is_folder && a.is_folder && !f0.is_folder);
    assert_eq!(f0.size, Some(6));
    assert!(f0.hash.is_some(), "{kind}: files carry a hash");
    assert!(f0.version.is_some());
    if c.capability().parent_ids {
        assert_eq!(f0.parent_id.as_deref(), Some(a.id.as_str()));
        assert_eq!(a.parent_id.as_deref(), Some(docs.id.as_str()));
        assert_eq!(docs.parent_id.as_deref(), Some(root.id.as_str()));
        assert_eq!(top.parent_id.as_deref(), Some(root.id.as_str()));
    } else {
        assert_eq!(f0.path.as_deref(), Some("/docs/a/f00.txt"));
        assert_eq!(top.path.as_deref(), Some("/top.txt"));
    }
    assert!(
        !items.iter().any(|i| i.id == root.id),
        "{kind}: the root itself is not reported"
    );
}

async fn incremental_changes_after_the_listing(kind: ProviderKind) {
    let fx = Fixture::new(kind).await;
    for name in ["edit", "rename", "move", "delete", "keep"] {
        fx.put(&format!("docs/{name}.txt"), name.as_bytes()).await;
    }
    fx.put("other/x.txt", b"x").await;
    let c = fx.connector();
    let (changes, cursor, _) = drain(c.as_ref(), None).await;
    let before = upserts(&changes);
    let id = |n: &str| {
        find(&before, n)
            .unwrap_or_else(|| panic!("{n} listed"))
            .id
            .clone()
    };
    let (edit, rename, moved, deleted) = (
        id("edit.txt"),
        id("rename.txt"),
        id("move.txt"),
        id("delete.txt"),
    );
    let other = id("other");

    fx.put("docs/new.txt", b"new").await;
    fx.put("docs/edit.txt", b"edited, longer").await;
    fx.mv("docs/rename.txt", "docs/renamed.txt").await;
    fx.mv("docs/move.txt", "other/move.txt").await;
    fx.remove("docs/delete.txt").await;

    let (changes, cursor2, _) = drain(c.as_ref(), Some(cursor)).await;
    let after = upserts(&changes);
    assert!(find(&after, "new.txt").is_some(), "{kind}: add");
    let e = after.iter().find(|i| i.id == edit).expect("edit reported");
    assert_eq!(e.size, Some(14));
    let old_e = before.iter().find(|i| i.id == edit).expect("before");
    assert_ne!(
        e.version, old_e.version,
        "{kind}: an edit changes the version"
    );
    assert_ne!(e.hash, old_e.hash);
    let r = after
        .iter()
        .find(|i| i.id == rename)
        .expect("rename reported with the same id");
    assert_eq!(r.name, "renamed.txt");
    let m = after
        .iter()
        .find(|i| i.id == moved)
        .expect("move reported with the same id");
    if c.capability().parent_ids {
        assert_eq!(
            m.parent_id.as_deref(),
            Some(other.as_str()),
            "{kind}: moved under other"
        );
    } else {
        assert_eq!(m.path.as_deref(), Some("/other/move.txt"));
        assert!(
            removes(&changes, "", "/docs/move.txt"),
            "{kind}: old path removed"
        );
    }
    assert!(
        removes(&changes, &deleted, "/docs/delete.txt"),
        "{kind}: delete reported: {changes:?}"
    );
    assert!(
        !after.iter().any(|i| i.name == "keep.txt"),
        "{kind}: unchanged items stay out"
    );

    // Nothing changed: an empty page and a cursor to store.
    let page = c
        .list_changes(Some(cursor2))
        .await
        .expect("no-change round");
    assert!(page.changes.is_empty(), "{kind}: {:?}", page.changes);
    assert!(matches!(page.next, PageState::Done(_)));
}

async fn changes_during_the_listing_are_not_lost(kind: ProviderKind) {
    let fx = Fixture::new(kind).await;
    for i in 0..12 {
        fx.put(&format!("d/f{i:02}.txt"), b"x").await;
    }
    let c = fx.connector_with(5);
    let first = c.list_changes(None).await.expect("first page");
    let PageState::More(more) = first.next else {
        panic!("{kind}: more pages expected")
    };
    let late = fx.put("d/late.txt", b"late").await;
    let (rest, done, _) = drain(c.as_ref(), Some(more)).await;
    let (after, _, _) = drain(c.as_ref(), Some(done)).await;
    let all: Vec<RemoteChange> = first.changes.into_iter().chain(rest).chain(after).collect();
    let items = upserts(&all);
    assert!(
        items.iter().any(|i| i.id == late || i.name == "late.txt"),
        "{kind}: a file made mid-listing is seen"
    );
}

async fn start_cursor_sees_later_changes(kind: ProviderKind) {
    let fx = Fixture::new(kind).await;
    fx.put("before.txt", b"b").await;
    let c = fx.connector();
    let start = c.start_cursor().await.expect("start cursor");
    fx.put("after.txt", b"a").await;
    let (changes, _, _) = drain(c.as_ref(), Some(start)).await;
    let items = upserts(&changes);
    assert!(find(&items, "after.txt").is_some(), "{kind}: {changes:?}");
    assert!(
        find(&items, "before.txt").is_none(),
        "{kind}: earlier items are not replayed"
    );
}

async fn rejected_cursor_is_cursor_expired(kind: ProviderKind) {
    let fx = Fixture::new(kind).await;
    fx.put("a.txt", b"a").await;
    let c = fx.connector();
    let (_, cursor, _) = drain(c.as_ref(), None).await;
    fx.reset_cursors().await;
    fx.put("b.txt", b"b").await;
    match c.list_changes(Some(cursor)).await {
        Err(ConnectorError::CursorExpired(_)) => {}
        other => panic!("{kind}: expected CursorExpired, got {other:?}"),
    }
    let (changes, _, _) = drain(c.as_ref(), None).await;
    let items = upserts(&changes);
    assert!(find(&items, "a.txt").is_some() && find(&items, "b.txt").is_some());
}

async fn downloads_match_bytes_and_hash(kind: ProviderKind) {
    let fx = Fixture::new(kind).await;
    let big: Vec<u8> = (0..(5 * 1024 * 1024 + 123))
        .map(|i| (i * 7 % 253) as u8)
        .collect();
    fx.put("empty.bin", b"").await;
    fx.put("small.txt", b"hello world").await;
    fx.put("big.bin", &big).await;
    let c = fx.connector();
    let (changes, _, _) = drain(c.as_ref(), None).await;
    let items = upserts(&changes);
    for (name, want) in [
        ("empty.bin", &b""[..]),
        ("small.txt", &b"hello world"[..]),
        ("big.bin", &big[..]),
    ] {
        let item = find(&items, name).expect("listed");
        assert!(item.is_downloadable());
        let (bytes, len, hash) = fetch(c.as_ref(), item, true).await.expect("download");
        assert_eq!(len, want.len() as u64, "{kind}: {name} length");
        assert!(bytes == want, "{kind}: {name} bytes differ");
        let expected = item.hash.as_ref().expect("hash");
        expected
            .check(&hash)
            .unwrap_or_else(|e| panic!("{kind}: {name}: {e}"));
    }
}

async fn corrupted_download_fails_the_hash(kind: ProviderKind) {
    let fx = Fixture::new(kind).await;
    fx.put("c.txt", b"some content to corrupt").await;
    let c = fx.connector();
    let (changes, _, _) = drain(c.as_ref(), None).await;
    let item = find(&upserts(&changes), "c.txt").expect("listed").clone();
    fx.fault(json!({"endpoint": download_endpoint(kind), "kind": "corrupt", "count": 1}))
        .await;
    let (_, _, hash) = fetch(c.as_ref(), &item, false).await.expect("download");
    let expected = item.hash.clone().expect("hash");
    assert!(
        matches!(
            expected.check(&hash),
            Err(ConnectorError::HashMismatch { .. })
        ),
        "{kind}: corruption detected"
    );
    let (_, _, again) = fetch(c.as_ref(), &item, false)
        .await
        .expect("download again");
    expected.check(&again).expect("the retry verifies");
}

async fn account_is_read_live(kind: ProviderKind) {
    let fx = Fixture::new(kind).await;
    let a = fx.connector().account().await.expect("account");
    assert_eq!(a.email.as_deref(), Some("alice@example.com"));
    assert_eq!(a.display_name.as_deref(), Some("Test User"));
    assert!(!a.account_id.is_empty());
}

async fn folders_are_listed_with_their_source(kind: ProviderKind) {
    let fx = Fixture::new(kind).await;
    fx.put("docs/a/x.txt", b"x").await;
    fx.put("docs/b/y.txt", b"y").await;
    fx.put("z.txt", b"z").await;
    let c = fx.connector();
    let top = c.list_folders(None).await.expect("top folders");
    let docs = top
        .iter()
        .find(|f| f.name == "docs")
        .unwrap_or_else(|| panic!("{kind}: {top:?}"));
    assert!(
        !top.iter().any(|f| f.name == "z.txt"),
        "{kind}: files are not folders"
    );
    let sub = c.list_folders(Some(&docs.id)).await.expect("subfolders");
    let mut names: Vec<&str> = sub.iter().map(|f| f.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["a", "b"]);
    let a = &sub[sub.iter().position(|f| f.name == "a").expect("a")];
    assert!(
        a.source.folder_id.is_some() || a.source.path.is_some(),
        "{kind}: a source is given"
    );
    // The source syncs that folder: a connector on it lists x.txt only.
    let mut cfg = fx.config();
    cfg.source = a.source.clone();
    let scoped =
        folio_connectors::connector_for(kind, cfg, fx.account.tokens.clone()).expect("scoped");
    let root = scoped.root().await.expect("scoped root");
    assert_eq!(root.name, "a");
    let (changes, _, _) = drain(scoped.as_ref(), None).await;
    let items = upserts(&changes);
    let x = find(&items, "x.txt").expect("x listed");
    if scoped.capability().parent_ids {
        assert_eq!(x.parent_id.as_deref(), Some(root.id.as_str()));
    } else {
        assert_eq!(x.path.as_deref(), Some("/x.txt"));
        assert!(find(&items, "y.txt").is_none());
    }
}

async fn rate_limit_honours_retry_after(kind: ProviderKind) {
    let fx = Fixture::new(kind).await;
    let c = fx.connector();
    fx.fault(json!({"endpoint": account_endpoint(kind), "kind": "rate_limit", "count": 1, "retryAfterSeconds": 1}))
        .await;
    let t = Instant::now();
    c.account().await.expect("succeeds after the wait");
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(950),
        "{kind}: waited {waited:?}, Retry-After was 1 s"
    );
}

async fn server_errors_are_retried_then_given_up(kind: ProviderKind) {
    let fx = Fixture::new(kind).await;
    let c = fx.connector();
    fx.fault(json!({"endpoint": account_endpoint(kind), "kind": "server_error", "count": 2}))
        .await;
    c.account().await.expect("succeeds on the third attempt");
    fx.fault(json!({"endpoint": account_endpoint(kind), "kind": "server_error", "count": 50}))
        .await;
    let err = c.account().await.expect_err("gives up");
    assert!(err.is_temporary(), "{kind}: {err}");
    assert!(
        err.to_string().contains("gave up after 5 attempts"),
        "{kind}: {err}"
    );
}

async fn expired_token_refreshes_once(kind: ProviderKind) {
    let fx = Fixture::new(kind).await;
    let c = fx.connector();
    c.account().await.expect("works");
    fx.env
        .control(&format!("/{}/tokens/expire", fx.provider), json!({}))
        .await;
    c.account().await.expect("works after one refresh");
    let refreshes = || {
        fx.account
            .tokens
            .refreshes
            .load(std::sync::atomic::Ordering::SeqCst)
    };
    assert_eq!(refreshes(), 1);
    fx.env
        .control(&format!("/{}/tokens/revoke", fx.provider), json!({}))
        .await;
    let err = c.account().await.expect_err("revoked");
    assert!(
        matches!(err, ConnectorError::NeedsReauthorization(_)),
        "{kind}: {err}"
    );
    assert_eq!(refreshes(), 2, "{kind}: one refresh attempt, no loop");
}

/// A token source whose tokens the provider never accepts.
struct BogusTokens(std::sync::atomic::AtomicUsize);

#[async_trait::async_trait]
impl folio_connectors::AccessTokenSource for BogusTokens {
    async fn access_token(&self) -> Result<String, ConnectorError> {
        Ok("bogus".into())
    }
    async fn refresh_after_unauthorized(&self, _: &str) -> Result<String, ConnectorError> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok("still-bogus".into())
    }
}

async fn second_401_is_unauthorized(kind: ProviderKind) {
    let fx = Fixture::new(kind).await;
    let tokens = std::sync::Arc::new(BogusTokens(Default::default()));
    let c = folio_connectors::connector_for(kind, fx.config(), tokens.clone()).expect("connector");
    let err = c.account().await.expect_err("rejected");
    assert!(
        matches!(err, ConnectorError::Unauthorized(_)),
        "{kind}: {err}"
    );
    assert_eq!(
        tokens.0.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "{kind}: one refresh, no loop"
    );
}
