//! Planner rules, one test each.

use folio_connectors::hash::{HashKind, RemoteHash};
use folio_connectors::{ExportInfo, RemoteChange, RemoteItem, ShortcutTarget};

use folio_connectors::{dropbox, gdrive};

use crate::planner::{Content, FileAction, Node, Tree, TreeRules, plan_page};

const ROOT: &str = "root";

fn folder(id: &str, parent: &str, name: &str) -> RemoteChange {
    RemoteChange::Upsert(RemoteItem {
        id: id.into(),
        parent_id: Some(parent.into()),
        name: name.into(),
        is_folder: true,
        ..RemoteItem::default()
    })
}

fn file_item(id: &str, parent: &str, name: &str, md5: &str) -> RemoteItem {
    RemoteItem {
        id: id.into(),
        parent_id: Some(parent.into()),
        name: name.into(),
        size: Some(3),
        hash: Some(RemoteHash::new(HashKind::Md5, md5)),
        ..RemoteItem::default()
    }
}

fn file(id: &str, parent: &str, name: &str, md5: &str) -> RemoteChange {
    RemoteChange::Upsert(file_item(id, parent, name, md5))
}

fn delete(id: &str) -> RemoteChange {
    RemoteChange::Delete { id: id.into() }
}

/// The node `id` of `t`, which must exist.
fn node<'t>(t: &'t Tree, id: &str) -> &'t Node {
    t.nodes().get(id).expect("the tree has this node")
}

/// An empty tree of a provider that gives parent ids (Drive's rules).
fn tree() -> Tree {
    Tree::new(ROOT.into(), TreeRules::of(&gdrive::CAPABILITY), [])
}

/// An empty tree of a provider that addresses items by path (Dropbox's
/// rules).
fn path_tree() -> Tree {
    Tree::new(ROOT.into(), TreeRules::of(&dropbox::CAPABILITY), [])
}

/// Marks every download of the last plan as stored (what the executor does).
fn store_all(tree: &mut Tree) {
    let unstored: Vec<String> = tree
        .nodes()
        .values()
        .filter(|n| !n.content.is_known() && n.path.is_some() && !n.is_folder)
        .map(|n| n.id.clone())
        .collect();
    for id in unstored {
        tree.set_content(&id, Content::Stored(format!("sha-{id}")));
    }
}

fn summary(actions: &[FileAction]) -> Vec<String> {
    let mut out: Vec<String> = actions
        .iter()
        .map(|a| match a {
            FileAction::Download { path, replaces, .. } => match replaces {
                Some(old) => format!("get {path} (was {old})"),
                None => format!("get {path}"),
            },
            FileAction::Move { from, to, .. } => format!("move {from} -> {to}"),
            FileAction::Delete { path, .. } => format!("delete {path}"),
        })
        .collect();
    out.sort();
    out
}

fn synced(changes: &[RemoteChange]) -> Tree {
    let mut t = tree();
    plan_page(&mut t, changes);
    store_all(&mut t);
    t
}

#[test]
fn first_listing_downloads_every_file_under_its_folder_path() {
    let mut t = tree();
    let plan = plan_page(
        &mut t,
        &[
            folder("d", ROOT, "docs"),
            file("a", "d", "a.txt", "1"),
            file("b", ROOT, "b.txt", "2"),
        ],
    );
    assert_eq!(summary(&plan.actions), ["get b.txt", "get docs/a.txt"]);
    assert_eq!(plan.changed.len(), 3);
}

#[test]
fn renaming_a_folder_moves_its_children_without_downloads() {
    let mut t = synced(&[
        folder("d", ROOT, "docs"),
        folder("s", "d", "sub"),
        file("a", "s", "a.txt", "1"),
    ]);
    let plan = plan_page(&mut t, &[folder("d", ROOT, "papers")]);
    assert_eq!(
        summary(&plan.actions),
        ["move docs/sub/a.txt -> papers/sub/a.txt"]
    );
    assert_eq!(plan.downloads(), 0);
}

