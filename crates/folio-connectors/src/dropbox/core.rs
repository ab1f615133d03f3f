//! Dropbox requests: RPC calls on the api host, downloads on the content
//! host, entries mapped to changes with paths relative to the source.

use std::sync::Arc;

use futures::TryStreamExt;
use reqwest::RequestBuilder;
use serde::Serialize;
use url::Url;

use super::model::{FullAccount, ListFolderArg, ListFolderResult, Metadata};
use crate::http::{Http, endpoint};
use crate::{
    AccessTokenSource, AccountInfo, ByteStream, ConnectorConfig, ConnectorError, HashKind,
    RemoteChange, RemoteFolder, RemoteHash, RemoteItem, RemoteRoot, Source,
};

/// `list_folder`'s `limit` maximum.
const MAX_PAGE: u32 = 2000;

pub(crate) struct DropboxCore {
    pub http: Http,
    api: Url,
    content: Url,
    /// The source folder as Dropbox wants it: `""` (root) or `/a/b`.
    pub root_path: String,
    pub page_size: u32,
}

impl DropboxCore {
    pub fn new(
        config: &ConnectorConfig,
        tokens: Arc<dyn AccessTokenSource>,
    ) -> Result<Self, ConnectorError> {
        if config.source.folder_id.is_some() || config.source.site_id.is_some() {
            return Err(ConnectorError::Permanent(
                "a Dropbox source is a path, not a folderId or siteId".into(),
            ));
        }
        let root_path = config
            .source
            .path
            .clone()
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_owned();
        Ok(Self {
            http: Http::new(
                config.http.clone(),
                tokens,
                super::parse_error,
                super::OAUTH.label,
            ),
            api: config.base_or("https://api.dropboxapi.com")?,
            content: config.base_or("https://content.dropboxapi.com")?,
            root_path,
            page_size: config.page_size.clamp(1, MAX_PAGE),
        })
    }

    /// `POST api/2/{route}` with a JSON argument.
    pub fn rpc<A: Serialize>(&self, route: &str, arg: &A) -> RequestBuilder {
        self.http
            .client
            .post(endpoint(&self.api, &format!("2/{route}")))
            .json(arg)
    }

    pub fn root(&self) -> RemoteRoot {
        RemoteRoot {
            id: self.root_path.to_lowercase(),
            drive_id: None,
            name: self
                .root_path
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned(),
        }
    }

    /// `list_folder` with `limit: 1`, to check the source folder exists.
    pub async fn check_root(&self) -> Result<RemoteRoot, ConnectorError> {
        if !self.root_path.is_empty() {
            let arg = ListFolderArg {
                path: &self.root_path,
                recursive: false,
                include_deleted: false,
                limit: Some(1),
            };
            let _: ListFolderResult = self
                .http
                .json(|| self.rpc("files/list_folder", &arg))
                .await
                .map_err(|e| e.context(&format!("source folder {}", self.root_path)))?;
        }
        Ok(self.root())
    }

