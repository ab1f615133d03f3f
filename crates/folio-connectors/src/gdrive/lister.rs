//! Drive listings: a full listing (`files.list`, flat over the drive, after
//! taking a start page token) and the change feed (`changes.list`), both
//! behind one opaque cursor.

use serde::{Deserialize, Serialize};

use super::core::GdriveCore;
use super::model::{ChangeList, FILE_FIELDS, FileList, StartPageToken};
use crate::{ChangePage, ConnectorError, Cursor, PageState, RemoteChange};

/// What a Drive cursor holds (stored as JSON).
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "k")]
enum DriveCursor {
    /// A full listing in progress: the start page token taken before its
    /// first page, and the `files.list` page token.
    #[serde(rename = "list")]
    Listing { start: String, page: String },
    /// A `changes.list` page token.
    #[serde(rename = "changes")]
    Changes { token: String },
}

impl DriveCursor {
    fn encode(&self) -> Result<Cursor, ConnectorError> {
        serde_json::to_string(self)
            .map(Cursor)
            .map_err(|e| ConnectorError::Permanent(format!("encoding a cursor: {e}")))
    }

    fn decode(c: &Cursor) -> Result<Self, ConnectorError> {
        serde_json::from_str(c.as_str()).map_err(|_| {
            ConnectorError::CursorExpired(format!("not a Drive cursor: {}", c.as_str()))
        })
    }
}

impl GdriveCore {
    /// `changes.getStartPageToken` for the source's drive.
    pub async fn start_token(&self) -> Result<String, ConnectorError> {
        let drive = self.shared_drive().await?;
        let t: StartPageToken = self
            .http
            .json(|| {
                self.get("changes/startPageToken")
                    .query(&Self::drive_scope(drive.as_deref(), false))
            })
            .await
            .map_err(|e| e.context("changes.getStartPageToken"))?;
        Ok(t.start_page_token)
    }

    pub async fn start_cursor(&self) -> Result<Cursor, ConnectorError> {
        DriveCursor::Changes {
            token: self.start_token().await?,
        }
        .encode()
    }

    pub async fn list_changes(&self, cursor: Option<Cursor>) -> Result<ChangePage, ConnectorError> {
        match cursor.as_ref().map(DriveCursor::decode).transpose()? {
            None => {
                // The token comes first: changes made while listing are in the feed.
                let start = self.start_token().await?;
                self.listing_page(start, None).await
            }
            Some(DriveCursor::Listing { start, page }) => {
                self.listing_page(start, Some(page)).await
            }
            Some(DriveCursor::Changes { token }) => self.changes_page(token).await,
        }
    }

    async fn listing_page(
        &self,
        start: String,
        page: Option<String>,
    ) -> Result<ChangePage, ConnectorError> {
        let root = self.root().await?;
        let list: FileList = self
            .http
            .json(|| {
                let mut p = Self::drive_scope(root.drive_id.as_deref(), true);
                p.push(("q", "trashed = false".to_owned()));
                p.push((
                    "fields",
                    format!("nextPageToken,incompleteSearch,files({FILE_FIELDS})"),
                ));
                p.push(("pageSize", self.page_size.to_string()));
                if let Some(t) = &page {
                    p.push(("pageToken", t.clone()));
                }
                self.get("files").query(&p)
            })
            .await
            .map_err(|e| e.context("files.list"))?;
        if list.incomplete_search {
            // Deletions must not be inferred from this listing.
            return Err(ConnectorError::temporary(
                "files.list answered incompleteSearch=true",
            ));
        }
        let changes = list
            .files
            .into_iter()
            .filter(|f| f.id != root.id)
            .map(|f| self.to_change(f))
            .collect();
        let next = match list.next_page_token {
            Some(page) => PageState::More(DriveCursor::Listing { start, page }.encode()?),
            None => PageState::Done(DriveCursor::Changes { token: start }.encode()?),
        };
        Ok(ChangePage { changes, next })
    }

    async fn changes_page(&self, token: String) -> Result<ChangePage, ConnectorError> {
        let root = self.root().await?;
        let list: ChangeList = self
            .http
            .json(|| {
                let mut p = Self::drive_scope(root.drive_id.as_deref(), false);
                p.push(("pageToken", token.clone()));
                p.push(("pageSize", self.page_size.to_string()));
                p.push(("includeRemoved", "true".to_owned()));
                p.push((
                    "fields",
                    format!("nextPageToken,newStartPageToken,changes(changeType,removed,fileId,file({FILE_FIELDS}))"),
                ));
                self.get("changes").query(&p)
            })
            .await
            .map_err(|e| e.context("changes.list"))?;
        let changes = list
            .changes
            .into_iter()
            .filter(|c| c.change_type.as_deref() != Some("drive"))
            .filter_map(|c| match (c.removed, c.file, c.file_id) {
                (false, Some(f), _) => Some(self.to_change(f)),
                (_, _, Some(id)) => Some(RemoteChange::Delete { id }),
                (_, Some(f), None) => Some(RemoteChange::Delete { id: f.id }),
                _ => None,
            })
            .filter(|c| !matches!(c, RemoteChange::Upsert(i) if i.id == root.id))
            .collect();
        let next = match (list.next_page_token, list.new_start_page_token) {
            (Some(token), _) => PageState::More(DriveCursor::Changes { token }.encode()?),
            (None, Some(token)) => PageState::Done(DriveCursor::Changes { token }.encode()?),
            (None, None) => {
                return Err(ConnectorError::Permanent(
                    "changes.list gave no page token".into(),
                ));
            }
        };
        Ok(ChangePage { changes, next })
    }
}
