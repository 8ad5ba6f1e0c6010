//! The little the facts file cannot say about each resource: its name in error messages, the key of its
//! `_info` href, which fields must be unique, which callback type it raises, how a child record points at
//! its parent, and which collection a `XxxReference` schema points into. Keep this a table of facts; the
//! behaviour lives in the store and the server.

/// What the simulator knows about one collection (by its template, e.g. `/company/companies`).
#[derive(Debug, Clone, Copy)]
pub struct ResourceInfo {
    /// Collection template, without trailing slash.
    pub collection: &'static str,
    /// Name used in error bodies (`"resource": "company"`, `"company object is invalid"`).
    pub resource: &'static str,
    /// Key prefix of the href in references to this resource: `company` → `company_href`.
    pub href_kind: &'static str,
    /// Fields whose values must be unique (case-insensitively) within the collection (per parent for children).
    pub unique: &'static [&'static str],
    /// Callback `type` raised by changes to these records.
    pub callback_type: Option<&'static str>,
    /// The parent's kind for child collections: a child record gets `<kind>Id` or `<kind>` (reference).
    pub parent_kind: Option<&'static str>,
    /// Collection this one is an alias of (same records, different URL), if any.
    pub alias_of: Option<&'static str>,
    /// A read-only view of another collection's records whose field (a `/` path) equals the
    /// parent id: `/service/tickets/{parentId}/timeentries` lists the time entries charged to it.
    pub view_of: Option<(&'static str, &'static str)>,
}

const fn res(
    collection: &'static str,
    resource: &'static str,
    href_kind: &'static str,
) -> ResourceInfo {
    ResourceInfo {
        collection,
        resource,
        href_kind,
        unique: &[],
        callback_type: None,
        parent_kind: None,
        alias_of: None,
        view_of: None,
    }
}

const fn unique(mut r: ResourceInfo, fields: &'static [&'static str]) -> ResourceInfo {
    r.unique = fields;
    r
}

const fn callback(mut r: ResourceInfo, kind: &'static str) -> ResourceInfo {
    r.callback_type = Some(kind);
    r
}

const fn child(mut r: ResourceInfo, parent_kind: &'static str) -> ResourceInfo {
    r.parent_kind = Some(parent_kind);
    r
}

const fn view(mut r: ResourceInfo, of: &'static str, field: &'static str) -> ResourceInfo {
    r.view_of = Some((of, field));
    r
}

const fn alias(mut r: ResourceInfo, of: &'static str) -> ResourceInfo {
    r.alias_of = Some(of);
    r
}

