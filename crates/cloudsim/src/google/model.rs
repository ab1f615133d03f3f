//! Drive v3 resources as JSON: File, User, Drive. int64 values are JSON
//! strings, as in Drive's discovery document.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use super::fields::Fields;

use crate::world::{Account, Drive, DriveKind, Item, ItemKind, World};

/// RFC 3339 with milliseconds, as Drive writes times.
pub fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Export formats of each Google-native type: (mime type, file extension).
pub fn export_formats(native: &str) -> &'static [(&'static str, &'static str)] {
    match native {
        "application/vnd.google-apps.document" => &[
            (
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "docx",
            ),
            ("application/pdf", "pdf"),
            ("text/plain", "txt"),
            ("application/rtf", "rtf"),
            ("application/vnd.oasis.opendocument.text", "odt"),
            ("text/html", "html"),
            ("text/markdown", "md"),
        ],
        "application/vnd.google-apps.spreadsheet" => &[
            (
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "xlsx",
            ),
            ("application/pdf", "pdf"),
            ("text/csv", "csv"),
            ("text/tab-separated-values", "tsv"),
            ("application/x-vnd.oasis.opendocument.spreadsheet", "ods"),
        ],
        "application/vnd.google-apps.presentation" => &[
            (
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                "pptx",
            ),
            ("application/pdf", "pdf"),
            ("text/plain", "txt"),
            ("application/vnd.oasis.opendocument.presentation", "odp"),
        ],
        "application/vnd.google-apps.drawing" => &[
            ("application/pdf", "pdf"),
            ("image/png", "png"),
            ("image/jpeg", "jpg"),
            ("image/svg+xml", "svg"),
        ],
        "application/vnd.google-apps.script" => {
            &[("application/vnd.google-apps.script+json", "json")]
        }
        _ => &[],
    }
}

/// The `/feeds/download/{kind}/...` segment for a native type.
pub fn export_kind(native: &str) -> &'static str {
    match native {
        "application/vnd.google-apps.spreadsheet" => "spreadsheets",
        "application/vnd.google-apps.presentation" => "presentations",
        "application/vnd.google-apps.drawing" => "drawings",
        _ => "documents",
    }
}

/// The User resource of `account`.
pub fn user(account: &Account) -> Value {
    json!({
        "kind": "drive#user",
        "displayName": account.display_name,
        "me": true,
        "permissionId": account.id,
        "emailAddress": account.email,
        "photoLink": format!("https://lh3.googleusercontent.com/a/{}=s64", account.id),
    })
}

/// Inputs of [`file`] computed outside the world lock.
#[derive(Debug, Default, Clone)]
pub struct Extras {
    /// md5 of binary files' bytes.
    pub md5: Option<String>,
    /// `scheme://host` for exportLinks.
    pub base_url: String,
}

