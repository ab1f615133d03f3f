//! Folder-scoped sources (docs/sync.md, "Items outside the source leave
//! the library"): a library whose `source` is a Drive folder,
//! a OneDrive folder or a Dropbox path. Moving a file, or a folder with its
//! children, out of the source removes them from the library; moving them
//! in adds them (also a folder whose files the library held before); moving
//! a folder with children inside the source moves the library paths
//! without a download (counted by cloudsim).

use folio_connectors::{ProviderKind, Source};

use crate::support::{Lib, setup};

/// A library scoped to the remote folder `lib`, with `lib/a.txt`,
/// `lib/keep.txt`, `lib/sub/{b,c}.txt` inside and `out/d.txt`,
/// `out/box/{e,f}.txt` outside.
async fn scoped(kind: ProviderKind) -> Lib {
    let mut lib = setup(kind).await;
    let folder = lib.folder("lib").await;
    for (path, bytes) in [
        ("lib/a.txt", "alpha"),
        ("lib/keep.txt", "keep"),
        ("lib/sub/b.txt", "bravo"),
        ("lib/sub/c.txt", "charlie"),
        ("out/d.txt", "delta"),
        ("out/box/e.txt", "echo"),
        ("out/box/f.txt", "foxtrot"),
    ] {
        lib.fx.put(path, bytes.as_bytes()).await;
    }
    lib.fx.source = match kind {
        ProviderKind::Dropbox => Source {
            path: Some("/lib".into()),
            ..Source::default()
        },
        _ => Source {
            folder_id: Some(folder),
            ..Source::default()
        },
    };
    lib
}

fn owned(files: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
    files
        .iter()
        .map(|(p, b)| ((*p).to_owned(), b.as_bytes().to_vec()))
        .collect()
}

async fn items_leave_and_enter_the_source(kind: ProviderKind) {
    let lib = scoped(kind).await;
    let first = lib.sync().await;
    assert!(first.errors.is_empty(), "{kind}: {first:?}");
    assert_eq!(
        lib.files().await,
        owned(&[
            ("a.txt", "alpha"),
            ("keep.txt", "keep"),
            ("sub/b.txt", "bravo"),
            ("sub/c.txt", "charlie"),
        ]),
        "{kind}: only what is under the source"
    );

    // Out: a file, and a folder with its children.
    lib.fx.mv("lib/a.txt", "out/a.txt").await;
    lib.fx.mv("lib/sub", "out/sub").await;
    let before = lib.downloads().await;
    let out = lib.sync().await;
    assert_eq!(
        (out.added_files, out.deleted_files, out.synced_files),
        (0, 3, 1),
        "{kind}: {out:?}"
    );
    assert_eq!(lib.paths().await, ["keep.txt"], "{kind}");
    assert_eq!(lib.downloads().await, before, "{kind}");
    assert_eq!(
        lib.orphans().await,
        0,
        "{kind}: removed files free their bytes"
    );

    // In: a file, a folder with children never synced, and a folder whose
    // files the library held before it left.
    lib.fx.mv("out/d.txt", "lib/d.txt").await;
    lib.fx.mv("out/box", "lib/box").await;
    lib.fx.mv("out/sub", "lib/back").await;
    let before = lib.downloads().await;
    let came = lib.sync().await;
    assert!(came.errors.is_empty(), "{kind}: {came:?}");
    assert_eq!(
        (came.added_files, came.deleted_files, came.synced_files),
        (5, 0, 6),
        "{kind}: {came:?}"
    );
    assert_eq!(
        lib.files().await,
        owned(&[
            ("back/b.txt", "bravo"),
            ("back/c.txt", "charlie"),
            ("box/e.txt", "echo"),
            ("box/f.txt", "foxtrot"),
            ("d.txt", "delta"),
            ("keep.txt", "keep"),
        ]),
        "{kind}"
    );
    assert_eq!(lib.downloads().await - before, 5, "{kind}");

    // Within: a folder with children moves (and is renamed) deeper.
    lib.fx.mv("lib/box", "lib/deep/crate").await;
    let before = lib.downloads().await;
    let moved = lib.sync().await;
    assert_eq!(
        (moved.added_files, moved.updated_files, moved.deleted_files),
        (0, 0, 0),
        "{kind}: {moved:?}"
    );
    assert_eq!(
        lib.downloads().await,
        before,
        "{kind}: a move inside the source downloads nothing"
    );
    assert_eq!(
        lib.paths().await,
        [
            "back/b.txt",
            "back/c.txt",
            "d.txt",
            "deep/crate/e.txt",
            "deep/crate/f.txt",
            "keep.txt"
        ],
        "{kind}"
    );
    assert_eq!(lib.orphans().await, 0, "{kind}");
}

#[tokio::test]
async fn drive_folder_source() {
    items_leave_and_enter_the_source(ProviderKind::GoogleDrive).await;
}

#[tokio::test]
async fn onedrive_folder_source() {
    items_leave_and_enter_the_source(ProviderKind::OneDrive).await;
}

#[tokio::test]
async fn dropbox_path_source() {
    items_leave_and_enter_the_source(ProviderKind::Dropbox).await;
}

#[tokio::test]
async fn drive_folder_moved_in_brings_its_documents_as_exports() {
    let lib = scoped(ProviderKind::GoogleDrive).await;
    lib.fx
        .put(
            "out/box/Notes?mimeType=application/vnd.google-apps.document",
            b"Meeting notes",
        )
        .await;
    lib.sync().await;
    lib.fx.mv("out/box", "lib/box").await;
    let came = lib.sync().await;
    assert!(came.errors.is_empty(), "{came:?}");
    assert_eq!(came.added_files, 3, "{came:?}");
    let files = lib.files().await;
    let notes = files
        .iter()
        .find(|(p, _)| p == "box/Notes.docx")
        .expect("the document arrives as its export");
    assert!(notes.1.ends_with(b"Meeting notes"), "{:?}", notes.1);
    let record = lib
        .store
        .get_file(lib.id, "box/Notes.docx")
        .await
        .unwrap()
        .unwrap();
    assert!(
        record.content_type.contains("wordprocessingml"),
        "{record:?}"
    );
}
