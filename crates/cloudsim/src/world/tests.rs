//! The world's own rules: feeds, paths, names, ids.

use super::*;

fn world_with_account() -> (World, DriveId) {
    let mut w = World::default();
    let (_, drive) = w.add_account(Provider::Google, "a@x.test", "A").unwrap();
    (w, drive)
}

#[test]
fn feed_reports_latest_state_once() {
    let (mut w, d) = world_with_account();
    let start = w.current_seq();
    let a = w
        .put_path(
            &d,
            "a/x.txt",
            Bytes::from_static(b"1"),
            PutOptions::default(),
        )
        .unwrap();
    w.put_path(
        &d,
        "a/x.txt",
        Bytes::from_static(b"2"),
        PutOptions::default(),
    )
    .unwrap();
    let page = w
        .changes_since(std::slice::from_ref(&d), start, 10)
        .unwrap();
    let ids: Vec<_> = page.entries.iter().map(|e| e.item_id.clone()).collect();
    assert_eq!(ids.len(), 2, "folder a and file x, once each");
    assert_eq!(ids[1], a);
    assert!(!page.more);
    let paged = w.changes_since(std::slice::from_ref(&d), start, 1).unwrap();
    assert!(paged.more);
    let rest = w
        .changes_since(std::slice::from_ref(&d), paged.next, 1)
        .unwrap();
    assert_eq!(rest.entries[0].item_id, a);
}

#[test]
fn delete_moves_and_paths() {
    let (mut w, d) = world_with_account();
    w.put_path(
        &d,
        "a/b/c.txt",
        Bytes::from_static(b"x"),
        PutOptions::default(),
    )
    .unwrap();
    let id = w.move_path(&d, "a/b/c.txt", "z/c2.txt").unwrap();
    assert_eq!(w.path_of(&id), "/z/c2.txt");
    w.delete_path(&d, "a").unwrap();
    assert!(w.resolve_path(&d, "a/b").is_none());
    assert!(w.item(&id).is_some_and(|i| !i.deleted));
}

#[test]
fn name_rules_per_provider() {
    let mut w = World::default();
    let (_, d) = w.add_account(Provider::Dropbox, "d@x.test", "D").unwrap();
    let a = w
        .put_path(
            &d,
            "Dir/A.txt",
            Bytes::from_static(b"1"),
            PutOptions::default(),
        )
        .unwrap();
    let b = w
        .put_path(
            &d,
            "dir/a.TXT",
            Bytes::from_static(b"2"),
            PutOptions::default(),
        )
        .unwrap();
    assert_eq!(a, b, "Dropbox names are case-insensitive");
    let dup = PutOptions {
        duplicate: true,
        ..PutOptions::default()
    };
    assert!(matches!(
        w.put_path(&d, "dir/a.txt", Bytes::new(), dup.clone()),
        Err(WorldError::Conflict(_))
    ));
    w.put_path(&d, "b.txt", Bytes::new(), PutOptions::default())
        .unwrap();
    assert!(matches!(
        w.move_path(&d, "b.txt", "DIR/A.txt"),
        Err(WorldError::Conflict(_))
    ));

    assert!(matches!(
        w.put_path(&d, "dir/..", Bytes::new(), PutOptions::default()),
        Err(WorldError::BadRequest(_))
    ));

    let (_, g) = w.add_account(Provider::Google, "g@x.test", "G").unwrap();
    let odd = PutOptions {
        name: Some("../a/b:c".into()),
        ..PutOptions::default()
    };
    w.put_path(&g, "dir/x", Bytes::new(), odd).unwrap();
    let x = w
        .put_path(&g, "x", Bytes::from_static(b"1"), PutOptions::default())
        .unwrap();
    let y = w.put_path(&g, "x", Bytes::new(), dup).unwrap();
    assert_ne!(x, y, "Drive allows duplicate names");
    assert!(
        w.resolve_path(&g, "X").is_none(),
        "Drive names are case-sensitive"
    );
}

#[test]
fn put_with_the_folder_type_makes_a_folder() {
    let (mut w, d) = world_with_account();
    let options = PutOptions {
        mime_type: Some(GOOGLE_FOLDER.into()),
        ..PutOptions::default()
    };
    let id = w
        .put_path(&d, "a/b", Bytes::new(), options.clone())
        .unwrap();
    assert!(w.item(&id).unwrap().is_folder());
    assert_eq!(w.put_path(&d, "a/b", Bytes::new(), options).unwrap(), id);
}

#[test]
fn children_order_survives_a_reload() {
    let (mut w, d) = world_with_account();
    for name in ["b", "a", "c"] {
        w.put_path(
            &d,
            &format!("f/{name}"),
            Bytes::new(),
            PutOptions::default(),
        )
        .unwrap();
    }
    w.move_path(&d, "f/b", "f/b2").unwrap();
    let folder = w.resolve_path(&d, "f").unwrap().id.clone();
    let before = w.children(&folder).to_vec();
    let json = serde_json::to_string(&w).unwrap();
    let mut loaded: World = serde_json::from_str(&json).unwrap();
    loaded.after_load(Blobs::default());
    assert_eq!(loaded.children(&folder), &before[..]);
}

#[test]
fn generate_spreads_files() {
    let (mut w, d) = world_with_account();
    let g = w.generate(&d, "gen", 1000, 10, 2).unwrap();
    assert_eq!(g.files, 1000);
    let count = w
        .subtree(&g.root_id)
        .iter()
        .filter(|id| w.item(id).is_some_and(Item::is_file))
        .count();
    assert_eq!(count, 1000);
}

#[test]
fn ids_are_unique_and_shaped() {
    let mut w = World::default();
    let a = w.new_id(Provider::Dropbox, IdKind::Account);
    assert_eq!(a.len(), 40);
    let g1 = w.new_id(Provider::Google, IdKind::Item);
    let g2 = w.new_id(Provider::Google, IdKind::Item);
    assert_ne!(g1, g2);
}

#[test]
fn a_site_lists_its_libraries_default_first() {
    let mut w = World::default();
    let (member, _) = w.add_account(Provider::Microsoft, "m@x.test", "M").unwrap();
    let (site, default) = w.add_site("Team", vec![member]).unwrap();
    let second = w.add_site_library(&site, "Contracts").unwrap();
    assert!(matches!(
        w.add_site_library(&site, "Contracts"),
        Err(WorldError::Conflict(_))
    ));
    let ids: Vec<&str> = w
        .site_libraries(&site)
        .iter()
        .map(|d| d.id.as_str())
        .collect();
    assert_eq!(ids, [default.as_str(), second.as_str()]);
    assert_eq!(
        w.drive(&second).unwrap().members,
        w.site(&site).unwrap().members
    );
}
