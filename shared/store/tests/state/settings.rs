//! Tenant settings in the store: versioned, conditional on the version read, validated first.

use crate::support::{T0, against_both_stores, tenant};
use cwsync_mapping::settings::{CwRef, TenantSettings};
use cwsync_store::StoreError;
use cwsync_store::settings::{DynamoSettingsStore, MemorySettingsStore, SettingsStore};
use std::sync::Arc;

fn edited(error_attempts: u32) -> TenantSettings {
    let mut settings = TenantSettings {
        error_attempts,
        ..TenantSettings::default()
    };
    settings
        .mappings
        .payment_terms
        .insert("Net 30".to_owned(), CwRef::name("Net 30 Days"));
    settings
}

async fn settings_are_created_then_replaced_version_by_version(store: Arc<dyn SettingsStore>) {
    let acme = tenant("acme");
    assert_eq!(store.get(&acme).await.unwrap(), None);
    assert_eq!(
        store
            .put(&acme, &TenantSettings::default(), None)
            .await
            .unwrap(),
        1
    );
    let stored = store.get(&acme).await.unwrap().unwrap();
    assert_eq!(
        (stored.version, &stored.value),
        (1, &TenantSettings::default())
    );

    assert_eq!(store.put(&acme, &edited(5), Some(1)).await.unwrap(), 2);
    let stored = store.get(&acme).await.unwrap().unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored.value, edited(5));
    assert_eq!(
        store.get(&tenant("other")).await.unwrap(),
        None,
        "settings are per tenant"
    );
}
against_both_stores!(
    settings_are_created_then_replaced_version_by_version,
    memory: MemorySettingsStore::new(),
    dynamo: DynamoSettingsStore::new
);

async fn a_stale_version_is_refused_so_two_admins_cannot_overwrite_each_other(
    store: Arc<dyn SettingsStore>,
) {
    let acme = tenant("acme");
    store
        .put(&acme, &TenantSettings::default(), None)
        .await
        .unwrap();
    // Both admins loaded version 1; the first saves.
    assert_eq!(store.put(&acme, &edited(4), Some(1)).await.unwrap(), 2);
    let second = store.put(&acme, &edited(9), Some(1)).await.unwrap_err();
    match &second {
        StoreError::Conflict { item, reason } => {
            assert_eq!(item, "tenant acme settings");
            assert!(
                reason.contains("expected version 1, but version 2 is stored"),
                "{reason}"
            );
        }
        other => panic!("expected a conflict, got {other}"),
    }
    assert_eq!(
        store.get(&acme).await.unwrap().unwrap().value,
        edited(4),
        "first save kept"
    );

    let create_again = store.put(&acme, &edited(9), None).await.unwrap_err();
    assert!(
        matches!(create_again, StoreError::Conflict { ref reason, .. } if reason.contains("already exist at version 2")),
        "{create_again}"
    );
    let replace_missing = store
        .put(&tenant("new"), &edited(9), Some(3))
        .await
        .unwrap_err();
    assert!(
        matches!(replace_missing, StoreError::Conflict { .. }),
        "{replace_missing}"
    );
    assert_eq!(store.get(&tenant("new")).await.unwrap(), None);
}
against_both_stores!(
    a_stale_version_is_refused_so_two_admins_cannot_overwrite_each_other,
    memory: MemorySettingsStore::new(),
    dynamo: DynamoSettingsStore::new
);

async fn repeating_a_save_that_went_through_is_not_a_conflict(store: Arc<dyn SettingsStore>) {
    let acme = tenant("acme");
    store
        .put(&acme, &TenantSettings::default(), None)
        .await
        .unwrap();
    assert_eq!(store.put(&acme, &edited(4), Some(1)).await.unwrap(), 2);
    // The same save again (what an SDK retry after a lost response does).
    assert_eq!(store.put(&acme, &edited(4), Some(1)).await.unwrap(), 2);
    assert_eq!(store.get(&acme).await.unwrap().unwrap().version, 2);
    // A different document from the same stale version still conflicts.
    assert!(matches!(
        store.put(&acme, &edited(5), Some(1)).await,
        Err(StoreError::Conflict { .. })
    ));
}
against_both_stores!(
    repeating_a_save_that_went_through_is_not_a_conflict,
    memory: MemorySettingsStore::new(),
    dynamo: DynamoSettingsStore::new
);

