//! Creating, replacing, patching and deleting records in the store, under the state lock: validation via
//! `validate`, the resource rules ConnectWise applies (unique identifiers, company address and types rules),
//! `_info` upkeep, and the side effects that keep related collections consistent (a new company gets its
//! "Main" site and type associations; type associations drive `Company.types`; children go with their
//! parent). Returns change events for callbacks; never sends anything itself.
use serde_json::{Map, Value, json};

use crate::agreements;
use crate::callbacks::{self, ChangeEvent};
use crate::defaults::{self, Fill};
use crate::error::{ApiError, FieldError};
use crate::invoicing;
use crate::resources;
use crate::state::{Inner, SimState};
use crate::validate::{RecordWriter, format_datetime, strip_nulls};

const COMPANIES: &str = "/company/companies";
const SITES: &str = "/company/companies/{parentId}/sites";
const TYPE_ASSOCIATIONS: &str = "/company/companies/{parentId}/typeAssociations";
const CONTACTS: &str = "/company/contacts";
const TICKETS: &str = "/service/tickets";
const PROJECT_TICKETS: &str = "/project/tickets";
const PRODUCTS: &str = "/procurement/products";
const COMMUNICATION_TYPES: &str = "/company/communicationTypes";
const TIME_ENTRIES: &str = "/time/entries";
const BOARD_STATUSES: &str = "/service/boards/{parentId}/statuses";
/// The primary site's name when a company is seeded or created without one (the UI's default).
const DEFAULT_SITE_NAME: &str = "Main";
/// Id counter of the `mobileGuid`s the simulator hands out (deterministic, so tests can compare).
const GUIDS: &str = "/__sim/guids";
/// An opportunity's forecasts; `GET .../forecast/{id}` addresses one of their `forecastItems`.
pub const FORECASTS: &str = "/sales/opportunities/{parentId}/forecast";
/// Id counter of forecast items, which live inside their forecast record (no rows of its own).
const FORECAST_ITEMS: &str = "/sales/opportunities/{parentId}/forecast/items";
/// Company fields that are its (primary site's) address.
const ADDRESS_FIELDS: [&str; 6] = [
    "addressLine1",
    "addressLine2",
    "city",
    "state",
    "zip",
    "country",
];

/// How a write changes a record.
#[derive(Debug)]
pub enum WriteMode {
    Create(Map<String, Value>),
    Replace(Map<String, Value>),
    Patch(Value),
}

/// Which record a write is about.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// Collection template as routed (may be an alias).
    pub collection: &'a str,
    /// Table the records live in.
    pub storage: &'a str,
    /// Parent id from the path, for child collections.
    pub parent: Option<i64>,
    /// The record's id (None when creating).
    pub id: Option<i64>,
}

/// Who is writing (for `_info.updatedBy` and callback payloads).
#[derive(Debug, Clone)]
pub struct Actor {
    pub identifier: String,
    pub company_id: String,
}

impl Actor {
    fn event(
        &self,
        action: &'static str,
        kind: &'static str,
        id: i64,
        entity: Option<Value>,
    ) -> ChangeEvent {
        ChangeEvent {
            action,
            callback_type: kind,
            id,
            entity,
            member_identifier: self.identifier.clone(),
            company_id: self.company_id.clone(),
        }
    }
}

pub fn not_found(collection: &str, id: i64) -> ApiError {
    let name = resources::resource_name(collection);
    let mut chars = name.chars();
    let name = match chars.next() {
        Some(f) => f.to_uppercase().collect::<String>() + chars.as_str(),
        None => name,
    };
    ApiError::not_found(format!("{name} with id {id} not found"))
}

/// The schema records of a collection are written with (the POST request schema, or the list's).
pub fn collection_schema(state: &SimState, collection: &str) -> Option<String> {
    let route = state.facts.route(collection)?;
    route
        .endpoint("POST")
        .and_then(|e| e.request.as_ref())
        .and_then(|r| r.schema.clone())
        .or_else(|| {
            route
                .endpoint("GET")
                .and_then(|e| e.response.as_ref())
                .and_then(|r| r.schema.clone())
        })
}

fn writer<'a>(state: &'a SimState, inner: &'a Inner, resource: &str) -> RecordWriter<'a> {
    RecordWriter {
        facts: &state.facts,
        store: &inner.store,
        api_base: &state.api_base,
        resource: resource.to_string(),
    }
}

