//! Integrations, their library links, OAuth states and connections.

use super::*;

fn integration(id: Uuid) -> folio_store::Integration {
    let now = Utc::now();
    folio_store::Integration {
        id,
        integration_type: folio_domain::ProviderKind::Dropbox,
        name: "Dropbox".into(),
        client_id: "client".into(),
        client_secret_sealed: "sealed-secret".into(),
        auth_uri: None,
        token_uri: Some("https://example.com/token".into()),
        scope: None,
        api_uri: None,
        tenant: None,
        created_at: now,
        updated_at: now,
    }
}

fn connection(library_id: Uuid, integration_id: Uuid, owner_id: Uuid) -> folio_store::Connection {
    let now = Utc::now();
    folio_store::Connection {
        id: Uuid::now_v7(),
        library_id,
        integration_id,
        owner_id,
        provider_account_id: "dbid:1".into(),
        access_token_sealed: "a1".into(),
        refresh_token_sealed: Some("r1".into()),
        token_expires_at: Some(now),
        refresh_token_expires_at: None,
        status: "active".into(),
        version: 0,
        refresh_lease_until: None,
        last_authorized_at: now,
        last_refreshed_at: None,
        created_at: now,
        updated_at: now,
    }
}

#[tokio::test]
async fn integrations_library_links_and_oauth_states() {
    let dir = TempDir::new().unwrap();
    let store = fresh_store(&dir).await;
    let owner = user(&store, "owner").await;
    let lib = library(&store, owner, "docs").await;
    let id = Uuid::now_v7();
    store.create_integration(&integration(id)).await.unwrap();
    let mut got = store.integration(id).await.unwrap().unwrap();
    assert_eq!(got.token_uri.as_deref(), Some("https://example.com/token"));
    got.name = "Renamed".into();
    store.update_integration(&got).await.unwrap();
    assert_eq!(store.list_integrations().await.unwrap()[0].name, "Renamed");

    assert!(store.library_integration(lib).await.unwrap().is_none());
    assert!(
        store
            .set_library_integration(lib, id)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store.library_integration(lib).await.unwrap().unwrap().id,
        id
    );
    assert!(matches!(
        store.delete_integration(id).await,
        Err(StoreError::Conflict(_))
    ));

    // A new integration drops the connection made with the old one.
    store
        .put_connection(&connection(lib, id, owner))
        .await
        .unwrap();
    let other = Uuid::now_v7();
    store.create_integration(&integration(other)).await.unwrap();
    let dropped = store.set_library_integration(lib, other).await.unwrap();
    assert_eq!(dropped.unwrap().integration_id, id);
    assert!(store.connection_for_library(lib).await.unwrap().is_none());
    store.delete_integration(id).await.unwrap();

    let now = Utc::now();
    let state = folio_store::OAuthState {
        state_hash: "h1".into(),
        user_id: owner,
        library_id: lib,
        integration_id: other,
        pkce_verifier_sealed: "v".into(),
        redirect_uri: "http://x/cb".into(),
        return_to: None,
        switch_account: true,
        created_at: now,
        expires_at: now + chrono::Duration::minutes(10),
    };
    store.put_oauth_state(&state).await.unwrap();
    let expired = folio_store::OAuthState {
        state_hash: "h2".into(),
        expires_at: now - chrono::Duration::minutes(1),
        ..state.clone()
    };
    store.put_oauth_state(&expired).await.unwrap();
    assert_eq!(store.delete_expired_oauth_states(now).await.unwrap(), 1);
    let taken = store.take_oauth_state("h1").await.unwrap().unwrap();
    assert!(taken.switch_account);
    assert!(
        store.take_oauth_state("h1").await.unwrap().is_none(),
        "single use"
    );
}

#[tokio::test]
async fn refresh_leases_are_compare_and_set() {
    let dir = TempDir::new().unwrap();
    let store = fresh_store(&dir).await;
    let owner = user(&store, "owner").await;
    let lib = library(&store, owner, "docs").await;
    let iid = Uuid::now_v7();
    store.create_integration(&integration(iid)).await.unwrap();
    let c = store
        .put_connection(&connection(lib, iid, owner))
        .await
        .unwrap();
    let now = Utc::now();
    let lease = now + chrono::Duration::seconds(60);

    let claimed = store
        .begin_refresh(c.id, c.version, now, lease)
        .await
        .unwrap()
        .unwrap();
    assert!(
        store
            .begin_refresh(c.id, c.version, now, lease)
            .await
            .unwrap()
            .is_none(),
        "stale version"
    );
    assert!(
        store
            .begin_refresh(c.id, claimed, now, lease)
            .await
            .unwrap()
            .is_none(),
        "live lease"
    );
    let tokens = folio_store::SealedTokens {
        access_token_sealed: "a2".into(),
        refresh_token_sealed: None,
        token_expires_at: Some(lease),
        refresh_token_expires_at: None,
    };
    assert!(
        !store
            .finish_refresh(c.id, claimed + 1, &tokens, now)
            .await
            .unwrap(),
        "wrong version"
    );
    assert!(
        store
            .finish_refresh(c.id, claimed, &tokens, now)
            .await
            .unwrap()
    );
    let after = store.connection(c.id).await.unwrap().unwrap();
    assert_eq!(after.access_token_sealed, "a2");
    assert_eq!(
        after.refresh_token_sealed.as_deref(),
        Some("r1"),
        "kept when not rotated"
    );
    assert!(after.refresh_lease_until.is_none());
    assert!(after.last_refreshed_at.is_some());

    // An expired lease can be taken over.
    let v = after.version;
    let claimed = store
        .begin_refresh(c.id, v, now, now)
        .await
        .unwrap()
        .unwrap();
    let later = now + chrono::Duration::seconds(1);
    assert!(
        store
            .begin_refresh(c.id, claimed, later, later)
            .await
            .unwrap()
            .is_some()
    );

    assert!(
        store
            .set_connection_status(c.id, "needsReauthorization")
            .await
            .unwrap()
    );
    assert!(
        store
            .connections_idle_since(later)
            .await
            .unwrap()
            .is_empty(),
        "only active ones"
    );

    // Sealed values for rotation, replaced only if unchanged.
    let values = store.sealed_values().await.unwrap();
    assert_eq!(values.len(), 3, "{values:?}");
    let access = values.iter().find(|v| v.column == "access_token").unwrap();
    assert!(store.replace_sealed_value(access, "a3").await.unwrap());
    assert!(
        !store.replace_sealed_value(access, "a4").await.unwrap(),
        "changed meanwhile"
    );
    assert!(store.delete_connection(c.id).await.unwrap());
    assert!(!store.delete_connection(c.id).await.unwrap());
}
