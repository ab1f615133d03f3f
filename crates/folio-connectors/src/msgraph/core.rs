//! Graph requests: drive and root resolution, item mapping, folder
//! listing, downloads through a freshly resolved download URL.

use std::sync::Arc;

use futures::TryStreamExt;
use reqwest::RequestBuilder;
use tokio::sync::OnceCell;
use url::Url;

use super::GraphFlavor;
use super::model::{Drive, DriveItem, Drives, ItemPage, Sites, User};
use crate::http::{Http, endpoint};
use crate::{
    AccessTokenSource, AccountInfo, ByteStream, ConnectorConfig, ConnectorError, HashKind,
    RemoteChange, RemoteFolder, RemoteHash, RemoteItem, RemoteRoot, Source,
};

/// Graph delta's `$top` maximum.
const MAX_PAGE: u32 = 2000;

pub(crate) struct GraphCore {
    pub http: Http,
    /// `.../v1.0/`
    base: Url,
    pub flavor: GraphFlavor,
    pub source: Source,
    pub page_size: u32,
    root: OnceCell<RemoteRoot>,
}

impl GraphCore {
    pub fn new(
        flavor: GraphFlavor,
        config: &ConnectorConfig,
        tokens: Arc<dyn AccessTokenSource>,
    ) -> Result<Self, ConnectorError> {
        let base = endpoint(&config.base_or("https://graph.microsoft.com")?, "v1.0/");
        Ok(Self {
            http: Http::new(
                config.http.clone(),
                tokens,
                super::parse_error,
                super::OAUTH.label,
            ),
            base,
            flavor,
            source: config.source.clone(),
            page_size: config.page_size.clamp(1, MAX_PAGE),
            root: OnceCell::new(),
        })
    }

    /// `GET base + path` (a relative Graph path).
    pub fn get(&self, path: &str) -> RequestBuilder {
        self.http.client.get(endpoint(&self.base, path))
    }

    /// `GET` an absolute link the provider handed out (nextLink, deltaLink).
    pub fn get_link(&self, link: &str) -> Result<RequestBuilder, ConnectorError> {
        let url = Url::parse(link)
            .map_err(|_| ConnectorError::CursorExpired(format!("not a Graph link: {link}")))?;
        Ok(self.http.client.get(url))
    }

    pub async fn root(&self) -> Result<RemoteRoot, ConnectorError> {
        self.root
            .get_or_try_init(|| self.resolve_root())
            .await
            .cloned()
    }

    async fn drive_id(&self) -> Result<String, ConnectorError> {
        if let Some(d) = &self.source.drive_id {
            return Ok(d.clone());
        }
        let path = match (self.flavor, &self.source.site_id) {
            (_, Some(site)) => format!("sites/{site}/drive"),
            (GraphFlavor::OneDrive, None) => "me/drive".to_owned(),
            (GraphFlavor::SharePoint, None) => {
                return Err(ConnectorError::Permanent(
                    "a SharePoint source needs siteId (and optionally driveId)".into(),
                ));
            }
        };
        let d: Drive = self
            .http
            .json(|| self.get(&path))
            .await
            .map_err(|e| e.context(&path))?;
        Ok(d.id)
    }

    async fn resolve_root(&self) -> Result<RemoteRoot, ConnectorError> {
        let drive = self.drive_id().await?;
        let path = match &self.source.folder_id {
            Some(f) => format!("drives/{drive}/items/{f}"),
            None => format!("drives/{drive}/root"),
        };
        let item: DriveItem = self
            .http
            .json(|| self.get(&path))
            .await
            .map_err(|e| e.context("root folder"))?;
        if item.folder.is_none() && item.root.is_none() {
            return Err(ConnectorError::NotFound(format!(
                "'{}' is not a folder",
                item.id
            )));
        }
        Ok(RemoteRoot {
            id: item.id,
            drive_id: Some(drive),
            name: item.name.unwrap_or_default(),
        })
    }

    /// One delta or children entry as a change; `None` for the drive root
    /// and the source folder itself.
    pub fn to_change(&self, root_id: &str, it: DriveItem) -> Option<RemoteChange> {
        if it.root.is_some() || it.id == root_id {
            return None;
        }
        if it.deleted.is_some() {
            return Some(RemoteChange::Delete { id: it.id });
        }
        Some(RemoteChange::Upsert(to_item(it)))
    }

    pub async fn account(&self) -> Result<AccountInfo, ConnectorError> {
        let me: User = self
            .http
            .json(|| self.get("me"))
            .await
            .map_err(|e| e.context("/me"))?;
        Ok(AccountInfo {
            account_id: me.id,
            email: me.mail.or(me.user_principal_name),
            display_name: me.display_name,
        })
    }

