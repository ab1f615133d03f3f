//! What every page shares: who is looking ([`Viewer`]), the frame around
//! each page ([`Chrome`]), rendering, and the pages that say something went
//! wrong.

use askama::Template;
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use subtle::ConstantTimeEq;

use super::data::{Data, Failure, Me, Session};
use crate::auth::session_cookie;

/// The signed-in person looking at a page.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub me: Me,
    pub session: Session,
    /// The token every form of this session carries.
    pub csrf: String,
}

impl Viewer {
    pub fn chrome(&self, title: impl Into<String>) -> Chrome {
        Chrome {
            title: title.into(),
            user: Some(
                self.me
                    .display_name
                    .clone()
                    .unwrap_or_else(|| self.me.username.clone()),
            ),
            is_admin: self.me.is_admin,
            csrf: self.csrf.clone(),
        }
    }

    /// The refusal of a form whose token is not this session's (a
    /// cross-site post, or a form from an earlier session); `None` when the
    /// token is right.
    pub fn refuse_form(&self, token: &str) -> Option<Response> {
        if bool::from(self.csrf.as_bytes().ct_eq(token.as_bytes())) {
            None
        } else {
            Some(message(
                StatusCode::FORBIDDEN,
                Chrome::anonymous("Form expired"),
                "This form has expired",
                "The form was not sent from this session of the console. Reload the page and try again.",
                "/",
                "Back to the libraries",
            ))
        }
    }
}

async fn viewer_of(parts: &Parts, data: &Data) -> Result<Option<Viewer>, Response> {
    let Some(cookie) = session_cookie(parts) else {
        return Ok(None);
    };
    let session = Session(cookie);
    let me = data.me(&session).await.map_err(failure_page)?;
    Ok(me.map(|me| Viewer {
        csrf: Data::session_digest(&session),
        me,
        session,
    }))
}

impl FromRequestParts<Data> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, data: &Data) -> Result<Self, Response> {
        match viewer_of(parts, data).await? {
            Some(viewer) => Ok(viewer),
            None => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map_or("/", |p| p.as_str())
                    .to_owned();
                let query = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("next", &next)
                    .finish();
                Err(Redirect::to(&format!("/login?{query}")).into_response())
            }
        }
    }
}

impl OptionalFromRequestParts<Data> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, data: &Data) -> Result<Option<Self>, Response> {
        viewer_of(parts, data).await
    }
}

/// The frame around a page: its title and the header's navigation.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub title: String,
    /// The name shown for the signed-in person; `None` when signed out.
    pub user: Option<String>,
    pub is_admin: bool,
    pub csrf: String,
}

impl Chrome {
    pub fn anonymous(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            user: None,
            is_admin: false,
            csrf: String::new(),
        }
    }
}

/// A page as an HTML response with `status`.
pub fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "a console page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<!doctype html><title>Folio</title><p>This page could not be shown.</p>"),
            )
                .into_response()
        }
    }
}

pub fn ok(template: &impl Template) -> Response {
    render(StatusCode::OK, template)
}

/// A page that says one thing and offers one way on.
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub chrome: Chrome,
    pub heading: String,
    pub sentence: String,
    pub link: String,
    pub link_text: String,
}

pub fn message(
    status: StatusCode,
    chrome: Chrome,
    heading: &str,
    sentence: &str,
    link: &str,
    link_text: &str,
) -> Response {
    render(
        status,
        &MessagePage {
            chrome,
            heading: heading.to_owned(),
            sentence: sentence.to_owned(),
            link: link.to_owned(),
            link_text: link_text.to_owned(),
        },
    )
}

/// The not-found page (also what a stranger sees for a library they may
/// not read: the same as one that does not exist).
pub fn not_found(chrome: Chrome) -> Response {
    message(
        StatusCode::NOT_FOUND,
        chrome,
        "Not found",
        "There is nothing here, or you do not have access to it. Ask the library's owner to share it with you.",
        "/",
        "Back to the libraries",
    )
}

/// A failed call shown as a page: 404 as not found, otherwise the API's
/// message (which says what to fix).
pub fn failure_page(failure: Failure) -> Response {
    failure_page_for(Chrome::anonymous("Something went wrong"), failure, "/")
}

pub fn failure_page_for(chrome: Chrome, failure: Failure, back: &str) -> Response {
    if failure.is_not_found() {
        return not_found(chrome);
    }
    let heading = match failure.status {
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::CONFLICT => "Not possible right now",
        s if s.is_server_error() => "Something went wrong",
        _ => "That did not work",
    };
    message(
        failure.status,
        chrome,
        heading,
        &failure.message,
        back,
        "Go back",
    )
}

/// Bytes as a person reads them (1.5 MB).
pub fn human_bytes(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A moment as a person reads it (UTC).
pub fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A library type's name for people.
pub fn type_name(library_type: &str) -> &'static str {
    match library_type {
        "google-drive" => "Google Drive",
        "onedrive" => "OneDrive",
        "sharepoint" => "SharePoint",
        "dropbox" => "Dropbox",
        "local" => "Local",
        _ => "Other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_as_people_read_them() {
        assert_eq!(human_bytes(0), "0 bytes");
        assert_eq!(human_bytes(999), "999 bytes");
        assert_eq!(human_bytes(1500), "1.5 KB");
        assert_eq!(human_bytes(2_000_000), "2.0 MB");
    }
}