#[test]
fn moving_a_file_moves_and_editing_downloads() {
    let mut t = synced(&[folder("d", ROOT, "docs"), file("a", ROOT, "a.txt", "1")]);
    let plan = plan_page(&mut t, &[file("a", "d", "a.txt", "1")]);
    assert_eq!(summary(&plan.actions), ["move a.txt -> docs/a.txt"]);
    let plan = plan_page(&mut t, &[file("a", "d", "a.txt", "2")]);
    assert_eq!(summary(&plan.actions), ["get docs/a.txt (was docs/a.txt)"]);
}

#[test]
fn an_unchanged_item_reported_again_does_nothing() {
    let mut t = synced(&[file("a", ROOT, "a.txt", "1")]);
    let plan = plan_page(&mut t, &[file("a", ROOT, "a.txt", "1")]);
    assert!(plan.actions.is_empty());
    assert!(plan.changed.is_empty());
}

#[test]
fn deleting_a_folder_deletes_its_subtree() {
    let mut t = synced(&[
        folder("d", ROOT, "docs"),
        folder("s", "d", "sub"),
        file("a", "s", "a.txt", "1"),
        file("b", "d", "b.txt", "2"),
    ]);
    let plan = plan_page(&mut t, &[delete("d")]);
    assert_eq!(
        summary(&plan.actions),
        ["delete docs/b.txt", "delete docs/sub/a.txt"]
    );
    assert_eq!(plan.removed_ids, ["a", "b", "d", "s"]);
    assert!(t.nodes().is_empty());
}

#[test]
fn a_folder_delete_that_keeps_its_children_unplaces_them_until_they_go() {
    let rules = TreeRules {
        delete_keeps_children: true,
        ..TreeRules::of(&gdrive::CAPABILITY)
    };
    let mut t = Tree::new(ROOT.into(), rules, []);
    plan_page(
        &mut t,
        &[
            folder("d", ROOT, "docs"),
            folder("s", "d", "sub"),
            file("a", "s", "a.txt", "1"),
            file("b", "d", "b.txt", "2"),
        ],
    );
    store_all(&mut t);
    let plan = plan_page(&mut t, &[delete("d")]);
    // Their files leave the library with the folder...
    assert_eq!(
        summary(&plan.actions),
        ["delete docs/b.txt", "delete docs/sub/a.txt"]
    );
    // ...but only the folder is gone; its children wait for their deletes.
    assert_eq!(plan.removed_ids, ["d"]);
    assert!(node(&t, "s").path.is_none() && node(&t, "a").path.is_none());
    let plan = plan_page(&mut t, &[delete("s"), delete("a"), delete("b")]);
    assert!(plan.actions.is_empty(), "{:?}", plan.actions);
    assert_eq!(plan.removed_ids, ["a", "b", "s"]);
    assert!(t.nodes().is_empty());
}

#[test]
fn only_a_path_addressed_provider_places_items_by_path() {
    // An item with a path but no parent id: outside the source for a
    // provider of parent ids, at its path for one of paths.
    let orphan = RemoteChange::Upsert(RemoteItem {
        id: "x".into(),
        path: Some("/x.txt".into()),
        name: "x.txt".into(),
        size: Some(1),
        version: Some("r1".into()),
        ..RemoteItem::default()
    });
    let by_parent = plan_page(&mut tree(), std::slice::from_ref(&orphan));
    assert!(by_parent.actions.is_empty(), "{:?}", by_parent.actions);
    let by_path = plan_page(&mut path_tree(), &[orphan]);
    assert_eq!(summary(&by_path.actions), ["get x.txt"]);
}

#[test]
fn a_folder_is_removed_after_the_rest_of_the_page() {
    let mut t = synced(&[folder("d", ROOT, "docs"), file("a", "d", "a.txt", "1")]);
    // The folder's delete comes first in the feed; the child moves out later.
    let plan = plan_page(&mut t, &[delete("d"), file("a", ROOT, "a.txt", "1")]);
    assert_eq!(summary(&plan.actions), ["move docs/a.txt -> a.txt"]);
    assert_eq!(plan.removed_ids, ["d"]);
}

#[test]
fn the_last_occurrence_of_an_id_wins() {
    let mut t = tree();
    let plan = plan_page(
        &mut t,
        &[
            file("a", ROOT, "first.txt", "1"),
            delete("a"),
            file("a", ROOT, "last.txt", "2"),
        ],
    );
    assert_eq!(summary(&plan.actions), ["get last.txt"]);
    let mut t = synced(&[file("a", ROOT, "a.txt", "1")]);
    let plan = plan_page(&mut t, &[file("a", ROOT, "b.txt", "1"), delete("a")]);
    assert_eq!(summary(&plan.actions), ["delete a.txt"]);
}