/// Validates and stores one write. Returns the stored record and the change events.
pub fn write_locked(
    state: &SimState,
    inner: &mut Inner,
    target: Target<'_>,
    mode: WriteMode,
    actor: &Actor,
) -> Result<(Value, Vec<ChangeEvent>), ApiError> {
    let Target {
        collection,
        storage,
        id,
        ..
    } = target;
    let resource = resources::resource_name(collection);
    let schema = collection_schema(state, collection).ok_or_else(|| {
        ApiError::bad_request("InvalidObject", format!("{resource} cannot be written"))
    })?;
    let existing = match id {
        Some(id) => Some(
            inner
                .store
                .get(storage, id)
                .map(|r| r.value.clone())
                .ok_or_else(|| not_found(collection, id))?,
        ),
        None => None,
    };
    let is_company = storage == COMPANIES;
    let creating = matches!(mode, WriteMode::Create(_));
    let patching = matches!(mode, WriteMode::Patch(_));
    let mut rule_errors = Vec::new();
    let mut body: Map<String, Value> = match mode {
        WriteMode::Create(b) => b,
        WriteMode::Replace(b) => {
            // A full record read back and PUT keeps its types; changing them this way is refused.
            if let (true, Some(types), Some(old)) = (is_company, b.get("types"), &existing)
                && !same_ids(types, old.get("types").unwrap_or(&Value::Null))
            {
                rule_errors.push(types_only_on_post(&resource));
            }
            b
        }
        WriteMode::Patch(ops) => {
            let mut base = match &existing {
                Some(Value::Object(m)) => m.clone(),
                _ => Map::new(),
            };
            let touched = apply_patch(state, &schema, &mut base, &ops, &resource)?;
            if is_company && touched.iter().any(|p| p == "types") {
                rule_errors.push(types_only_on_post(&resource));
            }
            base
        }
    };
    // A company's `site` is not an ordinary reference: on create it names the primary site to
    // create, on update it points at one of this company's own sites. It is handled here, not by
    // the generic reference check (which would look the name up among every company's sites).
    let site_given = if is_company {
        body.remove("site").filter(|v| !v.is_null())
    } else {
        None
    };
    // The parent of a child record comes from the path (or, on the flat type-association alias, from
    // `company`); it is filled in before validation so a required parent reference is satisfied.
    let info = resources::resource(storage);
    let parent_kind = info.and_then(|r| r.parent_kind);
    if let (Some(pid), Some(kind)) = (target.parent, parent_kind) {
        prefill_parent(state, &schema, &mut body, kind, pid);
    }
    let (mut clean, mut errors) = writer(state, inner, &resource).clean(&schema, &body);
    errors.extend(rule_errors);
    let parent = match (target.parent, parent_kind) {
        (Some(p), _) => Some(p),
        (None, Some(kind)) => clean
            .get(&format!("{kind}Id"))
            .and_then(Value::as_i64)
            .or_else(|| {
                clean
                    .get(kind)
                    .and_then(|c| c.get("id"))
                    .and_then(Value::as_i64)
            }),
        (None, None) => None,
    };
    if let (Some(pid), Some(kind)) = (parent, parent_kind) {
        set_parent_link(state, inner, &schema, &mut clean, kind, storage, pid);
    }
    let mut primary_site_name = None;
    if is_company {
        if creating {
            match primary_site_to_create(site_given.as_ref(), &resource) {
                Ok(name) => primary_site_name = Some(name),
                Err(e) => errors.push(e),
            }
        } else {
            // Types change only through type associations.
            match existing.as_ref().and_then(|e| e.get("types")) {
                Some(v) => clean.insert("types".into(), v.clone()),
                None => clean.remove("types"),
            };
            let site = match &site_given {
                Some(given) => own_site(state, inner, id.unwrap_or_default(), given, &resource),
                None => Ok(existing.as_ref().and_then(|e| e.get("site")).cloned()),
            };
            match site {
                Ok(Some(site)) => {
                    clean.insert("site".into(), site);
                }
                Ok(None) => {
                    clean.remove("site");
                }
                Err(e) => errors.push(e),
            }
            if let Some(e) = parent_cycle(inner, id.unwrap_or_default(), &clean, &resource) {
                errors.push(e);
            }
        }
        // ConnectWise requires an address on create and on full replace; a PATCH of another field of a
        // record that lacks one (seeded test data) is let through.
        if !patching && !ADDRESS_FIELDS.iter().any(|f| clean.contains_key(*f)) {
            errors.push(FieldError::new(
                "MissingRequiredField",
                "At least one address field is required -- addressLine1, addressLine2, city, state, zip and/or country.",
                &resource,
                "addressLine1",
            ));
        }
    }
    for field in info.map(|r| r.unique).unwrap_or(&[]) {
        let Some(value) = clean.get(*field).and_then(Value::as_str) else {
            continue;
        };
        let scope = parent.filter(|_| parent_kind.is_some());
        let clash = inner
            .store
            .list(storage, scope)
            .into_iter()
            .any(|(rid, row)| {
                Some(rid) != id
                    && row
                        .value
                        .get(*field)
                        .and_then(Value::as_str)
                        .is_some_and(|v| v.eq_ignore_ascii_case(value))
            });
        if clash {
            errors.push(FieldError::new(
                "ObjectExists",
                format!("The {field} '{value}' is already in use."),
                &resource,
                field,
            ));
        }
    }
    let now = format_datetime(inner.knobs.now());
    if errors.is_empty() {
        errors.extend(derive(
            state, inner, storage, creating, &mut clean, &resource,
        ));
        errors.extend(agreements::check(
            state,
            inner,
            storage,
            existing.as_ref(),
            &clean,
            &resource,
            &now,
        ));
        errors.extend(invoicing::check(
            inner,
            &invoicing::Write {
                storage,
                existing: existing.as_ref(),
                record: &clean,
                resource: &resource,
                parent,
            },
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid_object(&resource, errors));
    }

    let id = match id {
        Some(id) => id,
        None => inner.store.allocate_id(storage),
    };
    if creating {
        fill_defaults(state, inner, storage, &schema, id, &mut clean, actor, &now);
    }
    if creating && storage == invoicing::INVOICES && !clean.contains_key("invoiceNumber") {
        clean.insert(
            "invoiceNumber".into(),
            Value::String(invoicing::next_invoice_number(inner)),
        );
    }
    agreements::compute(state, inner, storage, &mut clean, &now);
    invoicing::compute(
        inner,
        storage,
        existing.as_ref(),
        &mut clean,
        &actor.identifier,
        &now,
    );
    if storage == FORECASTS {
        number_forecast_items(inner, &mut clean);
    }
    store_phone_numbers_as_digits(storage, &mut clean);
    let mut record = Map::new();
    record.insert("id".into(), Value::from(id));
    record.extend(clean);
    record.insert(
        "_info".into(),
        Value::Object(stamp(existing.as_ref(), &now, actor, creating)),
    );
    let mut record = Value::Object(record);
    strip_nulls(&mut record);
    let row_parent = parent_kind.and(parent);
    inner.store.put(storage, id, row_parent, record.clone());
    if storage == agreements::AGREEMENTS {
        agreements::follow_agreement(inner, id);
    }
    // An invoice's totals follow its products and its payment (also off the product's old invoice).
    for invoice in [
        existing
            .as_ref()
            .and_then(|e| invoicing::invoice_of(storage, row_parent, e)),
        invoicing::invoice_of(storage, row_parent, &record),
    ]
    .into_iter()
    .flatten()
    {
        invoicing::follow_invoice(inner, invoice);
    }

    let mut events = Vec::new();
    if storage == TICKETS || storage == PROJECT_TICKETS {
        recompute_ticket_hours(inner, storage, id);
    }
    let touched = charged_tickets(inner, storage, existing.as_ref())
        .into_iter()
        .chain(charged_tickets(inner, storage, Some(&record)));
    let mut seen = Vec::new();
    for ticket in touched {
        if !seen.contains(&ticket) {
            seen.push(ticket);
            events.extend(touch_ticket(inner, ticket, actor, &now));
        }
    }
    if is_company {
        if creating {
            create_type_associations(state, inner, id, &record, actor);
            if state.options.create_default_site {
                let name = primary_site_name.as_deref().unwrap_or(DEFAULT_SITE_NAME);
                create_primary_site(state, inner, id, name, actor);
            }
        } else {
            sync_primary_site(state, inner, id, actor);
        }
    }
    if storage == TYPE_ASSOCIATIONS
        && let Some(pid) = row_parent
    {
        events.extend(sync_company_types(inner, pid, actor));
    }
    let record = inner
        .store
        .get(storage, id)
        .map(|r| r.value.clone())
        .unwrap_or(record);
    if let Some(kind) = info.and_then(|r| r.callback_type) {
        let action = if creating { "added" } else { "updated" };
        let entity = callback_entity(storage, record.clone());
        events.insert(0, actor.event(action, kind, id, Some(entity)));
    }
    Ok((record, events))
}

/// The record a callback's `Entity` carries: a project ticket says it is one (`recordType`), as
/// the ticket model of ConnectWise's callbacks does and django-connectwise reads, although the
/// `/project/tickets` model itself has no `recordType`.
fn callback_entity(storage: &str, mut record: Value) -> Value {
    if storage == PROJECT_TICKETS
        && let Value::Object(map) = &mut record
    {
        map.insert("recordType".into(), Value::String("ProjectTicket".into()));
    }
    record
}

/// The ticket a time entry or product is charged to, as (collection, id).
fn charged_tickets(
    inner: &Inner,
    storage: &str,
    record: Option<&Value>,
) -> Vec<(&'static str, i64)> {
    let Some(record) = record else {
        return Vec::new();
    };
    let id = match storage {
        TIME_ENTRIES => match record.get("chargeToType").and_then(Value::as_str) {
            Some("ServiceTicket" | "ProjectTicket") => {
                record.get("chargeToId").and_then(Value::as_i64)
            }
            _ => None,
        },
        PRODUCTS => record
            .get("ticket")
            .and_then(|t| t.get("id"))
            .and_then(Value::as_i64),
        _ => None,
    };
    id.and_then(|id| ticket_collection(inner, id).map(|c| (c, id)))
        .into_iter()
        .collect()
}

/// Which ticket table holds `id` (service and project tickets share one id space).
fn ticket_collection(inner: &Inner, id: i64) -> Option<&'static str> {
    [TICKETS, PROJECT_TICKETS]
        .into_iter()
        .find(|c| inner.store.get(c, id).is_some())
}

