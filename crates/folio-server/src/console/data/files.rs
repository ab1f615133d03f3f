//! A library's files: the list, downloads, uploads and deletes.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use folio_app::files::Upload;

use super::{Data, DataResult, Failure, File, FilePage, Session, api_failure, failure};
use crate::auth::AuthUser;
use crate::extract::ApiPath;
use crate::routes::paging::{decode_cursor, encode_cursor, page_limit};

impl Data {
    pub async fn files(
        &self,
        session: &Session,
        key: &str,
        prefix: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> DataResult<FilePage> {
        let user = self.user(session).await?;
        let limit = page_limit(Some(limit)).map_err(api_failure)?;
        let after = cursor.map(decode_cursor).transpose().map_err(api_failure)?;
        let page = folio_app::files::list(&self.state, &user, key, prefix, after.as_deref(), limit)
            .await
            .map_err(failure)?;
        Ok(FilePage {
            items: page
                .items
                .into_iter()
                .map(|f| File {
                    path: f.path,
                    size: f.size,
                    modified_at: f.modified_at,
                })
                .collect(),
            next: page.next_after.as_deref().map(encode_cursor),
        })
    }

    /// A file's bytes as the API answers them (`Range` and `If-None-Match`
    /// honoured, headers included), streamed.
    pub async fn download(
        &self,
        session: &Session,
        key: &str,
        path: &str,
        request_headers: &HeaderMap,
    ) -> DataResult<Response> {
        let user = self.user(session).await?;
        let mut headers = HeaderMap::new();
        for name in [axum::http::header::RANGE, axum::http::header::IF_NONE_MATCH] {
            if let Some(value) = request_headers.get(&name) {
                headers.insert(name, value.clone());
            }
        }
        crate::routes::files::download_file(
            State(self.state.clone()),
            AuthUser(user),
            ApiPath((key.to_owned(), path.to_owned())),
            headers,
        )
        .await
        .map_err(|e| Failure::new(e.status(), "the file cannot be read"))
    }

    pub async fn upload(
        &self,
        session: &Session,
        key: &str,
        path: &str,
        bytes: bytes::Bytes,
    ) -> DataResult<()> {
        let user = self.user(session).await?;
        let upload = Upload {
            raw_path: path.to_owned(),
            declared_length: u64::try_from(bytes.len()).ok(),
            content_type: None,
            bytes: Box::pin(futures::stream::once(async move {
                Ok::<_, std::io::Error>(bytes)
            })),
        };
        folio_app::files::upload(&self.state, &user, key, upload)
            .await
            .map(drop)
            .map_err(failure)
    }

    pub async fn delete_file(&self, session: &Session, key: &str, path: &str) -> DataResult<()> {
        let user = self.user(session).await?;
        folio_app::files::delete(&self.state, &user, key, path)
            .await
            .map_err(failure)
    }
}