    pub async fn list_folders(
        &self,
        parent: Option<&str>,
    ) -> Result<Vec<RemoteFolder>, ConnectorError> {
        let no_site = self.source.site_id.is_none() && self.source.drive_id.is_none();
        if self.flavor == GraphFlavor::SharePoint && no_site && parent.is_none() {
            return self.site_libraries().await;
        }
        let root = self.root().await?;
        let drive = root.drive_id.clone().unwrap_or_default();
        let parent = parent.unwrap_or(&root.id);
        let mut out = Vec::new();
        let first = format!("drives/{drive}/items/{parent}/children");
        let mut link: Option<String> = None;
        loop {
            let page: ItemPage = self
                .http
                .json(|| match &link {
                    Some(l) => self.http.client.get(l.as_str()),
                    None => self.get(&first).query(&[("$top", "1000")]),
                })
                .await
                .map_err(|e| e.context("children"))?;
            out.extend(
                page.value
                    .into_iter()
                    .filter(|i| i.folder.is_some())
                    .map(|i| RemoteFolder {
                        source: Source {
                            folder_id: Some(i.id.clone()),
                            drive_id: Some(drive.clone()),
                            site_id: self.source.site_id.clone(),
                            path: None,
                        },
                        id: i.id,
                        name: i.name.unwrap_or_default(),
                    }),
            );
            match page.next_link {
                Some(l) => link = Some(l),
                None => return Ok(out),
            }
        }
    }

    /// Every document library of every site the user can see.
    async fn site_libraries(&self) -> Result<Vec<RemoteFolder>, ConnectorError> {
        let sites: Sites = self
            .http
            .json(|| self.get("sites").query(&[("search", "*")]))
            .await
            .map_err(|e| e.context("sites search"))?;
        let mut out = Vec::new();
        for site in sites.value {
            let drives: Drives = self
                .http
                .json(|| self.get(&format!("sites/{}/drives", site.id)))
                .await
                .map_err(|e| e.context("site drives"))?;
            let site_name = site
                .display_name
                .clone()
                .or(site.name.clone())
                .unwrap_or_default();
            out.extend(drives.value.into_iter().map(|d| RemoteFolder {
                source: Source {
                    site_id: Some(site.id.clone()),
                    drive_id: Some(d.id.clone()),
                    ..Source::default()
                },
                id: d.id,
                name: format!("{site_name} / {}", d.name),
            }));
        }
        Ok(out)
    }

    /// Resolves the item's download URL now (they expire), then streams it
    /// without the bearer token. An expired URL (401/403) is resolved again once.
    pub async fn download(&self, item: &RemoteItem) -> Result<ByteStream, ConnectorError> {
        let mut last = None;
        for _ in 0..2 {
            let url = self.download_url(&item.id).await?;
            match self.http.send_anonymous(self.http.client.get(url)).await {
                Ok(resp) => return Ok(Box::pin(resp.bytes_stream().map_err(ConnectorError::from))),
                Err(e @ (ConnectorError::Unauthorized(_) | ConnectorError::Permanent(_))) => {
                    last = Some(e)
                }
                Err(e) => return Err(e),
            }
        }
        Err(last
            .unwrap_or_else(|| ConnectorError::Permanent("download failed".into()))
            .context("download URL"))
    }

    async fn download_url(&self, id: &str) -> Result<Url, ConnectorError> {
        let root = self.root().await?;
        let drive = root.drive_id.unwrap_or_default();
        let it: DriveItem = self
            .http
            .json(|| self.get(&format!("drives/{drive}/items/{id}")))
            .await
            .map_err(|e| e.context(&format!("item {id}")))?;
        let link = it.download_url.ok_or_else(|| ConnectorError::PerFile {
            reason: format!(
                "item {id} has no download URL (not a file, or a package such as OneNote)"
            ),
        })?;
        Url::parse(&link).map_err(|e| ConnectorError::Permanent(format!("bad download URL: {e}")))
    }
}

fn to_item(it: DriveItem) -> RemoteItem {
    let file = it.file;
    let hashes = file.as_ref().and_then(|f| f.hashes.as_ref());
    let hash = hashes.and_then(|h| {
        h.quick_xor_hash
            .clone()
            .map(|v| RemoteHash::new(HashKind::QuickXorHash, v))
            .or_else(|| {
                h.sha256_hash
                    .clone()
                    .map(|v| RemoteHash::new(HashKind::Sha256, v))
            })
    });
    let is_folder = it.folder.is_some() || it.package.is_some() && file.is_none();
    RemoteItem {
        parent_id: it.parent_reference.and_then(|p| p.id),
        path: None,
        name: it.name.unwrap_or_default(),
        is_folder,
        size: if is_folder { None } else { it.size },
        hash,
        modified: it.last_modified_date_time,
        version: it.c_tag.or(it.e_tag),
        mime_type: file.and_then(|f| f.mime_type),
        export: None,
        shortcut_target: None,
        id: it.id,
    }
}