#[test]
fn items_leaving_the_source_leave_the_library() {
    let mut t = synced(&[folder("d", ROOT, "docs"), file("a", "d", "a.txt", "1")]);
    let plan = plan_page(&mut t, &[folder("d", "elsewhere", "docs")]);
    assert_eq!(summary(&plan.actions), ["delete docs/a.txt"]);
    // It comes back into the source: downloaded again (its bytes were dropped).
    let plan = plan_page(
        &mut t,
        &[folder("d", ROOT, "docs"), file("a", "d", "a.txt", "1")],
    );
    assert_eq!(summary(&plan.actions), ["get docs/a.txt"]);
}

#[test]
fn duplicate_names_get_stable_suffixes_by_id() {
    let mut t = tree();
    let plan = plan_page(
        &mut t,
        &[
            file("b2", ROOT, "r.pdf", "2"),
            file("a1", ROOT, "r.pdf", "1"),
        ],
    );
    let paths = summary(&plan.actions);
    assert!(paths.contains(&"get r.pdf".to_owned()), "{paths:?}");
    assert_eq!(node(&t, "a1").path.as_deref(), Some("r.pdf"));
    let suffixed = node(&t, "b2").path.clone();
    assert!(
        suffixed
            .as_deref()
            .is_some_and(|p| p.starts_with("r (~") && p.ends_with(").pdf"))
    );
    store_all(&mut t);
    let plan = plan_page(&mut t, &[file("b2", ROOT, "r.pdf", "2")]);
    assert!(plan.actions.is_empty());
    assert_eq!(node(&t, "b2").path, suffixed);
}

#[test]
fn hostile_names_stay_inside_the_library() {
    let mut t = tree();
    plan_page(
        &mut t,
        &[
            folder("up", ROOT, ".."),
            file("x", "up", "../../etc/passwd", "1"),
            file("c", ROOT, "a\u{0}b\nc", "2"),
            file("n", ROOT, "cafe\u{301}.txt", "3"),
        ],
    );
    let paths: Vec<&str> = ["x", "c", "n"]
        .iter()
        .filter_map(|id| node(&t, id).path.as_deref())
        .collect();
    assert_eq!(paths, ["_../.._.._etc_passwd", "a_b_c", "caf\u{e9}.txt"]);
    for path in paths {
        assert!(folio_domain::LibraryPath::parse(path).is_ok());
    }
}

#[test]
fn too_long_paths_are_reported_not_written() {
    let mut t = tree();
    let mut changes = Vec::new();
    let mut parent = ROOT.to_owned();
    for depth in 0..6 {
        let id = format!("f{depth}");
        changes.push(folder(&id, &parent, &"x".repeat(200)));
        parent = id;
    }
    changes.push(file("deep", &parent, "a.txt", "1"));
    let plan = plan_page(&mut t, &changes);
    assert!(!plan.errors.is_empty());
    assert!(plan.actions.iter().all(|a| match a {
        FileAction::Download { path, .. } => path.len() <= 1024,
        _ => true,
    }));
    assert!(node(&t, "deep").path.is_none());
}

#[test]
fn native_documents_get_their_export_extension_and_shortcuts_no_file() {
    let mut doc = file_item("g", ROOT, "Plan", "");
    doc.hash = None;
    doc.size = None;
    doc.version = Some("7".into());
    doc.mime_type = Some("application/vnd.google-apps.document".into());
    doc.export = Some(ExportInfo {
        mime_type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document".into(),
        extension: "docx".into(),
    });
    let mut form = doc.clone();
    form.id = "f".into();
    form.name = "Form".into();
    form.export = None;
    form.mime_type = Some("application/vnd.google-apps.form".into());
    let mut shortcut = file_item("s", ROOT, "link", "");
    shortcut.shortcut_target = Some(ShortcutTarget {
        id: "g".into(),
        mime_type: None,
    });
    let mut t = tree();
    let plan = plan_page(
        &mut t,
        &[
            RemoteChange::Upsert(doc.clone()),
            RemoteChange::Upsert(form),
            RemoteChange::Upsert(shortcut),
        ],
    );
    assert_eq!(summary(&plan.actions), ["get Plan.docx"]);
    store_all(&mut t);
    doc.version = Some("8".into());
    let plan = plan_page(&mut t, &[RemoteChange::Upsert(doc)]);
    assert_eq!(summary(&plan.actions), ["get Plan.docx (was Plan.docx)"]);
}