/// Every collection the simulator knows. The first block is routed by the facts file; the last block is
/// reference data that is not part of the API subset but that references point into (locations,
/// currencies...): those collections can only be seeded, and references into them are checked once they
/// have been seeded.
pub const RESOURCES: &[ResourceInfo] = &[
    callback(
        unique(
            res("/company/companies", "company", "company"),
            &["identifier"],
        ),
        "company",
    ),
    child(
        res("/company/companies/{parentId}/sites", "site", "site"),
        "company",
    ),
    callback(res("/company/contacts", "contact", "contact"), "contact"),
    res("/company/states", "state", "state"),
    unique(res("/company/countries", "country", "country"), &["name"]),
    unique(
        res("/company/companies/types", "companyType", "type"),
        &["name"],
    ),
    unique(
        res("/company/companies/statuses", "companyStatus", "status"),
        &["name"],
    ),
    child(
        res(
            "/company/companies/{parentId}/typeAssociations",
            "companyTypeAssociation",
            "typeAssociation",
        ),
        "company",
    ),
    alias(
        res(
            "/company/companyTypeAssociations",
            "companyTypeAssociation",
            "typeAssociation",
        ),
        "/company/companies/{parentId}/typeAssociations",
    ),
    callback(
        res("/finance/agreements", "agreement", "agreement"),
        "agreement",
    ),
    child(
        res(
            "/finance/agreements/{parentId}/additions",
            "addition",
            "addition",
        ),
        "agreement",
    ),
    unique(
        res("/finance/agreements/types", "agreementType", "type"),
        &["name"],
    ),
    unique(
        res("/procurement/catalog", "catalogItem", "product"),
        &["identifier"],
    ),
    res("/procurement/products", "productItem", "product"),
    unique(res("/procurement/types", "productType", "type"), &["name"]),
    unique(
        res("/procurement/categories", "category", "category"),
        &["name"],
    ),
    res("/procurement/subcategories", "subcategory", "subcategory"),
    unique(
        res("/procurement/unitOfMeasures", "unitOfMeasure", "uom"),
        &["name"],
    ),
    callback(res("/service/tickets", "ticket", "ticket"), "ticket"),
    child(
        res("/service/tickets/{parentId}/notes", "ticketNote", "note"),
        "ticket",
    ),
    callback(res("/time/entries", "timeEntry", "timeEntry"), "time"),
    callback(
        unique(
            res("/finance/invoices", "invoice", "invoice"),
            &["invoiceNumber"],
        ),
        "invoice",
    ),
    child(
        res(
            "/finance/invoices/{parentId}/payments",
            "invoicePayment",
            "payment",
        ),
        "invoice",
    ),
    callback(
        res("/sales/opportunities", "opportunity", "opportunity"),
        "opportunity",
    ),
    child(
        res(
            "/sales/opportunities/{parentId}/forecast",
            "forecast",
            "forecast",
        ),
        "opportunity",
    ),
    res("/sales/orders", "order", "order"),
    callback(
        unique(res("/system/members", "member", "member"), &["identifier"]),
        "member",
    ),
    res("/system/documents", "document", "document"),
    res("/system/callbacks", "callback", "callback"),
    res(
        "/company/communicationTypes",
        "communicationType",
        "communicationType",
    ),
    child(
        res(
            "/company/contacts/{parentId}/communications",
            "contactCommunication",
            "communication",
        ),
        "contact",
    ),
    child(
        res(
            "/finance/agreements/{parentId}/sites",
            "agreementSite",
            "site",
        ),
        "agreement",
    ),
    child(
        res(
            "/finance/agreements/{parentId}/adjustments",
            "adjustment",
            "adjustment",
        ),
        "agreement",
    ),
    unique(res("/service/boards", "board", "board"), &["name"]),
    child(
        res("/service/boards/{parentId}/statuses", "status", "status"),
        "board",
    ),
    child(
        res("/service/boards/{parentId}/types", "type", "type"),
        "board",
    ),
    res("/service/priorities", "priority", "priority"),
    view(
        res(
            "/service/tickets/{parentId}/timeentries",
            "timeEntry",
            "timeEntry",
        ),
        "/time/entries",
        "chargeToId",
    ),
    view(
        res(
            "/service/tickets/{parentId}/products",
            "productItem",
            "product",
        ),
        "/procurement/products",
        "ticket/id",
    ),
    callback(res("/project/projects", "project", "project"), "project"),
    child(
        res("/project/projects/{parentId}/phases", "phase", "phase"),
        "project",
    ),
    callback(res("/project/tickets", "ticket", "ticket"), "ticket"),
    unique(
        res("/finance/taxCodes", "taxCode", "taxCode"),
        &["identifier"],
    ),
    unique(
        res("/finance/billingTerms", "billingTerms", "billingTerms"),
        &["name"],
    ),
    unique(
        res("/finance/billingCycles", "billingCycle", "billingCycle"),
        &["name"],
    ),
    unique(
        res("/sales/opportunities/types", "opportunityType", "type"),
        &["description"],
    ),
    unique(
        res(
            "/sales/opportunities/statuses",
            "opportunityStatus",
            "status",
        ),
        &["name"],
    ),
    child(
        res(
            "/sales/opportunities/{parentId}/notes",
            "opportunityNote",
            "note",
        ),
        "opportunity",
    ),
    unique(res("/sales/stages", "stage", "stage"), &["name"]),
    unique(
        res("/sales/orders/statuses", "orderStatus", "status"),
        &["name"],
    ),
    child(
        res("/sales/orders/{parentId}/lineitems", "lineItem", "lineItem"),
        "salesOrder",
    ),
    unique(res("/time/workRoles", "workRole", "workRole"), &["name"]),
    unique(res("/time/workTypes", "workType", "workType"), &["name"]),
    // Reference data outside the API subset (seed-only): references into these collections are
    // checked once they have been seeded.
    res("/finance/currencies", "currency", "currency"),
    res("/finance/billingStatuses", "billingStatus", "status"),
    res(
        "/system/userDefinedFields",
        "userDefinedField",
        "userDefinedField",
    ),
    res("/system/locations", "location", "location"),
    res("/system/departments", "department", "department"),
    res("/system/securityRoles", "securityRole", "securityRole"),
    res("/system/timeZoneSetups", "timeZoneSetup", "timeZoneSetup"),
    res("/procurement/manufacturers", "manufacturer", "manufacturer"),
    res("/company/marketDescriptions", "market", "market"),
    res(
        "/finance/invoiceDeliveryMethods",
        "billingDelivery",
        "billingDelivery",
    ),
];

