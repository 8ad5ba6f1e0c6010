//! Serde models of the ConnectWise Manage records cwsync reads and writes.
//!
//! Conventions, the same for every model:
//! - JSON keys are camelCase; the key `type` is the Rust field `kind`, and `_info` is `info`.
//! - Every field is an `Option` that is omitted when `None`, so a model serialises only what was
//!   set: a POST body sends only the fields we chose, and PATCH diffs compare like with like.
//!   Fields the spec marks required are optional too, because `fields=` partial responses and
//!   older servers leave them out; the server enforces them on write.
//! - Unknown keys are ignored on read. `null`s read as absent (real responses omit them anyway).
//! - References to other records are [`Reference`]; send them as [`Reference::id`].
//! - Amounts, rates, hours and quantities are `rust_decimal::Decimal` read from a JSON number or
//!   a numeric string and written as a number ([`money`]). Fields the spec types as `date-time`
//!   are `time::OffsetDateTime` read tolerantly and written as `YYYY-MM-DDTHH:MM:SSZ`
//!   ([`datetime`]); date-like fields the spec leaves as plain strings stay `String`.
//! - Enumerations of the spec are `String`s (the documented values are listed on the field), so a
//!   value added by a newer server never rejects a record.
//!
//! Field names and types follow `tests/connectwise-sim/schema/connectwise-facts.json`. Models
//! never perform I/O and never validate business rules.

pub mod common;
pub mod company;
pub mod datetime;
pub mod finance;
/// Decimal amounts on the wire: shared with the billing client ([`cwsync_http::amount`]).
pub use cwsync_http::amount as money;
pub mod procurement;
pub mod project;
pub mod sales;
pub mod service;
pub mod system;
pub mod time_entry;

pub use common::{CustomFieldValue, Info, RedactedString, Reference};
pub use company::{
    CommunicationType, Company, CompanySite, CompanyStatus, CompanyType, CompanyTypeAssociation,
    Contact, ContactCommunicationItem, Country, State,
};
pub use finance::{
    Addition, Agreement, AgreementType, Currency, Invoice, InvoicePayment, WisePayBatchPayment,
    WisePayFeeInvoice, WisePayPayment,
};
pub use procurement::{
    CatalogItem, Category, ProductItem, ProductRecurring, ProductType, SubCategory, UnitOfMeasure,
};
pub use project::{Project, ProjectPhase, ProjectTicket, TicketTask};
pub use sales::{
    Forecast, ForecastItem, Opportunity, OpportunityStatus, OpportunityType, Order, OrderStatus,
    RevenueSummary, SalesOrderLineItem,
};
pub use service::{Board, BoardStatus, BoardType, Priority, ServiceNote, Ticket};
pub use system::{
    CallbackAction, CallbackEntityError, CallbackEntry, CallbackMetadata, CallbackPayload,
    CompanyInfo, Count, DocumentInfo, LicenseBit, Member, MemberOffice365, SystemInfo,
};
pub use time_entry::TimeEntry;

/// A record type with a flat collection under `apis/3.0`, e.g. `Company::PATH` is
/// `/company/companies`; one record is `{PATH}/{id}` and the count is `{PATH}/count`.
///
/// Records that live under a parent (sites, notes, additions, ...) have a `path(parent_id)`
/// function instead.
pub trait Resource {
    const PATH: &'static str;
}
