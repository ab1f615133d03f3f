use folio_testkit::TestApp;
use serde_json::{Value, json};

use super::{DELETE, GET, PATCH, POST, PUT, assert_error};

#[tokio::test]
async fn create_returns_the_fixed_shape_and_get_works_by_uuid_and_natural_id() {
    let app = TestApp::spawn().await;
    let library = app
        .create_library(
            &app.admin_token,
            json!({"name": "Engineering Docs", "type": "local", "description": "specs"}),
        )
        .await;
    for key in [
        "id",
        "naturalId",
        "name",
        "type",
        "ownerId",
        "source",
        "syncSchedule",
        "createdAt",
        "updatedAt",
    ] {
        assert!(library.get(key).is_some(), "missing {key} in {library}");
    }
    assert_eq!(library["naturalId"], "engineering-docs");
    assert_eq!(library["type"], "local");
    assert_eq!(library["ownerId"], app.admin_id.to_string());
    assert_eq!(library["source"], json!({}));
    assert_eq!(library["syncSchedule"], Value::Null);

    let id = library["id"].as_str().unwrap();
    for key in [id, "engineering-docs"] {
        let got: Value = app
            .admin(GET, &format!("/api/libraries/{key}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(got["id"], id);
    }

    // A second library with the same name gets a free natural id.
    let second = app
        .create_library(
            &app.admin_token,
            json!({"name": "Engineering Docs", "type": "local"}),
        )
        .await;
    assert_eq!(second["naturalId"], "engineering-docs-2");
}

#[tokio::test]
async fn create_accepts_source_and_schedule() {
    let app = TestApp::spawn().await;
    let library = app
        .create_library(
            &app.admin_token,
            json!({"name": "Drive", "naturalId": "drive", "type": "google-drive",
                   "source": {"folderId": "abc", "driveId": "0AXYZ"}, "syncSchedule": {"intervalMinutes": 60}}),
        )
        .await;
    assert_eq!(
        library["source"],
        json!({"folderId": "abc", "driveId": "0AXYZ"})
    );
    assert_eq!(library["syncSchedule"], json!({"intervalMinutes": 60}));
}

#[tokio::test]
async fn bad_library_input_names_the_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let cases = [
        (json!({"type": "local"}), "name"),
        (json!({"name": "  ", "type": "local"}), "name"),
        (json!({"name": "x", "type": "ftp"}), "type"),
        (json!({"name": "x"}), "type"),
        (
            json!({"name": "x", "type": "local", "naturalId": "Not Valid"}),
            "naturalId",
        ),
        (
            json!({"name": "x", "type": "local", "naturalId": "01906b8e-7a59-7c1c-b5a0-1f5f0c3d9e2a"}),
            "naturalId",
        ),
        (
            json!({"name": "x", "type": "dropbox", "source": {"path": "relative"}}),
            "source.path",
        ),
        (
            json!({"name": "x", "type": "dropbox", "source": {"bogus": 1}}),
            "bogus",
        ),
        (
            json!({"name": "x", "type": "local", "syncSchedule": {"intervalMinutes": 0}}),
            "syncSchedule",
        ),
        (
            json!({"name": "x", "type": "local", "extra": true}),
            "extra",
        ),
        (json!({"name": 5, "type": "local"}), "name"),
    ];
    for (body, field) in cases {
        let response = app
            .admin(POST, "/api/libraries")
            .json(&body)
            .send()
            .await
            .unwrap();
        let message = assert_error(response, 400).await;
        assert!(
            message.contains(field),
            "'{message}' should name {field} for {body}"
        );
    }
    let list: Value = app
        .admin(GET, "/api/libraries")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], json!([]), "nothing was written");

    app.create_library(
        &app.admin_token,
        json!({"name": "a", "naturalId": "taken", "type": "local"}),
    )
    .await;
    let response = app
        .admin(POST, "/api/libraries")
        .json(&json!({"name": "b", "naturalId": "taken", "type": "local"}))
        .send()
        .await
        .unwrap();
    let message = assert_error(response, 409).await;
    assert!(message.contains("naturalId"), "{message}");
}