async fn concurrent_saves_of_one_version_let_exactly_one_win(store: Arc<dyn SettingsStore>) {
    let acme = tenant("acme");
    store
        .put(&acme, &TenantSettings::default(), None)
        .await
        .unwrap();
    let tasks = (1..=8).map(|attempts| {
        let (store, acme) = (store.clone(), acme.clone());
        tokio::spawn(async move { store.put(&acme, &edited(attempts), Some(1)).await })
    });
    let results: Vec<_> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners, [&2]);
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| matches!(e, StoreError::Conflict { .. }))
    );
}
against_both_stores!(
    concurrent_saves_of_one_version_let_exactly_one_win,
    memory: MemorySettingsStore::new(),
    dynamo: DynamoSettingsStore::new
);

async fn an_invalid_document_is_refused_naming_the_field(store: Arc<dyn SettingsStore>) {
    let acme = tenant("acme");
    let refused = store.put(&acme, &edited(0), None).await.unwrap_err();
    match &refused {
        StoreError::Invalid { field, reason } => {
            assert_eq!(field, "errorAttempts");
            assert_eq!(reason, "errorAttempts: must be between 1 and 100, got 0");
        }
        other => panic!("expected invalid, got {other}"),
    }
    let mut two_wrong = edited(200);
    two_wrong.statuses.default_active = "Live".to_owned();
    let refused = store.put(&acme, &two_wrong, None).await.unwrap_err();
    assert!(
        matches!(&refused, StoreError::Invalid { field, .. } if field == "statuses.defaultActive, errorAttempts"),
        "{refused}"
    );
    assert_eq!(store.get(&acme).await.unwrap(), None, "nothing was written");
    let _ = T0;
}
against_both_stores!(
    an_invalid_document_is_refused_naming_the_field,
    memory: MemorySettingsStore::new(),
    dynamo: DynamoSettingsStore::new
);

/// A document written by a newer schema (or by hand) is reported with the field, not guessed at.
#[tokio::test]
async fn a_stored_document_that_no_longer_parses_is_reported_as_malformed() {
    let Some(table) = crate::support::table().await else {
        return;
    };
    use aws_sdk_dynamodb::types::AttributeValue::{N, S};
    table
        .client
        .put_item()
        .table_name(&table.name)
        .item("pk", S("T#acme".into()))
        .item("sk", S("SETTINGS".into()))
        .item("version", N("7".into()))
        .item("document", S(r#"{"schemaVersion": 2}"#.into()))
        .send()
        .await
        .unwrap();
    let store = DynamoSettingsStore::new(table);
    let error = store.get(&tenant("acme")).await.unwrap_err();
    assert!(
        matches!(&error, StoreError::Malformed { item, detail } if item == "tenant acme settings" && detail.starts_with("schemaVersion: unsupported schema version 2")),
        "{error}"
    );
}

async fn the_tenant_registry_lists_every_tenant_with_settings(store: Arc<dyn SettingsStore>) {
    assert_eq!(
        store.tenants().await.unwrap(),
        Vec::<cwsync_store::TenantId>::new()
    );
    for name in ["zeta", "acme", "mid"] {
        store
            .put(&tenant(name), &TenantSettings::default(), None)
            .await
            .unwrap();
    }
    // Saving again does not list a tenant twice.
    store
        .put(&tenant("acme"), &edited(4), Some(1))
        .await
        .unwrap();
    assert_eq!(
        store.tenants().await.unwrap(),
        [tenant("acme"), tenant("mid"), tenant("zeta")]
    );
    // An invalid document is refused before anything is written, the registry entry included.
    assert!(store.put(&tenant("bad"), &edited(0), None).await.is_err());
    assert!(!store.tenants().await.unwrap().contains(&tenant("bad")));
}
against_both_stores!(
    the_tenant_registry_lists_every_tenant_with_settings,
    memory: MemorySettingsStore::new(),
    dynamo: DynamoSettingsStore::new
);
