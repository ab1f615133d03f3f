//! Libraries: listing, reading, creating and changing them, their totals,
//! the viewer's rights, and their shares.

use axum::http::StatusCode;
use folio_app::libraries::{LibraryChanges, LibraryDraft};
use folio_domain::{LibrarySource, Permission, SyncSchedule};
use serde_json::Value;

use super::{Allowed, Data, DataResult, Failure, Library, Me, Session, Share, failure};

impl Data {
    pub async fn libraries(&self, session: &Session) -> DataResult<Vec<Library>> {
        let user = self.user(session).await?;
        let list = folio_app::libraries::list(&self.state, &user)
            .await
            .map_err(failure)?;
        Ok(list.into_iter().map(Library::from).collect())
    }

    pub async fn library(&self, session: &Session, key: &str) -> DataResult<Library> {
        let user = self.user(session).await?;
        folio_app::libraries::get(&self.state, &user, key)
            .await
            .map(Library::from)
            .map_err(failure)
    }

    pub async fn create_library(
        &self,
        session: &Session,
        name: &str,
        library_type: &str,
    ) -> DataResult<Library> {
        let user = self.user(session).await?;
        let draft = LibraryDraft {
            name: name.to_owned(),
            library_type: library_type.to_owned(),
            ..LibraryDraft::default()
        };
        folio_app::libraries::create(&self.state, &user, draft)
            .await
            .map(Library::from)
            .map_err(failure)
    }

    /// Number of files and their total size (the library must have been
    /// read through [`Data::library`] first: this does not check rights).
    pub async fn file_totals(&self, library: &Library) -> DataResult<(i64, i64)> {
        folio_app::libraries::file_totals(&self.state, &library.record)
            .await
            .map_err(failure)
    }

    /// What `me` may do with a library it could read: the services' own
    /// rule, so a reader is shown no Connect or Sync.
    pub async fn access(&self, me: &Me, library: &Library) -> DataResult<Allowed> {
        let access = folio_app::access::access_to(&self.state, &me.user, &library.record)
            .await
            .map_err(failure)?;
        Ok(Allowed {
            sync: access.allows(Permission::Sync),
            write: access.allows(Permission::Write),
        })
    }

    pub async fn set_schedule(
        &self,
        session: &Session,
        key: &str,
        minutes: Option<u32>,
    ) -> DataResult<()> {
        let schedule = minutes.map(|interval_minutes| SyncSchedule { interval_minutes });
        let changes = LibraryChanges {
            sync_schedule: Some(schedule),
            ..LibraryChanges::default()
        };
        self.update_library(session, key, changes).await
    }

    pub async fn set_source(&self, session: &Session, key: &str, source: Value) -> DataResult<()> {
        let source: LibrarySource = serde_json::from_value(source)
            .map_err(|e| Failure::new(StatusCode::BAD_REQUEST, format!("source: {e}")))?;
        let changes = LibraryChanges {
            source: Some(source),
            ..LibraryChanges::default()
        };
        self.update_library(session, key, changes).await
    }

    async fn update_library(
        &self,
        session: &Session,
        key: &str,
        changes: LibraryChanges,
    ) -> DataResult<()> {
        let user = self.user(session).await?;
        folio_app::libraries::update(&self.state, &user, key, changes)
            .await
            .map(drop)
            .map_err(failure)
    }

    pub async fn shares(&self, session: &Session, key: &str) -> DataResult<Vec<Share>> {
        let user = self.user(session).await?;
        let shares = folio_app::shares::list(&self.state, &user, key)
            .await
            .map_err(failure)?;
        Ok(shares
            .into_iter()
            .map(|s| Share {
                user_id: s.user_id,
                username: s.username,
                level: s.level.to_string(),
            })
            .collect())
    }

    pub async fn share(
        &self,
        session: &Session,
        key: &str,
        user: &str,
        level: &str,
    ) -> DataResult<()> {
        let caller = self.user(session).await?;
        folio_app::shares::put(&self.state, &caller, key, user, level)
            .await
            .map(drop)
            .map_err(failure)
    }

    pub async fn unshare(&self, session: &Session, key: &str, user: &str) -> DataResult<()> {
        let caller = self.user(session).await?;
        folio_app::shares::delete(&self.state, &caller, key, user)
            .await
            .map_err(failure)
    }
}