#[tokio::test]
async fn patch_changes_fields_and_null_clears() {
    let app = TestApp::spawn().await;
    app.create_library(
        &app.admin_token,
        json!({"name": "Docs", "naturalId": "docs", "type": "local", "description": "d",
               "syncSchedule": {"intervalMinutes": 5}}),
    )
    .await;
    let patched: Value = app
        .admin(PATCH, "/api/libraries/docs")
        .json(&json!({"name": "Team Docs", "naturalId": "team-docs", "description": null, "syncSchedule": null}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(patched["name"], "Team Docs");
    assert_eq!(patched["naturalId"], "team-docs");
    assert_eq!(patched["description"], Value::Null);
    assert_eq!(patched["syncSchedule"], Value::Null);
    let old = app.admin(GET, "/api/libraries/docs").send().await.unwrap();
    assert_error(old, 404).await;

    let bad = app
        .admin(PATCH, "/api/libraries/team-docs")
        .json(&json!({"name": "", "naturalId": "ok"}))
        .send()
        .await
        .unwrap();
    assert_error(bad, 400).await;
    let still: Value = app
        .admin(GET, "/api/libraries/team-docs")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        still["name"], "Team Docs",
        "a rejected patch changes nothing"
    );
    let typed = app
        .admin(PATCH, "/api/libraries/team-docs")
        .json(&json!({"type": "dropbox"}))
        .send()
        .await
        .unwrap();
    assert_error(typed, 400).await;
}

/// Each caller sees what docs/api.md says: owner and admin everything,
/// shares by level, strangers nothing (404, never 403).
#[tokio::test]
async fn permission_rules() {
    let app = TestApp::spawn().await;
    let (_owner, owner) = app.create_user("owner").await;
    let (reader_id, reader) = app.create_user("reader").await;
    let (syncer_id, syncer) = app.create_user("syncer").await;
    let (writer_id, writer) = app.create_user("writer").await;
    let (_stranger_id, stranger) = app.create_user("stranger").await;
    app.create_library(
        &owner,
        json!({"name": "Private", "naturalId": "private", "type": "local"}),
    )
    .await;
    for (user, level) in [
        (reader_id, "read"),
        (syncer_id, "sync"),
        (writer_id, "write"),
    ] {
        let response = app
            .as_token(
                &owner,
                PUT,
                &format!("/api/libraries/private/shares/{user}"),
            )
            .json(&json!({"level": level}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    // read
    for token in [&owner, &reader, &syncer, &writer, &app.admin_token] {
        let response = app
            .as_token(token, GET, "/api/libraries/private")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let hidden = app
        .as_token(&stranger, GET, "/api/libraries/private")
        .send()
        .await
        .unwrap();
    let message = assert_error(hidden, 404).await;
    assert_eq!(message, "library 'private' not found");

    // listing shows only what the caller can read
    let listed = |token: String| {
        let app = &app;
        async move {
            let list: Value = app
                .as_token(&token, GET, "/api/libraries")
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            list["items"].as_array().unwrap().len()
        }
    };
    assert_eq!(listed(reader.clone()).await, 1);
    assert_eq!(listed(stranger.clone()).await, 0);
    assert_eq!(listed(app.admin_token.clone()).await, 1);

    // write: patch
    for (token, status) in [
        (&reader, 403),
        (&syncer, 403),
        (&stranger, 404),
        (&writer, 200),
        (&app.admin_token, 200),
    ] {
        let response = app
            .as_token(token, PATCH, "/api/libraries/private")
            .json(&json!({"description": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status);
    }
    // shares need write too
    let response = app
        .as_token(
            &reader,
            PUT,
            &format!("/api/libraries/private/shares/{reader_id}"),
        )
        .json(&json!({"level": "write"}))
        .send()
        .await
        .unwrap();
    assert_error(response, 403).await;
    let response = app
        .as_token(&stranger, GET, "/api/libraries/private/shares")
        .send()
        .await
        .unwrap();
    assert_error(response, 404).await;
    let shares: Value = app
        .as_token(&writer, GET, "/api/libraries/private/shares")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shares["items"].as_array().unwrap().len(), 3);

    // removing a share removes access
    let response = app
        .as_token(
            &owner,
            DELETE,
            &format!("/api/libraries/private/shares/{reader_id}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let gone = app
        .as_token(&reader, GET, "/api/libraries/private")
        .send()
        .await
        .unwrap();
    assert_error(gone, 404).await;

    // delete: strangers 404, syncers 403, owner 204
    let response = app
        .as_token(&stranger, DELETE, "/api/libraries/private")
        .send()
        .await
        .unwrap();
    assert_error(response, 404).await;
    let response = app
        .as_token(&syncer, DELETE, "/api/libraries/private")
        .send()
        .await
        .unwrap();
    assert_error(response, 403).await;
    let response = app
        .as_token(&owner, DELETE, "/api/libraries/private")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let response = app
        .as_token(&owner, GET, "/api/libraries/private")
        .send()
        .await
        .unwrap();
    assert_error(response, 404).await;
}

#[tokio::test]
async fn share_input_is_checked() {
    let app = TestApp::spawn().await;
    let (user, _) = app.create_user("dora").await;
    app.create_library(
        &app.admin_token,
        json!({"name": "S", "naturalId": "s", "type": "local"}),
    )
    .await;
    let response = app
        .admin(PUT, &format!("/api/libraries/s/shares/{user}"))
        .json(&json!({"level": "owner"}))
        .send()
        .await
        .unwrap();
    let message = assert_error(response, 400).await;
    assert!(message.contains("level"));
    let response = app
        .admin(
            PUT,
            &format!("/api/libraries/s/shares/{}", uuid::Uuid::new_v4()),
        )
        .json(&json!({"level": "read"}))
        .send()
        .await
        .unwrap();
    assert_error(response, 404).await;
    let response = app
        .admin(PUT, "/api/libraries/s/shares/nobody")
        .json(&json!({"level": "read"}))
        .send()
        .await
        .unwrap();
    let message = assert_error(response, 404).await;
    assert_eq!(message, "user 'nobody' not found");
    let library = app.store.library_by_natural_id("s").await.unwrap().unwrap();
    assert!(app.store.list_shares(library.id).await.unwrap().is_empty());
    let response = app
        .admin(DELETE, &format!("/api/libraries/s/shares/{user}"))
        .send()
        .await
        .unwrap();
    assert_error(response, 404).await;
}

/// serde's derive reads a struct from a sequence of its fields; the API
/// accepts only the objects its document describes.
#[tokio::test]
async fn bodies_and_nested_objects_must_be_objects() {
    let app = TestApp::spawn().await;
    app.create_library(
        &app.admin_token,
        json!({"name": "Drive", "naturalId": "drive", "type": "google-drive",
               "source": {"folderId": "kept"}}),
    )
    .await;
    for (body, field) in [
        (json!({"source": ["someFolderId"]}), "source"),
        (json!({"source": [null, null]}), "source"),
        (json!({"source": "someFolderId"}), "source"),
        (json!({"syncSchedule": [5]}), "syncSchedule"),
        (json!({"syncSchedule": 5}), "syncSchedule"),
    ] {
        let response = app
            .admin(PATCH, "/api/libraries/drive")
            .json(&body)
            .send()
            .await
            .unwrap();
        let message = assert_error(response, 400).await;
        assert!(
            message.contains("expected a JSON object"),
            "{body}: {message}"
        );
        assert!(message.contains(field), "{body}: {message}");
    }
    for body in [
        json!(["Docs", null, "local"]),
        json!([]),
        json!("Docs"),
        json!(null),
    ] {
        let response = app
            .admin(POST, "/api/libraries")
            .json(&body)
            .send()
            .await
            .unwrap();
        let message = assert_error(response, 400).await;
        assert!(
            message.contains("expected a JSON object"),
            "{body}: {message}"
        );
    }
    let response = app
        .admin(PUT, "/api/libraries/drive/shares/admin")
        .json(&json!(["read"]))
        .send()
        .await
        .unwrap();
    assert_error(response, 400).await;
    for body in [json!([true]), json!([false, "p"]), json!("purge")] {
        let response = app
            .admin(POST, "/api/libraries/drive/_sync")
            .json(&body)
            .send()
            .await
            .unwrap();
        let message = assert_error(response, 400).await;
        assert!(
            message.contains("expected a JSON object"),
            "{body}: {message}"
        );
    }

    let library: Value = app
        .admin(GET, "/api/libraries/drive")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        library["source"],
        json!({"folderId": "kept"}),
        "nothing changed"
    );
    assert_eq!(library["syncSchedule"], Value::Null);
    let list: Value = app
        .admin(GET, "/api/libraries")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "nothing created"
    );
}