/// A ticket's `actualHours` is the sum of the hours of the time entries charged to it (absent
/// when it has none, as in `samples/ticket.json`).
fn recompute_ticket_hours(inner: &mut Inner, collection: &str, id: i64) {
    let charge_type = if collection == PROJECT_TICKETS {
        "ProjectTicket"
    } else {
        "ServiceTicket"
    };
    let hours: Vec<i64> = inner
        .store
        .list(TIME_ENTRIES, None)
        .into_iter()
        .filter(|(_, row)| {
            row.value.get("chargeToId").and_then(Value::as_i64) == Some(id)
                && row.value.get("chargeToType").and_then(Value::as_str) == Some(charge_type)
        })
        .filter_map(|(_, row)| row.value.get("actualHours").and_then(Value::as_f64))
        .map(|h| (h * 100.0).round() as i64)
        .collect();
    let Some(row) = inner.store.get(collection, id) else {
        return;
    };
    let parent = row.parent;
    let mut ticket = row.value.clone();
    if let Value::Object(map) = &mut ticket {
        // Without time the value is null, and real responses omit nulls.
        if hours.is_empty() {
            map.remove("actualHours");
        } else {
            let hundredths: i64 = hours.iter().sum();
            map.insert("actualHours".into(), Value::from(hundredths as f64 / 100.0));
        }
    }
    inner.store.put(collection, id, parent, ticket);
}

/// A time entry or product added to, changed on or removed from a ticket changes the ticket: its
/// `actualHours` follow and its `_info.lastUpdated` moves (the stricter reading: an incremental
/// reader filtering tickets on `lastUpdated` sees the ticket again), and a ticket `updated`
/// callback goes out.
fn touch_ticket(
    inner: &mut Inner,
    (collection, id): (&'static str, i64),
    actor: &Actor,
    now: &str,
) -> Option<ChangeEvent> {
    recompute_ticket_hours(inner, collection, id);
    let row = inner.store.get(collection, id)?;
    let parent = row.parent;
    let mut ticket = row.value.clone();
    let info = stamp(Some(&row.value), now, actor, false);
    if let Value::Object(map) = &mut ticket {
        map.insert("_info".into(), Value::Object(info));
    }
    inner.store.put(collection, id, parent, ticket.clone());
    Some(actor.event(
        "updated",
        "ticket",
        id,
        Some(callback_entity(collection, ticket)),
    ))
}

/// A product on a ticket belongs to the ticket's company (and, on a project ticket, to its
/// project and phase); a `ticket` that names no ticket is a 400 on `ticket`.
fn derive_product_ticket(
    state: &SimState,
    inner: &Inner,
    record: &mut Map<String, Value>,
    resource: &str,
) -> Vec<FieldError> {
    let Some(id) = record
        .get("ticket")
        .and_then(|t| t.get("id"))
        .and_then(Value::as_i64)
    else {
        return Vec::new();
    };
    let Some(collection) = ticket_collection(inner, id) else {
        return vec![FieldError::new(
            "InvalidField",
            format!("The field ticket refers to a ticket with id {id} that does not exist."),
            resource,
            "ticket",
        )];
    };
    let Some(ticket) = inner.store.get(collection, id).map(|r| r.value.clone()) else {
        return Vec::new();
    };
    if let Some(company) = ticket.get("company") {
        record.insert("company".into(), company.clone());
    }
    for field in ["project", "phase"] {
        match ticket.get(field) {
            Some(v) if collection == PROJECT_TICKETS => {
                record.insert(field.into(), v.clone());
            }
            _ => {
                record.remove(field);
            }
        }
    }
    if let Some(t) = reference_of(state, inner, "TicketReference", collection, id) {
        record.insert("ticket".into(), t);
    }
    Vec::new()
}

/// ConnectWise keeps phone and fax numbers as digits only (`602-555-0100` reads back as
/// `6025550100`: every phone number in the real responses we have is bare digits, and the UI
/// formats them), on companies, sites and a contact's phone and fax communication items.
fn store_phone_numbers_as_digits(storage: &str, record: &mut Map<String, Value>) {
    let digits = |value: &mut Value| {
        if let Value::String(text) = value {
            text.retain(|c| c.is_ascii_digit());
        }
    };
    match storage {
        COMPANIES | SITES => {
            for field in ["phoneNumber", "faxNumber"] {
                if let Some(value) = record.get_mut(field) {
                    digits(value);
                }
            }
        }
        CONTACTS => {
            let items = record
                .get_mut("communicationItems")
                .and_then(Value::as_array_mut);
            for item in items.into_iter().flatten() {
                let phone_like = item
                    .get("communicationType")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t == "Phone" || t == "Fax");
                if phone_like && let Some(value) = item.get_mut("value") {
                    digits(value);
                }
            }
        }
        _ => {}
    }
}