/// The File resource of `item`, with the top-level fields `wanted` selects
/// (the caller still applies `wanted` to the result for nested selections;
/// leaving out unwanted fields here only saves building them).
pub fn file(world: &World, item: &Item, viewer: &str, extras: &Extras, wanted: &Fields) -> Value {
    let drive = world.drive(&item.drive_id);
    let shared = drive.is_some_and(|d| d.kind == DriveKind::SharedDrive);
    let owner = drive.and_then(|d| match &d.kind {
        DriveKind::Personal { owner } => world.account(owner),
        _ => None,
    });
    let mut v = Selected::new(wanted);
    v.put("kind", || json!("drive#file"));
    v.put("id", || json!(item.id));
    v.put("name", || json!(item.name));
    v.put("mimeType", || json!(item.mime_type));
    v.put("starred", || json!(false));
    v.put("trashed", || json!(item.trashed));
    v.put("explicitlyTrashed", || json!(item.explicitly_trashed));
    v.put("parents", || {
        json!(item.parent_id.iter().collect::<Vec<_>>())
    });
    v.put("spaces", || json!(["drive"]));
    v.put("version", || json!(item.version.to_string()));
    v.put("webViewLink", || {
        json!(format!("https://drive.google.com/file/d/{}/view", item.id))
    });
    v.put("createdTime", || json!(time(item.created)));
    v.put("modifiedTime", || json!(time(item.modified)));
    v.put("viewedByMeTime", || json!(time(item.modified)));
    v.put("shared", || json!(shared));
    v.put("ownedByMe", || json!(owner.is_some_and(|o| o.id == viewer)));
    v.put("capabilities", || {
        json!({
            "canDownload": true, "canEdit": true, "canListChildren": item.is_folder(),
            "canTrash": true, "canDelete": true, "canRename": true,
        })
    });
    v.put("quotaBytesUsed", || {
        let used = if item.is_file() && !item.is_google_native() {
            item.size()
        } else {
            0
        };
        json!(used.to_string())
    });
    if let Some(t) = item.trashed_time.filter(|_| item.trashed) {
        v.put("trashedTime", || json!(time(t)));
    }
    if let Some(o) = owner {
        v.put("owners", || json!([user(o)]));
    }
    if shared {
        v.put("driveId", || json!(item.drive_id));
    }
    match &item.kind {
        ItemKind::Folder => {}
        ItemKind::Shortcut {
            target_id,
            target_mime_type,
        } => {
            v.put(
                "shortcutDetails",
                || json!({"targetId": target_id, "targetMimeType": target_mime_type}),
            );
        }
        ItemKind::File if item.is_google_native() => {
            v.put("size", || json!(item.size().to_string()));
            let kind = export_kind(&item.mime_type);
            let links: serde_json::Map<String, Value> = export_formats(&item.mime_type)
                .iter()
                .map(|(mime, ext)| {
                    (
                        mime.to_string(),
                        json!(format!(
                            "{}/feeds/download/{kind}/export/Export?id={}&exportFormat={ext}",
                            extras.base_url, item.id
                        )),
                    )
                })
                .collect();
            if !links.is_empty() {
                v.put("exportLinks", || Value::Object(links));
            }
        }
        ItemKind::File => {
            v.put("size", || json!(item.size().to_string()));
            v.put("headRevisionId", || {
                json!(format!("0B{:016x}", item.content_version))
            });
            v.put("originalFilename", || json!(item.name));
            v.put("webContentLink", || {
                json!(format!(
                    "https://drive.google.com/uc?id={}&export=download",
                    item.id
                ))
            });
            if let Some((_, ext)) = item.name.rsplit_once('.') {
                v.put("fileExtension", || json!(ext));
                v.put("fullFileExtension", || json!(ext));
            }
            if let Some(md5) = &extras.md5 {
                v.put("md5Checksum", || json!(md5));
            }
        }
    }
    Value::Object(v.map)
}

/// A JSON object that only builds the fields a selection wants.
struct Selected<'a> {
    wanted: &'a Fields,
    map: Map<String, Value>,
}

impl<'a> Selected<'a> {
    fn new(wanted: &'a Fields) -> Self {
        Selected {
            wanted,
            map: Map::new(),
        }
    }

    fn put(&mut self, key: &str, value: impl FnOnce() -> Value) {
        if self.wanted.wants(&[key]) {
            self.map.insert(key.to_owned(), value());
        }
    }
}

/// The Drive (shared drive) resource.
pub fn drive(d: &Drive) -> Value {
    json!({
        "kind": "drive#drive",
        "id": d.id,
        "name": d.name,
        "createdTime": time(d.created),
        "hidden": false,
        "colorRgb": "#4285f4",
        "capabilities": {"canListChildren": true, "canDownload": true, "canEdit": true},
        "restrictions": {"copyRequiresWriterPermission": false, "domainUsersOnly": false,
            "driveMembersOnly": false, "adminManagedRestrictions": false},
    })
}
