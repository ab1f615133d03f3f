//! World items as Dropbox `Metadata` entries, and path lookups in a
//! Dropbox's namespace (`""` root, `/a/b`, `id:...`, `rev:...`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::error::DbxError;
use super::model::{DeletedMetadata, FileMetadata, FolderMetadata, Metadata};
use crate::world::{Item, ItemId, World};

/// Cache key of Dropbox content hashes in `Item::hashes`.
pub const HASH_KEY: &str = "dropbox";

/// Dropbox's timestamp format, exactly `%Y-%m-%dT%H:%M:%SZ`.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A revision id: lowercase hex, at least 9 digits, new for every content
/// version of an item and distinct between items.
pub fn rev(item: &Item) -> String {
    let id_bits = item.id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!("{:x}{:09x}", item.content_version, id_bits & 0xf_ffff_ffff)
}

fn name_and_paths(world: &World, item: &Item) -> (String, String, String) {
    let display = world.path_of(&item.id);
    (item.name.clone(), display.to_lowercase(), display)
}

/// `FileMetadata` of a live file; `content_hash` from `hashes` (by item id).
pub fn file_metadata(world: &World, item: &Item, hashes: &HashMap<ItemId, String>) -> FileMetadata {
    let (name, path_lower, path_display) = name_and_paths(world, item);
    FileMetadata {
        name,
        path_lower,
        path_display,
        id: item.id.clone(),
        client_modified: timestamp(item.modified),
        server_modified: timestamp(item.modified),
        rev: rev(item),
        size: item.size(),
        is_downloadable: true,
        content_hash: hashes.get(&item.id).cloned().unwrap_or_default(),
    }
}

/// The entry for `item` in its current state (tombstones as `deleted`).
pub fn entry(world: &World, item: &Item, hashes: &HashMap<ItemId, String>) -> Metadata {
    if !item.is_live() {
        return deleted_at(&world.path_of(&item.id));
    }
    if item.is_folder() {
        let (name, path_lower, path_display) = name_and_paths(world, item);
        return Metadata::Folder(FolderMetadata {
            name,
            path_lower,
            path_display,
            id: item.id.clone(),
        });
    }
    Metadata::File(file_metadata(world, item, hashes))
}

/// A `deleted` entry for `path` (display form).
pub fn deleted_at(path: &str) -> Metadata {
    let name = path.rsplit('/').next().unwrap_or_default().to_string();
    Metadata::Deleted(DeletedMetadata {
        name,
        path_lower: path.to_lowercase(),
        path_display: path.to_string(),
    })
}

/// Checks the syntax of a path argument as Dropbox does (400 on failure).
pub fn check_path_syntax(route: &'static str, path: &str) -> Result<(), DbxError> {
    if path == "/" {
        return Err(DbxError::bad_input(
            route,
            "request body: path: Specify the root folder as an empty string rather than as \"/\".",
        ));
    }
    let ok = path.is_empty()
        || path.starts_with('/')
        || path.starts_with("id:")
        || path.starts_with("rev:")
        || path.starts_with("ns:");
    if ok {
        Ok(())
    } else {
        Err(DbxError::bad_input(
            route,
            format!(
                "request body: path: '{path}' did not match pattern '(/(.|[\\r\\n])*)?|id:.*|(ns:[0-9]+(/.*)?)'"
            ),
        ))
    }
}

/// The live item a path argument names in `drive`, or the LookupError tag
/// to answer with (`not_found`, `malformed_path`).
pub fn lookup<'w>(world: &'w World, drive: &str, path: &str) -> Result<&'w Item, &'static str> {
    let live = |item: &'w Item| (item.drive_id == drive && item.is_live()).then_some(item);
    if let Some(id) = path.strip_prefix("id:") {
        let full = format!("id:{id}");
        return world.item(&full).and_then(live).ok_or("not_found");
    }
    if let Some(wanted) = path.strip_prefix("rev:") {
        let drive = world.drive(drive).ok_or("not_found")?;
        return world
            .subtree(&drive.root_id)
            .iter()
            .filter_map(|id| world.item(id))
            .find(|i| i.is_file() && rev(i) == wanted)
            .ok_or("not_found");
    }
    if path.starts_with("ns:") {
        return Err("malformed_path");
    }
    resolve(world, drive, path)
        .and_then(live)
        .ok_or("not_found")
}

/// The live item at a `/`-separated path, matching names case-insensitively
/// as Dropbox does, without allocating per comparison.
fn resolve<'w>(world: &'w World, drive: &str, path: &str) -> Option<&'w Item> {
    let mut current = world.item(&world.drive(drive)?.root_id)?;
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        current = world
            .children(&current.id)
            .iter()
            .filter_map(|id| world.item(id))
            .find(|i| i.is_live() && same_name(&i.name, segment))?;
    }
    Some(current)
}

fn same_name(a: &str, b: &str) -> bool {
    if a.len() == b.len() && a.eq_ignore_ascii_case(b) {
        return true;
    }
    if a.is_ascii() && b.is_ascii() {
        return false;
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_no_fraction() {
        let t = DateTime::parse_from_rfc3339("2015-05-12T15:50:38.123Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(timestamp(t), "2015-05-12T15:50:38Z");
    }

    #[test]
    fn root_as_slash_is_rejected() {
        assert!(check_path_syntax("files/list_folder", "/").is_err());
        assert!(check_path_syntax("files/list_folder", "").is_ok());
        assert!(check_path_syntax("files/list_folder", "docs").is_err());
        assert!(check_path_syntax("files/list_folder", "id:abc").is_ok());
    }

    #[test]
    fn names_match_case_insensitively() {
        assert!(same_name("Résumé.PDF", "résumé.pdf"));
        assert!(same_name("a.txt", "A.TXT"));
        assert!(!same_name("a.txt", "a.txt2"));
    }
}