/// Gives every forecast item without an id one of its own: ConnectWise addresses an item as
/// `.../forecast/{id}` (a ForecastItem), so items need ids distinct from their forecast's.
fn number_forecast_items(inner: &mut Inner, forecast: &mut Map<String, Value>) {
    let Some(Value::Array(items)) = forecast.get_mut("forecastItems") else {
        return;
    };
    for item in items.iter_mut().filter_map(Value::as_object_mut) {
        if item.get("id").and_then(Value::as_i64).is_none() {
            item.insert(
                "id".into(),
                Value::from(inner.store.allocate_id(FORECAST_ITEMS)),
            );
        }
    }
}

/// The forecast item `id` of an opportunity's forecasts (all opportunities when `opportunity` is None).
pub fn forecast_item(inner: &Inner, opportunity: Option<i64>, id: i64) -> Option<Value> {
    inner
        .store
        .list(FORECASTS, opportunity)
        .into_iter()
        .filter_map(|(_, row)| row.value.get("forecastItems").and_then(Value::as_array))
        .flatten()
        .find(|item| item.get("id").and_then(Value::as_i64) == Some(id))
        .cloned()
}

/// `_info` after a write: entered stamps on create, updated stamps always, other keys kept.
fn stamp(existing: Option<&Value>, now: &str, actor: &Actor, creating: bool) -> Map<String, Value> {
    let mut info = existing
        .and_then(|e| e.get("_info"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if creating {
        info.insert("dateEntered".into(), Value::String(now.to_string()));
        info.insert("enteredBy".into(), Value::String(actor.identifier.clone()));
    }
    info.insert("lastUpdated".into(), Value::String(now.to_string()));
    info.insert("updatedBy".into(), Value::String(actor.identifier.clone()));
    info
}

fn types_only_on_post(resource: &str) -> FieldError {
    FieldError::new(
        "InvalidField",
        "The field types can only be set when a company is created; use /company/companies/{id}/typeAssociations.",
        resource,
        "types",
    )
}

fn same_ids(a: &Value, b: &Value) -> bool {
    let ids = |v: &Value| -> Vec<i64> {
        let mut ids: Vec<i64> = v
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| {
                t.get("id").and_then(|i| {
                    i.as_i64()
                        .or_else(|| i.as_str().and_then(|s| s.parse().ok()))
                })
            })
            .collect();
        ids.sort_unstable();
        ids
    };
    ids(a) == ids(b)
}

fn schema_props<'a>(state: &'a SimState, schema: &str) -> Option<&'a Map<String, Value>> {
    state
        .facts
        .schema(schema)
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
}

/// Puts the parent into a request body that does not name it (`agreementId`, `company: {id}`).
fn prefill_parent(
    state: &SimState,
    schema: &str,
    body: &mut Map<String, Value>,
    kind: &str,
    parent: i64,
) {
    let Some(props) = schema_props(state, schema) else {
        return;
    };
    let id_field = format!("{kind}Id");
    if props.contains_key(&id_field) {
        body.insert(id_field, Value::from(parent));
    } else if props.contains_key(kind) && body.get(kind).is_none_or(Value::is_null) {
        body.insert(kind.to_string(), json!({ "id": parent }));
    }
}

/// Points a child record at its parent: `<kind>Id`, or a `<kind>` reference built from the parent record.
fn set_parent_link(
    state: &SimState,
    inner: &Inner,
    schema: &str,
    record: &mut Map<String, Value>,
    kind: &str,
    storage: &str,
    parent: i64,
) {
    let Some(props) = schema_props(state, schema) else {
        return;
    };
    let id_field = format!("{kind}Id");
    if props.contains_key(&id_field) {
        record.insert(id_field, Value::from(parent));
        return;
    }
    let Some(prop) = props.get(kind) else { return };
    let (Some(ref_name), _) = state.facts.resolve(prop) else {
        return;
    };
    let parent_collection = storage.split("/{parentId}").next().unwrap_or(storage);
    if let Some(row) = inner
        .store
        .get(resources::storage_collection(parent_collection), parent)
    {
        let reference = writer(state, inner, "").reference_to(
            ref_name,
            parent_collection,
            parent,
            row.parent,
            &row.value,
        );
        record.insert(kind.to_string(), reference);
    }
}

/// `Company.types` given on POST become type associations, as in ConnectWise.
fn create_type_associations(
    state: &SimState,
    inner: &mut Inner,
    company_id: i64,
    company: &Value,
    actor: &Actor,
) {
    let Some(types) = company.get("types").and_then(Value::as_array).cloned() else {
        return;
    };
    let now = format_datetime(inner.knobs.now());
    let company_ref = writer(state, inner, "").reference_to(
        "CompanyReference",
        COMPANIES,
        company_id,
        None,
        company,
    );
    for t in types {
        let id = inner.store.allocate_id(TYPE_ASSOCIATIONS);
        let record = json!({
            "id": id,
            "type": t,
            "company": company_ref,
            "_info": stamp(None, &now, actor, true),
        });
        inner
            .store
            .put(TYPE_ASSOCIATIONS, id, Some(company_id), record);
    }
}

