//! Rendering world items as Graph driveItems: facets, hashes, parent
//! references, download links.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use http::HeaderMap;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::json;

use super::download;
use super::model::{
    DeletedFacet, DriveItem, FileFacet, FileSystemInfo, FolderFacet, Hashes, Identity, IdentitySet,
    ItemReference,
};
use crate::AppState;
use crate::hashes;
use crate::world::{Drive, DriveKind, Item, ItemId, World};

/// Cache keys of the hashes Graph publishes, in `Item::hashes`.
pub const QUICK_XOR: &str = "quickXor";
pub const SHA256: &str = "sha256";
pub const SHA1: &str = "sha1";

/// Characters escaped in `parentReference.path` and `webUrl`.
const PATH_ESCAPES: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// Graph's timestamp format.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `driveType` of a drive.
pub fn drive_type(drive: &Drive) -> &'static str {
    match drive.kind {
        DriveKind::SharePoint { .. } => "documentLibrary",
        _ if drive.onedrive_personal => "personal",
        _ => "business",
    }
}

/// The owner shown in `createdBy`/`lastModifiedBy`/`owner`.
pub fn drive_owner(world: &World, drive: &Drive) -> IdentitySet {
    let account = drive.members.first().and_then(|m| world.account(m));
    IdentitySet {
        user: Identity {
            display_name: account.map(|a| a.display_name.clone()).unwrap_or_default(),
            email: account.map(|a| a.email.clone()),
            id: account.map(|a| a.id.clone()).unwrap_or_default(),
        },
    }
}

/// The hashes Graph publishes for files, by item id: quickXorHash on
/// every drive, with sha256Hash on business drives and SharePoint, and
/// sha1Hash on personal ones.
#[derive(Debug, Default)]
pub struct ItemHashes {
    quick_xor: HashMap<ItemId, String>,
    sha256: HashMap<ItemId, String>,
    sha1: HashMap<ItemId, String>,
}

impl ItemHashes {
    /// Hashes of `ids` (files only), computed over the bytes once and cached.
    pub async fn of(state: &AppState, ids: &[ItemId]) -> Self {
        let (personal, other): (Vec<ItemId>, Vec<ItemId>) = state.read(|w| {
            ids.iter().cloned().partition(|id| {
                w.item(id)
                    .and_then(|i| w.drive(&i.drive_id))
                    .is_some_and(|d| d.onedrive_personal)
            })
        });
        ItemHashes {
            quick_xor: hashes::cached(state, ids, QUICK_XOR, hashes::quick_xor_of).await,
            sha256: hashes::cached(state, &other, SHA256, hashes::sha256_of).await,
            sha1: hashes::cached(state, &personal, SHA1, hashes::sha1_of).await,
        }
    }

    fn facet(&self, id: &str) -> Hashes {
        Hashes {
            quick_xor_hash: self.quick_xor.get(id).cloned(),
            sha256_hash: self.sha256.get(id).map(|h| h.to_ascii_uppercase()),
            sha1_hash: self.sha1.get(id).map(|h| h.to_ascii_uppercase()),
        }
    }
}

/// How an item is rendered.
#[derive(Debug, Clone, Default)]
pub struct Render {
    /// Delta pages leave out `parentReference.path`.
    pub delta: bool,
    /// How to make `@microsoft.graph.downloadUrl` (None: left out).
    pub download: Option<download::DownloadLinks>,
}

/// Download links on the host the client reached us at.
pub fn download_links(state: &AppState, headers: &HeaderMap) -> download::DownloadLinks {
    download::DownloadLinks {
        base: state.base_url(headers),
        urls: state.shared().download_urls.clone(),
    }
}

fn percent_path(path: &str) -> String {
    utf8_percent_encode(path, PATH_ESCAPES).to_string()
}

/// A world item as a driveItem.
pub fn drive_item(world: &World, item: &Item, hashes: &ItemHashes, how: &Render) -> DriveItem {
    let drive = world.drive(&item.drive_id);
    let drive_type = drive.map(drive_type).unwrap_or("business");
    let site_id = drive.and_then(|d| match &d.kind {
        DriveKind::SharePoint { site_id } => Some(site_id.clone()),
        _ => None,
    });
    let parent_path = item.parent_id.as_ref().map(|p| {
        format!(
            "/drives/{}/root:{}",
            item.drive_id,
            percent_path(&world.path_of(p))
        )
    });
    let parent_reference = ItemReference {
        drive_id: item.drive_id.clone(),
        drive_type,
        id: item.parent_id.clone(),
        name: None,
        path: if how.delta { None } else { parent_path },
        site_id,
    };
    let owner = drive.map(|d| drive_owner(world, d));
    let is_root = item.parent_id.is_none();
    let mut out = DriveItem {
        id: item.id.clone(),
        name: Some(item.name.clone()),
        e_tag: format!("\"{{{}}},{}\"", item.id, item.version),
        c_tag: None,
        size: Some(item.size()),
        created_date_time: timestamp(item.created),
        last_modified_date_time: timestamp(item.modified),
        web_url: Some(format!(
            "https://contoso-my.sharepoint.com/personal/{}/Documents{}",
            item.drive_id,
            percent_path(&world.path_of(&item.id))
        )),
        created_by: owner.clone(),
        last_modified_by: owner,
        parent_reference: Some(parent_reference),
        file_system_info: Some(FileSystemInfo {
            created_date_time: timestamp(item.created),
            last_modified_date_time: timestamp(item.modified),
        }),
        file: None,
        folder: None,
        root: is_root.then(|| json!({})),
        deleted: None,
        download_url: None,
    };
    // OneDrive and Dropbox have no Drive-style trash: a trashed item is gone.
    if !item.is_live() {
        out.deleted = Some(DeletedFacet { state: "deleted" });
        out.size = None;
        out.web_url = None;
        if item.is_folder() {
            out.folder = Some(FolderFacet { child_count: 0 });
        } else {
            out.file = Some(FileFacet {
                mime_type: item.mime_type.clone(),
                hashes: None,
            });
        }
        return out;
    }
    if item.is_folder() {
        out.size = Some(folder_size(world, &item.id));
        out.folder = Some(FolderFacet {
            child_count: live_children(world, &item.id).count() as u64,
        });
        if is_root {
            out.parent_reference = Some(ItemReference {
                id: None,
                path: None,
                ..parent_reference_of_root(item, drive_type)
            });
        }
    } else {
        out.c_tag = Some(format!("\"c:{{{}}},{}\"", item.id, item.content_version));
        out.file = Some(FileFacet {
            mime_type: item.mime_type.clone(),
            hashes: Some(hashes.facet(&item.id)),
        });
        out.download_url = how.download.as_ref().map(|links| links.url(item));
    }
    out
}

fn parent_reference_of_root(item: &Item, drive_type: &'static str) -> ItemReference {
    ItemReference {
        drive_id: item.drive_id.clone(),
        drive_type,
        id: None,
        name: None,
        path: None,
        site_id: None,
    }
}

/// Live, untrashed children of a folder, in creation order.
pub fn live_children<'w>(world: &'w World, id: &str) -> impl Iterator<Item = &'w Item> + 'w {
    world
        .children(id)
        .iter()
        .filter_map(|c| world.item(c))
        .filter(|i| i.is_live())
}

/// Total bytes below a folder (Graph reports folder sizes).
fn folder_size(world: &World, id: &str) -> u64 {
    world
        .subtree(id)
        .iter()
        .filter_map(|i| world.item(i))
        .filter(|i| i.is_live() && i.is_file())
        .map(Item::size)
        .sum()
}
