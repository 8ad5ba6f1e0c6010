//! Tenants never see each other: each reaches only its own ConnectWise, billing system and links.

use std::sync::Arc;

use crate::support::*;
use cwsync_billing_sim::{BillingSim, BillingSimOptions};
use cwsync_connectwise_sim::{SimOptions, Simulator};
use cwsync_customer_sync::{CustomerSync, FUNCTION};
use cwsync_queue::MemoryJobQueue;
use cwsync_runtime::{Config, Deps, StaticTenantSecrets};
use cwsync_store::TenantId;
use cwsync_store::links::SourceRef;
use serde_json::json;
use time::OffsetDateTime;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tenants_with_the_same_account_ids_each_get_their_own_company_and_links() {
    let (cw_a, cw_b) = (
        Simulator::start(SimOptions::default()).await.unwrap(),
        Simulator::start(SimOptions::default()).await.unwrap(),
    );
    let (billing_a, billing_b) = (
        BillingSim::start(BillingSimOptions::default())
            .await
            .unwrap(),
        BillingSim::start(BillingSimOptions::default())
            .await
            .unwrap(),
    );
    billing_a.seed_accounts(vec![account("A-1", "ACME", "Acme of tenant a")]);
    billing_b.seed_accounts(vec![account("A-1", "ACME", "Acme of tenant b")]);
    let secrets = StaticTenantSecrets::new()
        .with_secret_json("tenant-a", &secret(&cw_a, &billing_a).to_string())
        .unwrap()
        .with_secret_json("tenant-b", &secret(&cw_b, &billing_b).to_string())
        .unwrap();
    let mut deps = Deps::local(FUNCTION, Config::local(), secrets);
    deps.stores = stores("customer-sync").await;
    let queue = Arc::new(MemoryJobQueue::new());
    deps.queues.customer = Some(queue.clone());
    let service = CustomerSync::new(Arc::new(deps), fast_options());
    let deadline = OffsetDateTime::now_utc() + time::Duration::minutes(5);

    service
        .handle(
            json!({"action": "sync-tenant", "tenant": "tenant-a"}),
            deadline,
        )
        .await
        .unwrap();
    service.deliver_all(&queue, 5).await;

    assert_eq!(cw_a.records("/company/companies").len(), 1);
    assert!(
        cw_b.records("/company/companies").is_empty(),
        "tenant b's ConnectWise untouched"
    );
    assert_eq!(
        billing_b.calls().total(),
        0,
        "tenant b's billing system untouched"
    );
    let links = &service.deps.stores.links;
    let tenant_b = TenantId::parse("tenant-b").unwrap();
    assert!(
        links
            .get(&tenant_b, SourceRef::new("company", "A-1"))
            .await
            .unwrap()
            .is_none()
    );

    service
        .handle(
            json!({"action": "sync-tenant", "tenant": "tenant-b"}),
            deadline,
        )
        .await
        .unwrap();
    service.deliver_all(&queue, 5).await;

    let b_company = &cw_b.records("/company/companies")[0];
    assert_eq!(
        b_company["name"], "Acme of tenant b",
        "created in b, not linked to a's company"
    );
    let tenant_a = TenantId::parse("tenant-a").unwrap();
    let a_link = links
        .get(&tenant_a, SourceRef::new("company", "A-1"))
        .await
        .unwrap()
        .unwrap();
    let b_link = links
        .get(&tenant_b, SourceRef::new("company", "A-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        a_link.cw_id,
        cw_a.records("/company/companies")[0]["id"].as_i64()
    );
    assert_eq!(b_link.cw_id, b_company["id"].as_i64());
    assert_eq!(cw_a.records("/company/companies").len(), 1);
}
