//! `list_folder` (recursive) and `list_folder/continue`; the cursor is
//! Dropbox's own.

use super::core::DropboxCore;
use super::model::{CursorArg, LatestCursor, ListFolderArg, ListFolderResult};
use crate::{ChangePage, ConnectorError, Cursor, PageState};

impl DropboxCore {
    pub async fn start_cursor(&self) -> Result<Cursor, ConnectorError> {
        let arg = ListFolderArg {
            path: &self.root_path,
            recursive: true,
            include_deleted: false,
            limit: None,
        };
        let c: LatestCursor = self
            .http
            .json(|| self.rpc("files/list_folder/get_latest_cursor", &arg))
            .await
            .map_err(|e| e.context("get_latest_cursor"))?;
        Ok(Cursor(c.cursor))
    }

    pub async fn list_changes(&self, cursor: Option<Cursor>) -> Result<ChangePage, ConnectorError> {
        let page: ListFolderResult = match &cursor {
            None => {
                let arg = ListFolderArg {
                    path: &self.root_path,
                    recursive: true,
                    include_deleted: false,
                    limit: Some(self.page_size),
                };
                self.http
                    .json(|| self.rpc("files/list_folder", &arg))
                    .await
                    .map_err(|e| e.context("list_folder"))?
            }
            Some(c) => {
                let arg = CursorArg { cursor: c.as_str() };
                self.http
                    .json(|| self.rpc("files/list_folder/continue", &arg))
                    .await
                    .map_err(|e| e.context("list_folder/continue"))?
            }
        };
        let changes = page
            .entries
            .into_iter()
            .filter_map(|m| self.to_change(m))
            .collect();
        let next = if page.has_more {
            PageState::More(Cursor(page.cursor))
        } else {
            PageState::Done(Cursor(page.cursor))
        };
        Ok(ChangePage { changes, next })
    }
}