/// Recomputes a company's `types` from its type associations.
fn sync_company_types(inner: &mut Inner, company_id: i64, actor: &Actor) -> Vec<ChangeEvent> {
    let types: Vec<Value> = inner
        .store
        .list(TYPE_ASSOCIATIONS, Some(company_id))
        .into_iter()
        .filter_map(|(_, r)| r.value.get("type").cloned())
        .collect();
    let Some(row) = inner.store.get(COMPANIES, company_id) else {
        return Vec::new();
    };
    let mut company = row.value.clone();
    let now = format_datetime(inner.knobs.now());
    let info = stamp(Some(&row.value), &now, actor, false);
    if let Value::Object(map) = &mut company {
        if types.is_empty() {
            map.remove("types");
        } else {
            map.insert("types".into(), Value::Array(types));
        }
        map.insert("_info".into(), Value::Object(info));
    }
    inner
        .store
        .put(COMPANIES, company_id, None, company.clone());
    vec![actor.event("updated", "company", company_id, Some(company))]
}

/// Copies a company's address onto a site record (`state` text becomes a `stateReference` when it names a
/// known state).
fn copy_address(state: &SimState, inner: &Inner, company: &Value, site: &mut Map<String, Value>) {
    for field in [
        "addressLine1",
        "addressLine2",
        "city",
        "zip",
        "country",
        "phoneNumber",
        "faxNumber",
    ] {
        match company.get(field) {
            Some(v) => site.insert(field.to_string(), v.clone()),
            None => site.remove(field),
        };
    }
    site.remove("stateReference");
    if let Some(text) = company.get("state").and_then(Value::as_str) {
        let found = inner
            .store
            .list("/company/states", None)
            .into_iter()
            .find(|(_, r)| {
                ["identifier", "name"].iter().any(|k| {
                    r.value
                        .get(*k)
                        .and_then(Value::as_str)
                        .is_some_and(|v| v.eq_ignore_ascii_case(text))
                })
            });
        if let Some((sid, row)) = found {
            let reference = writer(state, inner, "").reference_to(
                "StateReference",
                "/company/states",
                sid,
                None,
                &row.value,
            );
            site.insert("stateReference".into(), reference);
        }
    }
}

/// A new company gets its primary site, named by the create's `site`, holding its address, and
/// `company.site` points at it.
fn create_primary_site(
    state: &SimState,
    inner: &mut Inner,
    company_id: i64,
    name: &str,
    actor: &Actor,
) {
    if state.facts.route(SITES).is_none() {
        return;
    }
    let Some(company) = inner
        .store
        .get(COMPANIES, company_id)
        .map(|r| r.value.clone())
    else {
        return;
    };
    let now = format_datetime(inner.knobs.now());
    let mut site = Map::new();
    site.insert("name".into(), Value::String(name.to_string()));
    copy_address(state, inner, &company, &mut site);
    for flag in [
        "primaryAddressFlag",
        "defaultShippingFlag",
        "defaultBillingFlag",
        "defaultMailingFlag",
    ] {
        site.insert(flag.into(), Value::Bool(true));
    }
    site.insert("inactiveFlag".into(), Value::Bool(false));
    site.insert(
        "company".into(),
        writer(state, inner, "").reference_to(
            "CompanyReference",
            COMPANIES,
            company_id,
            None,
            &company,
        ),
    );
    let site_id = inner.store.allocate_id(SITES);
    site.insert("id".into(), Value::from(site_id));
    site.insert(
        "_info".into(),
        Value::Object(stamp(None, &now, actor, true)),
    );
    fill_defaults(
        state,
        inner,
        SITES,
        "CompanySite",
        site_id,
        &mut site,
        actor,
        &now,
    );
    let site = Value::Object(site);
    let site_ref = writer(state, inner, "").reference_to(
        "SiteReference",
        SITES,
        site_id,
        Some(company_id),
        &site,
    );
    inner.store.put(SITES, site_id, Some(company_id), site);
    let mut company = company;
    if let Value::Object(map) = &mut company {
        map.insert("site".into(), site_ref);
    }
    inner.store.put(COMPANIES, company_id, None, company);
}

/// After a company update, its primary site's address follows the company's.
fn sync_primary_site(state: &SimState, inner: &mut Inner, company_id: i64, actor: &Actor) {
    let Some(company) = inner
        .store
        .get(COMPANIES, company_id)
        .map(|r| r.value.clone())
    else {
        return;
    };
    let Some(site_id) = company
        .get("site")
        .and_then(|s| s.get("id"))
        .and_then(Value::as_i64)
    else {
        return;
    };
    let Some(Value::Object(mut site)) = inner.store.get(SITES, site_id).map(|r| r.value.clone())
    else {
        return;
    };
    copy_address(state, inner, &company, &mut site);
    let now = format_datetime(inner.knobs.now());
    let existing = Value::Object(site.clone());
    site.insert(
        "_info".into(),
        Value::Object(stamp(Some(&existing), &now, actor, false)),
    );
    inner
        .store
        .put(SITES, site_id, Some(company_id), Value::Object(site));
}

/// The name of the primary site a company create asks for: `site` is required on create (as
/// ConnectWise's validation requires it, though the schema marks only identifier and name) and
/// names the site to create, `{"name": "Main"}`; the site's address is the company's.
fn primary_site_to_create(given: Option<&Value>, resource: &str) -> Result<String, FieldError> {
    let Some(given) = given else {
        return Err(FieldError::new(
            "MissingRequiredField",
            "The field site is required: name the company's primary site, e.g. {\"name\": \"Main\"}.",
            resource,
            "site",
        ));
    };
    match given.get("name").and_then(Value::as_str).map(str::trim) {
        Some(name) if !name.is_empty() && name.chars().count() <= 50 => Ok(name.to_string()),
        Some(name) if !name.is_empty() => Err(FieldError::new(
            "InvalidField",
            "The field site.name must be a string with a maximum length of 50.",
            resource,
            "site.name",
        )),
        _ => Err(FieldError::new(
            "InvalidField",
            "The field site must name the primary site to create, e.g. {\"name\": \"Main\"}; a new company has no site to refer to yet.",
            resource,
            "site",
        )),
    }
}

/// On update, `site` must be one of the company's own sites (by id or by name).
fn own_site(
    state: &SimState,
    inner: &Inner,
    company_id: i64,
    given: &Value,
    resource: &str,
) -> Result<Option<Value>, FieldError> {
    let id = given.get("id").and_then(|v| {
        v.as_i64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
    });
    let name = given.get("name").and_then(Value::as_str).map(str::trim);
    let found = inner
        .store
        .list(SITES, Some(company_id))
        .into_iter()
        .find(|(sid, row)| match (id, name) {
            (Some(id), _) => *sid == id,
            (None, Some(name)) => row
                .value
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case(name)),
            (None, None) => false,
        });
    match found {
        Some((sid, row)) => Ok(Some(writer(state, inner, "").reference_to(
            "SiteReference",
            SITES,
            sid,
            Some(company_id),
            &row.value,
        ))),
        None => Err(FieldError::new(
            "InvalidField",
            format!(
                "The field site refers to a site that does not exist for company {company_id}."
            ),
            resource,
            "site",
        )),
    }
}

