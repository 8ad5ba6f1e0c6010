//! Billing orders with their items → ConnectWise sales orders with their products
//! (`cwsync_mapping::documents::orders`), on the push flow every document with products shares
//! ([`super::pushed`]).
//!
//! **Planning** lists the tenant's orders (500 a page) and the links of their accounts, bill-to
//! accounts and contacts, and stamps each order; an order whose link holds that stamp is not
//! sent. **A page** reads its orders by id, the links, the ConnectWise order statuses and members
//! (one read each, only when the page has an order to map), the sales orders by id and by
//! `description` (the billing order number), their products, and the catalog items; then pushes
//! each order. A stage or sales rep that maps to nothing fails the order naming the field.

use std::collections::HashMap;

use cwsync_billing::DocumentQuery;
use cwsync_billing::models::Order as BillingOrder;
use cwsync_connectwise::Query;
use cwsync_connectwise::models::{Member, Order, OrderStatus, Resource};
use cwsync_mapping::customers::entity as customer;
use cwsync_mapping::documents::lines::product_lines;
use cwsync_mapping::documents::orders::{OrderRefs, desired_order, order_changes, order_stamp};
use cwsync_store::links::LinkState;
use cwsync_sync::members::read_members;
use cwsync_sync::{RecordResult, Recorder, SyncError};

use super::products::{Parent, read_catalog};
use super::pushed::{CwDocument, Kind, Push, push, read_side};
use super::{
    Candidate, Candidates, DocContext, Document, company_ids, listed_in_order, malformed_lines,
};

/// Billing orders per listing page.
const LISTING_PAGE: u32 = 500;

/// How orders are pushed.
const KIND: Kind = Kind {
    parent: Parent::SalesOrder,
    cw_kind: "sales-order",
    key_field: "description",
    noun: "sales order",
    entity: "sales-order",
};

impl CwDocument for Order {
    fn id(&self) -> Option<i64> {
        self.id
    }
    fn company_id(&self) -> Option<i64> {
        self.company.as_ref().and_then(|c| c.id)
    }
    fn key(&self) -> Option<&str> {
        self.description.as_deref()
    }
}

/// The links the orders refer to: companies of their accounts and bill-to accounts, contacts.
struct OrderLinks {
    companies: HashMap<String, i64>,
    contacts: HashMap<String, i64>,
}

impl OrderLinks {
    async fn read(ctx: &DocContext<'_>, orders: &[&BillingOrder]) -> Result<Self, SyncError> {
        let accounts = orders.iter().flat_map(|o| {
            std::iter::once(o.account_id.clone()).chain(o.bill_to_account_id.clone())
        });
        let companies = company_ids(ctx, accounts).await?;
        let mut contact_ids: Vec<String> =
            orders.iter().filter_map(|o| o.contact_id.clone()).collect();
        contact_ids.sort();
        contact_ids.dedup();
        let contacts = ctx
            .links
            .get_many(ctx.tenant, customer::CONTACT, &contact_ids)
            .await?
            .into_iter()
            .filter(|(_, l)| l.state == LinkState::Linked)
            .filter_map(|(id, l)| Some((id, l.cw_id?)))
            .collect();
        Ok(OrderLinks {
            companies,
            contacts,
        })
    }

    /// The order's references; `None` while its account has no company.
    fn refs(&self, order: &BillingOrder) -> Option<OrderRefs> {
        let company = *self.companies.get(&order.account_id)?;
        Some(OrderRefs {
            company,
            bill_to: order
                .bill_to_account_id
                .as_ref()
                .and_then(|a| self.companies.get(a).copied())
                .filter(|&c| c != company),
            contact: order
                .contact_id
                .as_ref()
                .and_then(|c| self.contacts.get(c).copied()),
        })
    }

    fn stamp(&self, ctx: &DocContext<'_>, order: &BillingOrder) -> String {
        order_stamp(
            order,
            self.refs(order),
            &ctx.settings.documents,
            &ctx.settings.never_overwrite.orders,
        )
    }
}

