//! Libraries and their shares.

use chrono::Utc;
use folio_domain::ShareLevel;
use sqlx::types::Json;
use uuid::Uuid;

use crate::decode::{Shares, Text};
use crate::error::{Result, StoreError};
use crate::models::{Library, LibraryPatch, NewLibrary, Share, UserShare};
use crate::store::{BeginWrite, Store, on_db};

const LIBRARY_COLUMNS: &str = "id, natural_id, name, description, type, owner_id, source, \
                               sync_schedule, created_at, updated_at";

impl Store {
    pub async fn create_library(&self, new: NewLibrary) -> Result<Library> {
        let now = Utc::now();
        let library = Library {
            id: Uuid::now_v7(),
            natural_id: new.natural_id,
            name: new.name,
            description: new.description,
            library_type: new.library_type,
            owner_id: new.owner_id,
            source: Json(new.source),
            sync_schedule: new.sync_schedule.map(Json),
            created_at: now,
            updated_at: now,
        };
        on_db!(self, |pool| {
            sqlx::query(
                "INSERT INTO libraries (id, natural_id, name, description, type, owner_id, source, sync_schedule, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(library.id)
            .bind(&library.natural_id)
            .bind(&library.name)
            .bind(&library.description)
            .bind(library.library_type.as_str())
            .bind(library.owner_id)
            .bind(&library.source)
            .bind(library.sync_schedule)
            .bind(library.created_at)
            .bind(library.updated_at)
            .execute(pool)
            .await?;
        });
        Ok(library)
    }

    /// Finds a library by its UUID or, when `key` is not a UUID, its natural id.
    pub async fn find_library(&self, key: &str) -> Result<Option<Library>> {
        match Uuid::parse_str(key) {
            Ok(id) => self.library_by_id(id).await,
            Err(_) => self.library_by_natural_id(key).await,
        }
    }

    pub async fn library_by_id(&self, id: Uuid) -> Result<Option<Library>> {
        let sql = format!("SELECT {LIBRARY_COLUMNS} FROM libraries WHERE id = $1");
        let library = on_db!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        Ok(library)
    }

    pub async fn library_by_natural_id(&self, natural_id: &str) -> Result<Option<Library>> {
        let sql = format!("SELECT {LIBRARY_COLUMNS} FROM libraries WHERE natural_id = $1");
        let library = on_db!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(natural_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(library)
    }

    /// Every library the user can read: all of them for an admin, else the
    /// ones they own or that are shared with them. Ordered by natural id.
    pub async fn list_libraries_for(&self, user_id: Uuid, is_admin: bool) -> Result<Vec<Library>> {
        let libraries = if is_admin {
            let sql = format!("SELECT {LIBRARY_COLUMNS} FROM libraries ORDER BY natural_id");
            on_db!(self, |pool| {
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .fetch_all(pool)
                    .await?
            })
        } else {
            let sql = format!(
                "SELECT {LIBRARY_COLUMNS} FROM libraries WHERE owner_id = $1 \
                 OR id IN (SELECT library_id FROM library_shares WHERE user_id = $1) \
                 ORDER BY natural_id"
            );
            on_db!(self, |pool| {
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(user_id)
                    .fetch_all(pool)
                    .await?
            })
        };
        Ok(libraries)
    }

    /// Applies a patch and returns the library as it now is.
    pub async fn update_library(&self, id: Uuid, patch: LibraryPatch) -> Result<Library> {
        let mut library = self
            .library_by_id(id)
            .await?
            .ok_or(StoreError::NotFound("library"))?;
        if let Some(natural_id) = patch.natural_id {
            library.natural_id = natural_id;
        }
        if let Some(name) = patch.name {
            library.name = name;
        }
        if let Some(description) = patch.description {
            library.description = description;
        }
        if let Some(source) = patch.source {
            library.source = Json(source);
        }
        if let Some(schedule) = patch.sync_schedule {
            library.sync_schedule = schedule.map(Json);
        }
        library.updated_at = Utc::now();
        let updated = on_db!(self, |pool| {
            sqlx::query(
                "UPDATE libraries SET natural_id = $2, name = $3, description = $4, source = $5, \
                 sync_schedule = $6, updated_at = $7 WHERE id = $1",
            )
            .bind(library.id)
            .bind(&library.natural_id)
            .bind(&library.name)
            .bind(&library.description)
            .bind(&library.source)
            .bind(library.sync_schedule)
            .bind(library.updated_at)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if updated == 0 {
            return Err(StoreError::NotFound("library"));
        }
        Ok(library)
    }

    /// Deletes a library, its shares and its file rows in one transaction.
    /// Returns the blob hashes its files used, for the caller to collect
    /// the ones no other file uses (see [`Store::remove_blob_if_orphan`]).
    pub async fn delete_library(&self, id: Uuid) -> Result<Vec<String>> {
        let hashes = on_db!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            // A purge in progress has staged files of its own.
            let hashes: Vec<String> = sqlx::query_scalar(
                "SELECT hash FROM files WHERE library_id = $1 \
                 UNION SELECT hash FROM purge_files WHERE library_id = $1",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            let deleted = sqlx::query("DELETE FROM libraries WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if deleted == 0 {
                return Err(StoreError::NotFound("library"));
            }
            tx.commit().await?;
            hashes
        });
        Ok(hashes)
    }

    /// The share level a user holds on a library, if any.
    pub async fn share_level(&self, library_id: Uuid, user_id: Uuid) -> Result<Option<ShareLevel>> {
        let level: Option<Text<Shares, ShareLevel>> = on_db!(self, |pool| {
            sqlx::query_scalar(
                "SELECT level FROM library_shares WHERE library_id = $1 AND user_id = $2",
            )
            .bind(library_id)
            .bind(user_id)
            .fetch_optional(pool)
            .await
            .map_err(|err| StoreError::from(err).in_column("level"))?
        });
        Ok(level.map(ShareLevel::from))
    }

    /// Creates or changes a share.
    pub async fn put_share(
        &self,
        library_id: Uuid,
        user_id: Uuid,
        level: ShareLevel,
    ) -> Result<Share> {
        let share = Share {
            library_id,
            user_id,
            level,
            created_at: Utc::now(),
        };
        on_db!(self, |pool| {
            sqlx::query(
                "INSERT INTO library_shares (library_id, user_id, level, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (library_id, user_id) DO UPDATE SET level = excluded.level",
            )
            .bind(share.library_id)
            .bind(share.user_id)
            .bind(share.level.as_str())
            .bind(share.created_at)
            .execute(pool)
            .await?;
        });
        Ok(share)
    }

    /// Removes a share; `false` when there was none.
    pub async fn delete_share(&self, library_id: Uuid, user_id: Uuid) -> Result<bool> {
        let deleted = on_db!(self, |pool| {
            sqlx::query("DELETE FROM library_shares WHERE library_id = $1 AND user_id = $2")
                .bind(library_id)
                .bind(user_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(deleted > 0)
    }

    /// A library's shares with the usernames they name, oldest first.
    pub async fn list_shares(&self, library_id: Uuid) -> Result<Vec<UserShare>> {
        let shares = on_db!(self, |pool| {
            sqlx::query_as(
                "SELECT s.library_id, s.user_id, u.username, s.level, s.created_at \
                 FROM library_shares s JOIN users u ON u.id = s.user_id \
                 WHERE s.library_id = $1 ORDER BY s.created_at, u.username",
            )
            .bind(library_id)
            .fetch_all(pool)
            .await?
        });
        Ok(shares)
    }
}