/// A company may not be its own parent, directly or through its parents' parents.
fn parent_cycle(
    inner: &Inner,
    company_id: i64,
    record: &Map<String, Value>,
    resource: &str,
) -> Option<FieldError> {
    let parent_of = |value: &Value| {
        value
            .get("parentCompany")
            .and_then(|p| p.get("id"))
            .and_then(Value::as_i64)
    };
    let mut next = parent_of(&Value::Object(record.clone()));
    let mut seen = std::collections::HashSet::new();
    while let Some(parent) = next {
        if parent == company_id {
            return Some(FieldError::new(
                "InvalidField",
                format!(
                    "The field parentCompany cannot be company {company_id} itself or one of its children: the parent chain would lead back to it."
                ),
                resource,
                "parentCompany",
            ));
        }
        if !seen.insert(parent) {
            return None;
        }
        next = inner
            .store
            .get(COMPANIES, parent)
            .and_then(|row| parent_of(&row.value));
    }
    None
}

/// The stored record a reference points at, as a reference (`None` when it is not there).
pub(crate) fn reference_of(
    state: &SimState,
    inner: &Inner,
    ref_schema: &str,
    collection: &str,
    id: i64,
) -> Option<Value> {
    let row = inner.store.get(collection, id)?;
    Some(writer(state, inner, "").reference_to(ref_schema, collection, id, row.parent, &row.value))
}

/// The reference schema a property of `schema` is written with (`BoardReference`).
fn reference_schema<'a>(state: &'a SimState, schema: &str, field: &str) -> Option<&'a str> {
    let prop = schema_props(state, schema)?.get(field)?;
    state.facts.resolve(prop).0
}

/// The instance's default record of a collection (of one parent's children when `parent` is
/// given): flagged default, else the active one with the lowest id.
fn default_record(
    inner: &Inner,
    collection: &str,
    parent: Option<i64>,
) -> Option<(i64, Option<i64>)> {
    let rows = inner.store.list(collection, parent);
    rows.iter()
        .find(|(_, row)| defaults::is_default(&row.value) && !defaults::is_inactive(&row.value))
        .or_else(|| {
            rows.iter()
                .find(|(_, row)| !defaults::is_inactive(&row.value))
        })
        .map(|(id, row)| (*id, row.parent))
}

/// Fills what a create left out: the resource's table in `defaults`, then `false` for every
/// boolean of the schema.
#[allow(clippy::too_many_arguments)]
fn fill_defaults(
    state: &SimState,
    inner: &mut Inner,
    storage: &str,
    schema: &str,
    id: i64,
    record: &mut Map<String, Value>,
    actor: &Actor,
    now: &str,
) {
    for (field, fill) in defaults::resource_defaults(storage) {
        if record.get(*field).is_some_and(|v| !v.is_null()) {
            continue;
        }
        let Some(props) = schema_props(state, schema) else {
            return;
        };
        if !props.contains_key(*field) {
            continue;
        }
        let value = match fill {
            Fill::Literal(text) => serde_json::from_str(text).ok(),
            Fill::Now => Some(Value::String(now.to_string())),
            Fill::Actor => Some(Value::String(actor.identifier.clone())),
            Fill::Guid => {
                let n = inner.store.allocate_id(GUIDS);
                Some(Value::String(format!("00000000-0000-4000-8000-{n:012x}")))
            }
            Fill::Itself => {
                let mut me = record.clone();
                me.insert("id".into(), Value::from(id));
                reference_schema(state, schema, field).map(|r| {
                    writer(state, inner, "").reference_to(r, storage, id, None, &Value::Object(me))
                })
            }
            Fill::Today => Some(Value::String(today(now))),
            Fill::SameAs(other) => record
                .get(*other)
                .cloned()
                .map(|v| landing(state, inner, schema, field, v)),
            Fill::FromRecord { via, field: source } => {
                referenced(state, inner, schema, via, record)
                    .and_then(|row| row.pointer(&format!("/{source}")).cloned())
                    .filter(|v| !v.is_null())
                    .map(|v| landing(state, inner, schema, field, v))
            }
            Fill::DefaultOf(collection) => reference_schema(state, schema, field).and_then(|r| {
                let (did, parent) = default_record(inner, collection, None)?;
                let row = inner.store.get(collection, did)?;
                Some(writer(state, inner, "").reference_to(r, collection, did, parent, &row.value))
            }),
            Fill::DefaultChildOf {
                collection,
                parent_field,
            } => reference_schema(state, schema, field).and_then(|r| {
                let parent = record
                    .get(*parent_field)
                    .and_then(|p| p.get("id"))
                    .and_then(Value::as_i64)?;
                let (did, _) = default_record(inner, collection, Some(parent))?;
                let row = inner.store.get(collection, did)?;
                Some(writer(state, inner, "").reference_to(
                    r,
                    collection,
                    did,
                    Some(parent),
                    &row.value,
                ))
            }),
        };
        if let Some(value) = value {
            record.insert(field.to_string(), value);
        }
    }
    if let Some(props) = schema_props(state, schema) {
        defaults::fill_false_flags(props, record);
    }
    if storage == TICKETS || storage == PROJECT_TICKETS {
        derive_closed_flag(inner, record);
    }
}

/// Midnight UTC of the day of `now` (`YYYY-MM-DDTHH:MM:SSZ`).
pub(crate) fn today(now: &str) -> String {
    format!("{}T00:00:00Z", now.get(..10).unwrap_or(now))
}

/// The stored record a reference field of `record` points at (`type` of an agreement → its
/// agreement type), when it exists.
pub(crate) fn referenced(
    state: &SimState,
    inner: &Inner,
    schema: &str,
    field: &str,
    record: &Map<String, Value>,
) -> Option<Value> {
    let id = record.get(field)?.get("id")?.as_i64()?;
    let target = resources::reference_target(reference_schema(state, schema, field)?)?;
    inner
        .store
        .get(resources::storage_collection(target), id)
        .map(|row| row.value.clone())
}

