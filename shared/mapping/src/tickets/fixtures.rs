//! A finished ticket and the billing side it maps against, for the ticket rules' tests.

use std::collections::HashMap;

use cwsync_billing::models::{Contract, Item, ProductType, Technician};
use cwsync_connectwise::models::{
    CatalogItem, Info, Member, ProductItem, Reference, Ticket, TimeEntry,
};
use rust_decimal::Decimal;
use time::OffsetDateTime;
use time::macros::datetime;

use super::{MappedCall, Resolved, TicketProblem, TicketReference, TicketSide, map_ticket};
use crate::settings::TenantSettings;

pub(crate) fn named(name: &str) -> Reference {
    Reference {
        name: Some(name.to_owned()),
        ..Reference::default()
    }
}

pub(crate) fn reference(id: i64, name: &str) -> Reference {
    Reference {
        id: Some(id),
        name: Some(name.to_owned()),
        ..Reference::default()
    }
}

pub(crate) fn member_ref(id: i64, identifier: &str) -> Reference {
    Reference {
        id: Some(id),
        identifier: Some(identifier.to_owned()),
        ..Reference::default()
    }
}

pub(crate) fn catalog_ref(id: i64, identifier: &str) -> Reference {
    member_ref(id, identifier)
}

pub(crate) fn info_at(unix: i64) -> Info {
    Info {
        last_updated: OffsetDateTime::from_unix_timestamp(unix).ok(),
        ..Info::default()
    }
}

fn technician(id: &str, email: Option<&str>, identifier: &str, active: bool) -> Technician {
    Technician {
        id: id.to_owned(),
        name: format!("Tech {id}"),
        email: email.map(str::to_owned),
        identifier: Some(identifier.to_owned()),
        active,
        updated_at: OffsetDateTime::UNIX_EPOCH,
    }
}

fn item(id: &str, sku: &str, placeholder: bool) -> Item {
    Item {
        id: id.to_owned(),
        sku: sku.to_owned(),
        name: sku.to_owned(),
        product_type_id: None,
        unit: None,
        price: None,
        active: true,
        placeholder,
        updated_at: OffsetDateTime::UNIX_EPOCH,
    }
}

pub(crate) fn contract(
    id: &str,
    account: &str,
    number: &str,
    name: Option<&str>,
    status: &str,
) -> Contract {
    Contract {
        id: id.to_owned(),
        account_id: account.to_owned(),
        number: number.to_owned(),
        name: name.map(str::to_owned),
        status: status.to_owned(),
        start_date: None,
        end_date: None,
        external_reference: None,
        template_id: None,
        billable: true,
        period_start: None,
        period_end: None,
        lines: Vec::new(),
        custom_fields: Default::default(),
        version: 1,
        updated_at: OffsetDateTime::UNIX_EPOCH,
    }
}

/// Ticket 500 of company 9 (account A-1), Completed, with one 1.5-hour time entry by `jdoe`
/// and one product (SKU `TONER-BK`, which the billing system has).
pub(crate) struct World {
    pub ticket: Ticket,
    pub entries: Vec<TimeEntry>,
    pub products: Vec<ProductItem>,
    pub catalog: HashMap<i64, CatalogItem>,
    pub reference: TicketReference,
    pub resolved: Resolved,
    pub settings: TenantSettings,
}

impl World {
    pub fn new() -> Self {
        let ticket = Ticket {
            id: Some(500),
            summary: Some("Printer jams".to_owned()),
            status: Some(named("Completed")),
            company: Some(Reference {
                id: Some(9),
                identifier: Some("ACME".to_owned()),
                ..Reference::default()
            }),
            info: Some(info_at(1_900_000_000)),
            ..Ticket::default()
        };
        let entry = TimeEntry {
            id: Some(70),
            charge_to_id: Some(500),
            charge_to_type: Some("ServiceTicket".to_owned()),
            member: Some(member_ref(5, "jdoe")),
            work_type: Some(named("Remote Support")),
            time_start: Some(datetime!(2026-11-02 09:00 UTC)),
            time_end: Some(datetime!(2026-11-02 10:30 UTC)),
            actual_hours: Some(Decimal::new(15, 1)),
            billable_option: Some("Billable".to_owned()),
            notes: Some("Cleared the jam".to_owned()),
            info: Some(info_at(1_900_000_000)),
            ..TimeEntry::default()
        };
        let product = ProductItem {
            id: Some(90),
            catalog_item: Some(catalog_ref(200, "TONER-BK")),
            description: Some("Toner cartridge".to_owned()),
            quantity: Some(Decimal::from(2)),
            price: Some(Decimal::new(8950, 2)),
            ..ProductItem::default()
        };
        let catalog_item = |id: i64, identifier: &str| CatalogItem {
            id: Some(id),
            identifier: Some(identifier.to_owned()),
            kind: Some(named("Non-Inventory")),
            ..CatalogItem::default()
        };
        let catalog = HashMap::from([
            (200, catalog_item(200, "TONER-BK")),
            (300, catalog_item(300, "MYSTERY-1")),
        ]);
        let reference = TicketReference {
            technicians: vec![
                technician("T-100", Some("jdoe@example.com"), "jdoe.x", true),
                technician("T-101", Some("Sam.Rivera@Example.com"), "srivera", true),
                technician("T-102", None, "old", false),
            ],
            members: vec![Member {
                id: Some(5),
                identifier: Some("jdoe".to_owned()),
                office_email: Some("JDoe@Example.com".to_owned()),
                ..Member::default()
            }],
            items: vec![
                item("I-TONER", "TONER-BK", false),
                item("I-PH-HW", "PLACEHOLDER-HW", true),
            ],
            product_types: vec![ProductType {
                id: "PT-HW".to_owned(),
                name: "Hardware".to_owned(),
                placeholder_item_id: Some("I-PH-HW".to_owned()),
                active: true,
                updated_at: OffsetDateTime::UNIX_EPOCH,
            }],
            ..TicketReference::default()
        };
        let mut settings = TenantSettings::default();
        settings
            .ticket_import
            .product_types
            .insert("Non-Inventory".to_owned(), "Hardware".to_owned());
        World {
            ticket,
            entries: vec![entry],
            products: vec![product],
            catalog,
            reference,
            resolved: Resolved {
                account_id: Some("A-1".to_owned()),
                contracts: HashMap::new(),
            },
            settings,
        }
    }

    pub fn side(&self) -> TicketSide<'_> {
        TicketSide {
            ticket: &self.ticket,
            time_entries: &self.entries,
            products: &self.products,
            catalog: &self.catalog,
        }
    }

    pub fn map(&self) -> Result<MappedCall, Vec<TicketProblem>> {
        map_ticket(
            &self.side(),
            &self.resolved,
            &self.reference,
            &self.settings,
        )
    }
}