/// Which collection a reference schema points into.
pub const REFERENCE_TARGETS: &[(&str, &str)] = &[
    ("CompanyReference", "/company/companies"),
    ("CompanyStatusReference", "/company/companies/statuses"),
    ("CompanyTypeReference", "/company/companies/types"),
    ("CountryReference", "/company/countries"),
    ("StateReference", "/company/states"),
    ("ContactReference", "/company/contacts"),
    ("SiteReference", "/company/companies/{parentId}/sites"),
    ("MemberReference", "/system/members"),
    ("AgreementReference", "/finance/agreements"),
    ("AgreementTypeReference", "/finance/agreements/types"),
    ("IvItemReference", "/procurement/catalog"),
    ("CatalogItemReference", "/procurement/catalog"),
    ("ProductCategoryReference", "/procurement/categories"),
    ("ProductSubCategoryReference", "/procurement/subcategories"),
    ("ProductTypeReference", "/procurement/types"),
    ("UnitOfMeasureReference", "/procurement/unitOfMeasures"),
    ("TicketReference", "/service/tickets"),
    ("OpportunityReference", "/sales/opportunities"),
    ("InvoiceReference", "/finance/invoices"),
    ("SalesOrderReference", "/sales/orders"),
    ("DocumentReference", "/system/documents"),
    ("BoardReference", "/service/boards"),
    (
        "ServiceStatusReference",
        "/service/boards/{parentId}/statuses",
    ),
    ("PriorityReference", "/service/priorities"),
    ("TaxCodeReference", "/finance/taxCodes"),
    ("BillingTermsReference", "/finance/billingTerms"),
    ("BillingCycleReference", "/finance/billingCycles"),
    ("CurrencyReference", "/finance/currencies"),
    ("BillingStatusReference", "/finance/billingStatuses"),
    ("SystemLocationReference", "/system/locations"),
    ("SystemDepartmentReference", "/system/departments"),
    ("SecurityRoleReference", "/system/securityRoles"),
    ("TimeZoneSetupReference", "/system/timeZoneSetups"),
    ("WorkRoleReference", "/time/workRoles"),
    ("WorkTypeReference", "/time/workTypes"),
    ("ManufacturerReference", "/procurement/manufacturers"),
    ("CommunicationTypeReference", "/company/communicationTypes"),
    ("ServiceTypeReference", "/service/boards/{parentId}/types"),
    ("ProjectReference", "/project/projects"),
    (
        "ProjectPhaseReference",
        "/project/projects/{parentId}/phases",
    ),
    ("OpportunityTypeReference", "/sales/opportunities/types"),
    (
        "OpportunityStatusReference",
        "/sales/opportunities/statuses",
    ),
    ("OpportunityStageReference", "/sales/stages"),
    ("OrderStatusReference", "/sales/orders/statuses"),
    ("MarketDescriptionReference", "/company/marketDescriptions"),
    (
        "BillingDeliveryReference",
        "/finance/invoiceDeliveryMethods",
    ),
    ("ProductReference", "/procurement/products"),
    ("TimeEntryReference", "/time/entries"),
];

/// Where a reference is also looked up when its target collection lacks the id: a
/// `TicketReference` (a product's or time entry's `ticket`) may name a project ticket.
pub const REFERENCE_FALLBACKS: &[(&str, &str)] = &[("TicketReference", "/project/tickets")];

pub fn reference_fallback(schema: &str) -> Option<&'static str> {
    REFERENCE_FALLBACKS
        .iter()
        .find(|(s, _)| *s == schema)
        .map(|(_, c)| *c)
}

pub fn resource(collection: &str) -> Option<&'static ResourceInfo> {
    RESOURCES.iter().find(|r| r.collection == collection)
}

/// The collection whose records are stored for `collection` (aliases share their target's records).
pub fn storage_collection(collection: &str) -> &str {
    match resource(collection).and_then(|r| r.alias_of) {
        Some(target) => target,
        None => collection,
    }
}

pub fn reference_target(schema: &str) -> Option<&'static str> {
    REFERENCE_TARGETS
        .iter()
        .find(|(s, _)| *s == schema)
        .map(|(_, c)| *c)
}

/// Name used in error messages for a collection without a table entry: the last literal segment.
pub fn resource_name(collection: &str) -> String {
    match resource(collection) {
        Some(r) => r.resource.to_string(),
        None => collection
            .rsplit('/')
            .find(|s| !s.starts_with('{'))
            .unwrap_or("record")
            .to_string(),
    }
}

/// Turns a concrete collection path (`/company/companies/12/sites`) into its template and parent id.
/// Numeric segments become `{parentId}`.
pub fn split_collection_path(path: &str) -> (String, Option<i64>) {
    let mut parent = None;
    let mut out = String::new();
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        if let Ok(n) = seg.parse::<i64>() {
            parent = Some(n);
            out.push_str("{parentId}");
        } else {
            out.push_str(seg);
        }
    }
    (out, parent)
}