/// A value copied into `field` of a `schema` record: a reference is rebuilt in the shape of the
/// field's own reference schema (a location taken from an agreement type becomes the agreement's
/// `SystemLocationReference`); anything else is kept.
fn landing(state: &SimState, inner: &Inner, schema: &str, field: &str, value: Value) -> Value {
    let Some(ref_schema) =
        reference_schema(state, schema, field).filter(|r| r.ends_with("Reference"))
    else {
        return value;
    };
    let Some(id) = value.get("id").and_then(Value::as_i64) else {
        return value;
    };
    resources::reference_target(ref_schema)
        .and_then(|target| reference_of(state, inner, ref_schema, target, id))
        .unwrap_or(value)
}

/// A contact's communication item is a Phone, Fax or Email item as its communication type's
/// flags say (`phoneFlag`, `faxFlag`, `emailFlag`); the client's `communicationType` is not
/// trusted over the type it chose.
fn derive_communication_kinds(inner: &Inner, record: &mut Map<String, Value>) {
    let items = record
        .get_mut("communicationItems")
        .and_then(Value::as_array_mut);
    for item in items.into_iter().flatten() {
        let kind = item
            .get("type")
            .and_then(|t| t.get("id"))
            .and_then(Value::as_i64)
            .and_then(|id| inner.store.get(COMMUNICATION_TYPES, id))
            .and_then(|t| {
                [
                    ("emailFlag", "Email"),
                    ("faxFlag", "Fax"),
                    ("phoneFlag", "Phone"),
                ]
                .into_iter()
                .find(|(flag, _)| t.value.get(*flag).and_then(Value::as_bool) == Some(true))
                .map(|(_, kind)| kind)
            });
        if let (Some(kind), Some(item)) = (kind, item.as_object_mut()) {
            item.insert("communicationType".into(), Value::String(kind.into()));
        }
    }
}

/// A ticket is closed when its status is a closed status of its board.
fn derive_closed_flag(inner: &Inner, record: &mut Map<String, Value>) {
    let status = record
        .get("status")
        .and_then(|s| s.get("id"))
        .and_then(Value::as_i64)
        .and_then(|id| inner.store.get(BOARD_STATUSES, id));
    if let Some(status) = status {
        let closed = status.value.get("closedStatus").and_then(Value::as_bool) == Some(true);
        record.insert("closedFlag".into(), Value::Bool(closed));
    }
}

/// Values ConnectWise computes from others, on every write: a time entry's `actualHours`, its
/// ticket and company (from `chargeToType`/`chargeToId`) and its `billableOption` (from the work
/// type); a ticket's `closedFlag` (from its status). Problems are returned as field errors.
fn derive(
    state: &SimState,
    inner: &Inner,
    storage: &str,
    creating: bool,
    record: &mut Map<String, Value>,
    resource: &str,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    match storage {
        TICKETS | PROJECT_TICKETS if !creating => derive_closed_flag(inner, record),
        PRODUCTS => errors.extend(derive_product_ticket(state, inner, record, resource)),
        CONTACTS => derive_communication_kinds(inner, record),
        TIME_ENTRIES => {
            let at = |k: &str| {
                record
                    .get(k)
                    .and_then(Value::as_str)
                    .and_then(crate::validate::parse_datetime)
            };
            if let (Some(start), Some(end)) = (at("timeStart"), at("timeEnd")) {
                let deducted = record
                    .get("hoursDeduct")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0);
                match defaults::actual_hours(start, end, deducted) {
                    Some(hours) => {
                        record.insert("actualHours".into(), Value::from(hours));
                    }
                    None => errors.push(FieldError::new(
                        "InvalidField",
                        "The field timeEnd must be after timeStart.",
                        resource,
                        "timeEnd",
                    )),
                }
            }
            let charge_type = record
                .get("chargeToType")
                .and_then(Value::as_str)
                .unwrap_or("ServiceTicket")
                .to_string();
            let ticket_collection = match charge_type.as_str() {
                "ServiceTicket" => Some(TICKETS),
                "ProjectTicket" => Some(PROJECT_TICKETS),
                _ => None,
            };
            let charge_id = record
                .get("chargeToId")
                .and_then(Value::as_i64)
                .or_else(|| {
                    record
                        .get("ticket")
                        .and_then(|t| t.get("id"))
                        .and_then(Value::as_i64)
                });
            if let (Some(collection), Some(ticket_id)) = (ticket_collection, charge_id) {
                match inner.store.get(collection, ticket_id) {
                    Some(ticket) => {
                        record.insert("chargeToId".into(), Value::from(ticket_id));
                        record.insert("chargeToType".into(), Value::String(charge_type.clone()));
                        if let Some(t) = reference_of(state, inner, "TicketReference", collection, ticket_id)
                        {
                            record.insert("ticket".into(), t);
                        }
                        if let Some(company) = ticket.value.get("company").cloned() {
                            record.insert("company".into(), company);
                        }
                        // Time on a project ticket is time on its project and phase.
                        for field in ["project", "phase"] {
                            match ticket.value.get(field) {
                                Some(v) if collection == PROJECT_TICKETS => {
                                    record.insert(field.into(), v.clone());
                                }
                                _ => {
                                    record.remove(field);
                                }
                            }
                        }
                    }
                    None => errors.push(FieldError::new(
                        "InvalidField",
                        format!("The field chargeToId refers to a {charge_type} with id {ticket_id} that does not exist."),
                        resource,
                        "chargeToId",
                    )),
                }
            }
            if creating && record.get("billableOption").is_none_or(Value::is_null) {
                // The work type's "bill time" decides; a work type without one bills.
                let work_type = match record
                    .get("workType")
                    .and_then(|w| w.get("id"))
                    .and_then(Value::as_i64)
                {
                    Some(id) => Some(id),
                    None => default_record(inner, "/time/workTypes", None).map(|(id, _)| id),
                };
                let bill_time = work_type
                    .and_then(|id| inner.store.get("/time/workTypes", id))
                    .and_then(|w| w.value.get("billTime").and_then(Value::as_str))
                    .filter(|b| *b != "NoDefault")
                    .unwrap_or("Billable");
                record.insert(
                    "billableOption".into(),
                    Value::String(bill_time.to_string()),
                );
            }
        }
        _ => {}
    }
    errors
}