#[test]
fn path_addressed_providers_resolve_parents_and_path_deletes() {
    let item = |id: &str, path: &str, folder: bool| {
        RemoteChange::Upsert(RemoteItem {
            id: id.into(),
            path: Some(path.into()),
            name: path.rsplit('/').next().unwrap_or_default().into(),
            is_folder: folder,
            size: (!folder).then_some(1),
            version: Some("r1".into()),
            ..RemoteItem::default()
        })
    };
    let mut t = path_tree();
    let plan = plan_page(
        &mut t,
        &[
            item("id:d", "/Docs", true),
            item("id:a", "/Docs/A.txt", false),
        ],
    );
    assert_eq!(summary(&plan.actions), ["get Docs/A.txt"]);
    store_all(&mut t);
    let plan = plan_page(
        &mut t,
        &[RemoteChange::DeletePath {
            path: "/docs".into(),
        }],
    );
    assert_eq!(summary(&plan.actions), ["delete Docs/A.txt"]);
    // A move: a delete at the old path, then the same ids at the new one.
    let mut t = path_tree();
    plan_page(
        &mut t,
        &[
            item("id:d", "/Docs", true),
            item("id:a", "/Docs/A.txt", false),
        ],
    );
    store_all(&mut t);
    let plan = plan_page(
        &mut t,
        &[
            RemoteChange::DeletePath {
                path: "/docs".into(),
            },
            item("id:d", "/Papers", true),
            item("id:a", "/Papers/A.txt", false),
        ],
    );
    assert_eq!(summary(&plan.actions), ["move Docs/A.txt -> Papers/A.txt"]);
}

/// A small deterministic generator (xorshift64*), so the randomized test
/// below replays the same pages on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One random change: a folder or file (new or known id) under a random
/// parent (the root, a known or an unknown folder, sometimes its own
/// descendant: a cycle), with a name drawn from a few that collide, a
/// long one and a hostile one; or a delete.
fn random_change(rng: &mut Rng, ids: &[String]) -> RemoteChange {
    const NAMES: [&str; 6] = ["a", "A", "b.txt", "..", "x/y", "long"];
    let id = if ids.is_empty() || rng.below(3) == 0 {
        format!("n{}", rng.next() % 1_000_000)
    } else {
        ids[rng.below(ids.len())].clone()
    };
    if rng.below(8) == 0 {
        return delete(&id);
    }
    let parent = match rng.below(6) {
        0 | 1 => ROOT.to_owned(),
        2 => format!("unknown{}", rng.below(3)),
        _ if !ids.is_empty() => ids[rng.below(ids.len())].clone(),
        _ => ROOT.to_owned(),
    };
    let name = match NAMES[rng.below(NAMES.len())] {
        "long" => "n".repeat(200 + rng.below(60)),
        other => other.to_owned(),
    };
    if rng.below(2) == 0 {
        folder(&id, &parent, &name)
    } else {
        file(&id, &parent, &name, &format!("md5-{}", rng.below(4)))
    }
}

#[test]
fn page_by_page_paths_equal_a_placement_of_the_whole_tree() {
    for seed in 1..=300u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut t = tree();
        for page in 0..12 {
            let ids: Vec<String> = t.nodes().values().map(|n| n.id.clone()).collect();
            let changes: Vec<RemoteChange> = (0..1 + rng.below(12))
                .map(|_| random_change(&mut rng, &ids))
                .collect();
            let previous = t.clone();
            plan_page(&mut t, &changes);
            store_all(&mut t);
            assert!(
                t.children_match_parents(),
                "seed {seed}, page {page}: children index after {changes:?}"
            );
            let expected = crate::planner::full_placement(&t, &previous);
            for node in t.nodes().values() {
                let id = &node.id;
                assert_eq!(
                    node.path, expected[id],
                    "seed {seed}, page {page}: path of {id} after {changes:?}"
                );
            }
        }
    }
}
