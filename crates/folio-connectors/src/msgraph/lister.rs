//! Graph delta at the drive root: the full enumeration (no token) and the
//! changes since a deltaLink. The cursor is the nextLink or deltaLink
//! itself. Delta works only at the drive root on Business/SharePoint, so a
//! folder source gets the drive's feed (`FeedScope::Drive`).

use super::core::GraphCore;
use super::model::ItemPage;
use crate::{ChangePage, ConnectorError, Cursor, PageState};

impl GraphCore {
    fn delta_path(drive: &str) -> String {
        format!("drives/{drive}/root/delta")
    }

    /// `delta?token=latest`: a deltaLink at the current position.
    pub async fn start_cursor(&self) -> Result<Cursor, ConnectorError> {
        let root = self.root().await?;
        let path = Self::delta_path(root.drive_id.as_deref().unwrap_or_default());
        let page: ItemPage = self
            .http
            .json(|| self.get(&path).query(&[("token", "latest")]))
            .await
            .map_err(|e| e.context("delta token=latest"))?;
        page.delta_link
            .map(Cursor)
            .ok_or_else(|| ConnectorError::Permanent("delta token=latest gave no deltaLink".into()))
    }

    pub async fn list_changes(&self, cursor: Option<Cursor>) -> Result<ChangePage, ConnectorError> {
        let root = self.root().await?;
        let path = Self::delta_path(root.drive_id.as_deref().unwrap_or_default());
        let top = self.page_size.to_string();
        let link = match &cursor {
            Some(c) => Some(self.get_link(c.as_str())?),
            None => None,
        };
        let page: ItemPage = self
            .http
            .json(|| match &link {
                Some(req) => req.try_clone().unwrap_or_else(|| self.get(&path)),
                None => self.get(&path).query(&[("$top", top.as_str())]),
            })
            .await
            .map_err(|e| e.context("delta"))?;
        let changes = page
            .value
            .into_iter()
            .filter_map(|it| self.to_change(&root.id, it))
            .collect();
        let next = match (page.next_link, page.delta_link) {
            (Some(next), _) => PageState::More(Cursor(next)),
            (None, Some(delta)) => PageState::Done(Cursor(delta)),
            (None, None) => {
                return Err(ConnectorError::Permanent(
                    "delta page without nextLink or deltaLink".into(),
                ));
            }
        };
        Ok(ChangePage { changes, next })
    }
}