/// Applies a PATCH document; returns the top-level fields it touched.
fn apply_patch(
    state: &SimState,
    schema: &str,
    record: &mut Map<String, Value>,
    ops: &Value,
    resource: &str,
) -> Result<Vec<String>, ApiError> {
    let bad = |msg: String| ApiError::bad_request("InvalidObject", msg);
    let Value::Array(ops) = ops else {
        return Err(bad(
            "A PATCH body must be a JSON array of operations {op, path, value}.".into(),
        ));
    };
    let props = schema_props(state, schema);
    let mut touched = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let kind = op
            .get("op")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase);
        let path = op.get("path").and_then(Value::as_str);
        let (Some(kind), Some(path)) = (kind, path) else {
            return Err(bad(format!(
                "Operation {i} needs a string op and a string path."
            )));
        };
        let segments: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let Some(first) = segments.first().cloned() else {
            return Err(bad(format!("Operation {i} has an empty path.")));
        };
        if first == "id" || first == "_info" {
            let message = format!("The field {first} cannot be changed.");
            return Err(ApiError::invalid_object(
                resource,
                vec![FieldError::new("InvalidField", message, resource, &first)],
            ));
        }
        touched.push(first.clone());
        match kind.as_str() {
            "remove" => remove_path(record, &segments),
            "add" | "replace" => {
                let Some(value) = op.get("value").cloned() else {
                    return Err(bad(format!("Operation {i} ({kind} {path}) needs a value.")));
                };
                let is_reference = props
                    .and_then(|p| p.get(&first))
                    .and_then(|p| state.facts.resolve(p).0)
                    .is_some_and(|n| n.ends_with("Reference"));
                match segments.get(1) {
                    // `/status/id` = N re-points the reference; its name must come from the new target.
                    Some(key) if is_reference && segments.len() == 2 && key == "id" => {
                        record.insert(first, json!({ "id": value }));
                    }
                    // `/state/identifier` = "FL": the reference is looked up by that key.
                    Some(key) if is_reference && segments.len() == 2 && value.is_string() => {
                        record.insert(first, json!({ key.clone(): value }));
                    }
                    _ => set_path(record, &segments, value),
                }
            }
            other => {
                return Err(bad(format!(
                    "Operation {i} has unsupported op '{other}' (use add, replace or remove)."
                )));
            }
        }
    }
    Ok(touched)
}

fn set_path(record: &mut Map<String, Value>, segments: &[String], value: Value) {
    let Some((last, parents)) = segments.split_last() else {
        return;
    };
    let mut current = record;
    for seg in parents {
        let entry = current
            .entry(seg.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(next) = entry else { return };
        current = next;
    }
    current.insert(last.clone(), value);
}

fn remove_path(record: &mut Map<String, Value>, segments: &[String]) {
    let Some((last, parents)) = segments.split_last() else {
        return;
    };
    let mut current = record;
    for seg in parents {
        match current.get_mut(seg) {
            Some(Value::Object(next)) => current = next,
            _ => return,
        }
    }
    current.remove(last);
}

/// Deletes a record (and its children). Returns the change events.
pub fn delete_locked(
    inner: &mut Inner,
    collection: &str,
    storage: &str,
    id: i64,
    actor: &Actor,
) -> Result<Vec<ChangeEvent>, ApiError> {
    if let Some(error) = inner
        .store
        .get(storage, id)
        .and_then(|row| invoicing::check_delete(inner, storage, &row.value))
    {
        return Err(ApiError::invalid_object(
            &resources::resource_name(collection),
            vec![error],
        ));
    }
    let row = inner
        .store
        .remove(storage, id)
        .ok_or_else(|| not_found(collection, id))?;
    if storage == "/system/documents" {
        inner.documents.remove(&id);
    }
    let mut events = Vec::new();
    if let Some(kind) = resources::resource(storage).and_then(|r| r.callback_type) {
        events.push(actor.event("deleted", kind, id, None));
    }
    let now = format_datetime(inner.knobs.now());
    for ticket in charged_tickets(inner, storage, Some(&row.value)) {
        events.extend(touch_ticket(inner, ticket, actor, &now));
    }
    // Children of a deleted record go with it.
    let prefix = format!("{storage}/{{parentId}}/");
    for child in resources::RESOURCES
        .iter()
        .filter(|r| r.collection.starts_with(&prefix) && r.alias_of.is_none())
    {
        inner.store.remove_children(child.collection, id);
    }
    if storage == TYPE_ASSOCIATIONS
        && let Some(pid) = row.parent
    {
        events.extend(sync_company_types(inner, pid, actor));
    }
    if storage != invoicing::INVOICES
        && let Some(invoice) = invoicing::invoice_of(storage, row.parent, &row.value)
    {
        invoicing::follow_invoice(inner, invoice);
    }
    Ok(events)
}

/// Turns change events into delivery jobs for the active callback entries of their type.
pub fn callback_jobs(
    state: &SimState,
    inner: &mut Inner,
    events: &[ChangeEvent],
) -> Vec<callbacks::CallbackJob> {
    if inner.knobs.callbacks_disabled || events.is_empty() {
        return Vec::new();
    }
    let entries = inner.store.list("/system/callbacks", None);
    let from_url = state
        .base_url
        .split("://")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let mut jobs = Vec::new();
    for event in events {
        for (cid, row) in &entries {
            let entry = &row.value;
            let ty = entry.get("type").and_then(Value::as_str).unwrap_or("");
            let inactive = entry
                .get("inactiveFlag")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let Some(url) = entry.get("url").and_then(Value::as_str) else {
                continue;
            };
            if inactive || !ty.eq_ignore_ascii_case(event.callback_type) {
                continue;
            }
            let key_url = callbacks::key_url(&state.base_url, *cid);
            jobs.push(callbacks::CallbackJob {
                callback_id: *cid,
                url: url.to_string(),
                payload: callbacks::payload(event, &from_url, &key_url),
                drop: false,
                copies: 1,
            });
        }
    }
    for job in &mut jobs {
        if inner.knobs.callbacks_to_drop > 0 {
            inner.knobs.callbacks_to_drop -= 1;
            job.drop = true;
        } else if inner.knobs.callbacks_to_duplicate > 0 {
            inner.knobs.callbacks_to_duplicate -= 1;
            job.copies = 2;
        }
    }
    jobs
}