/// Every order (or those of `ids`) with its stamp.
pub async fn candidates(
    ctx: &DocContext<'_>,
    ids: Option<&[String]>,
) -> Result<Candidates, SyncError> {
    let listed = ctx
        .clients
        .billing
        .list_orders(&DocumentQuery {
            ids: ids.map(<[String]>::to_vec),
            page_size: Some(LISTING_PAGE),
            ..DocumentQuery::default()
        })
        .await
        .map_err(|e| SyncError::billing("listing the orders", e))?;
    // An order made from a ConnectWise sales order (the sales-orders pull) is never sent back.
    let orders: Vec<&BillingOrder> = listed
        .records
        .iter()
        .filter(|o| o.external_reference.is_none())
        .collect();
    let links = OrderLinks::read(ctx, &orders).await?;
    Ok(Candidates {
        records: orders
            .iter()
            .map(|order| Candidate {
                id: order.id.clone(),
                stamp: links.stamp(ctx, order),
            })
            .collect(),
        lines: malformed_lines(Document::Orders.entity(), &listed.malformed),
        advance: None,
    })
}

/// Syncs the orders `ids` (see the module docs).
pub async fn sync_page(
    ctx: &DocContext<'_>,
    ids: &[String],
) -> Result<Vec<RecordResult>, SyncError> {
    let entity = Document::Orders.entity();
    let listed = ctx
        .clients
        .billing
        .list_orders(&DocumentQuery {
            ids: Some(ids.to_vec()),
            ..DocumentQuery::default()
        })
        .await
        .map_err(|e| SyncError::billing("reading the page's orders", e))?;
    let (orders, mut records) = listed_in_order(entity, ids, &listed, |o| &o.id);
    if orders.is_empty() {
        return Ok(records);
    }
    let links = OrderLinks::read(ctx, &orders).await?;
    let order_ids: Vec<String> = orders.iter().map(|o| o.id.clone()).collect();
    let own = ctx.links.get_many(ctx.tenant, entity, &order_ids).await?;
    let linked_id = |order: &BillingOrder| {
        own.get(&order.id)
            .filter(|l| l.state == LinkState::Linked)
            .and_then(|l| l.cw_id)
    };
    let wanted: Vec<(Option<i64>, String)> = orders
        .iter()
        .map(|o| (linked_id(o), o.number.clone()))
        .collect();
    let side = read_side::<Order>(ctx, &KIND, &wanted).await?;
    let catalog = read_catalog(ctx, orders.iter().flat_map(|o| &o.items)).await?;
    let (statuses, members) = read_reference(ctx).await?;
    let never = &ctx.settings.never_overwrite.orders;
    for order in orders {
        let stamp = links.stamp(ctx, order);
        let recorder = Recorder::new(entity, &order.id, stamp.clone());
        let Some(refs) = links.refs(order) else {
            records.push(recorder.failed(format!(
                "accountId: account {} has no ConnectWise company yet (the customer sync links \
                 it): the order waits for it",
                order.account_id
            )));
            continue;
        };
        let desired = match desired_order(order, refs, &statuses, &members, &ctx.settings.documents)
        {
            Ok(desired) => desired,
            Err(reason) => {
                records.push(recorder.failed(reason));
                continue;
            }
        };
        let lines = match product_lines(&order.items, &catalog.skus, &catalog.items) {
            Ok(lines) => lines,
            Err(unmatched) => {
                let named: Vec<String> = unmatched.iter().map(ToString::to_string).collect();
                records.push(recorder.failed(named.join("; ")));
                continue;
            }
        };
        let doc = Push {
            source_id: &order.id,
            recorder: &recorder,
            stamp: &stamp,
            company: refs.company,
            linked: linked_id(order),
            key: &order.number,
            desired,
            lines,
            never,
        };
        let line = Box::pin(push(ctx, &KIND, &side, doc, |current, desired| {
            order_changes(current, desired, never)
        }))
        .await?;
        records.push(line);
    }
    Ok(records)
}

/// The ConnectWise order statuses and members an order is mapped against (one read each).
async fn read_reference(
    ctx: &DocContext<'_>,
) -> Result<(Vec<OrderStatus>, Vec<Member>), SyncError> {
    let cw = &ctx.clients.cw;
    let statuses = async {
        cw.list_all::<OrderStatus>(
            OrderStatus::PATH,
            &Query::new()
                .fields(["id", "name", "defaultFlag", "inactiveFlag", "closedFlag"])
                .page_size(1000),
        )
        .await
        .map_err(|e| SyncError::connectwise("reading the order statuses", e))
    };
    let members = read_members(cw, None, "the members");
    tokio::try_join!(statuses, members)
}