    /// `path` below the source root (`/x/y`), or `None` for the root itself
    /// or anything outside it.
    fn relative<'a>(&self, path: &'a str) -> Option<&'a str> {
        let root_len = self.root_path.len();
        let head = path.get(..root_len)?;
        let rest = path.get(root_len..)?;
        (head.eq_ignore_ascii_case(&self.root_path) && rest.starts_with('/')).then_some(rest)
    }

    /// A listing entry as a change; `None` for the source folder itself.
    pub fn to_change(&self, m: Metadata) -> Option<RemoteChange> {
        match m {
            Metadata::Deleted(d) => {
                let rel = self.relative(d.path_lower.as_deref()?)?;
                Some(RemoteChange::DeletePath {
                    path: rel.to_owned(),
                })
            }
            Metadata::Folder(f) => {
                let rel = self.display_path(f.path_lower.as_deref(), f.path_display.as_deref())?;
                Some(RemoteChange::Upsert(RemoteItem {
                    id: f.id,
                    path: Some(rel),
                    name: f.name,
                    is_folder: true,
                    ..RemoteItem::default()
                }))
            }
            Metadata::File(f) => {
                let rel = self.display_path(f.path_lower.as_deref(), f.path_display.as_deref())?;
                Some(RemoteChange::Upsert(RemoteItem {
                    id: f.id,
                    path: Some(rel),
                    name: f.name,
                    is_folder: false,
                    size: Some(f.size),
                    hash: f
                        .content_hash
                        .map(|v| RemoteHash::new(HashKind::DropboxContentHash, v)),
                    modified: f.server_modified,
                    version: f.rev,
                    ..RemoteItem::default()
                }))
            }
        }
    }

    /// The display path below the root (its casing is reliable only for the
    /// last segment), falling back to the lowercase path.
    fn display_path(&self, lower: Option<&str>, display: Option<&str>) -> Option<String> {
        let lower_rel = self.relative(lower?)?;
        let display_rel = display
            .and_then(|d| self.relative(d))
            .filter(|d| d.len() == lower_rel.len());
        Some(display_rel.unwrap_or(lower_rel).to_owned())
    }

    pub async fn account(&self) -> Result<AccountInfo, ConnectorError> {
        let a: FullAccount = self
            .http
            .json(|| self.rpc("users/get_current_account", &serde_json::Value::Null))
            .await
            .map_err(|e| e.context("get_current_account"))?;
        Ok(AccountInfo {
            account_id: a.account_id,
            email: a.email,
            display_name: a.name.display_name,
        })
    }

    /// Folders directly under `parent` (a Dropbox path; default the root).
    pub async fn list_folders(
        &self,
        parent: Option<&str>,
    ) -> Result<Vec<RemoteFolder>, ConnectorError> {
        let path = parent
            .unwrap_or(&self.root_path)
            .trim_end_matches('/')
            .to_owned();
        let mut out = Vec::new();
        let mut page: ListFolderResult = {
            let arg = ListFolderArg {
                path: &path,
                recursive: false,
                include_deleted: false,
                limit: Some(self.page_size),
            };
            self.http
                .json(|| self.rpc("files/list_folder", &arg))
                .await
                .map_err(|e| e.context("list_folder"))?
        };
        loop {
            out.extend(page.entries.into_iter().filter_map(|m| match m {
                Metadata::Folder(f) => {
                    let display = f.path_display.or(f.path_lower).unwrap_or_default();
                    Some(RemoteFolder {
                        id: display.clone(),
                        name: f.name,
                        source: Source {
                            path: Some(display),
                            ..Source::default()
                        },
                    })
                }
                _ => None,
            }));
            if !page.has_more {
                return Ok(out);
            }
            let arg = super::model::CursorArg {
                cursor: &page.cursor,
            };
            page = self
                .http
                .json(|| self.rpc("files/list_folder/continue", &arg))
                .await
                .map_err(|e| e.context("list_folder/continue"))?;
        }
    }

    /// `files/download` on the content host, by id.
    pub async fn download(&self, item: &RemoteItem) -> Result<ByteStream, ConnectorError> {
        if item.is_folder {
            return Err(ConnectorError::PerFile {
                reason: format!("'{}' is a folder", item.name),
            });
        }
        let arg = ascii_json(&serde_json::json!({ "path": item.id }));
        let url = endpoint(&self.content, "2/files/download");
        let resp = self
            .http
            .send(|| {
                self.http
                    .client
                    .post(url.clone())
                    .header("Dropbox-API-Arg", arg.clone())
            })
            .await
            .map_err(|e| e.context(&format!("download {}", item.id)))?;
        Ok(Box::pin(resp.bytes_stream().map_err(ConnectorError::from)))
    }

    pub async fn revoke(&self) -> Result<bool, ConnectorError> {
        self.http
            .send(|| self.rpc("auth/token/revoke", &serde_json::Value::Null))
            .await
            .map_err(|e| e.context("token/revoke"))?;
        Ok(true)
    }
}

/// JSON with non-ASCII escaped as `\uXXXX` (HTTP header values are ASCII).
fn ascii_json(v: &serde_json::Value) -> String {
    let mut out = String::new();
    for ch in v.to_string().chars() {
        if ch.is_ascii() {
            out.push(ch);
        } else {
            let mut buf = [0u16; 2];
            for unit in ch.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}
