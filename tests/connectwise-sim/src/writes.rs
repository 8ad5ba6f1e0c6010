//! Creating, replacing, patching and deleting records in the store, under the state lock: validation via
//! `validate`, the resource rules ConnectWise applies (unique identifiers, company address and types rules),
//! `_info` upkeep, and the side effects that keep related collections consistent (a new company gets its
//! "Main" site and type associations; type associations drive `Company.types`; children go with their
//! parent). Returns change events for callbacks; never sends anything itself.
use serde_json::{Map, Value, json};

use crate::callbacks::{self, ChangeEvent};
use crate::error::{ApiError, FieldError};
use crate::resources;
use crate::state::{Inner, SimState};
use crate::validate::{RecordWriter, format_datetime, strip_nulls};

const COMPANIES: &str = "/company/companies";
const SITES: &str = "/company/companies/{parentId}/sites";
const TYPE_ASSOCIATIONS: &str = "/company/companies/{parentId}/typeAssociations";
const CONTACTS: &str = "/company/contacts";
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
    if is_company {
        if !creating {
            // Types change only through type associations; the site reference is the server's.
            for kept in ["types", "site"] {
                match existing.as_ref().and_then(|e| e.get(kept)) {
                    Some(v) => clean.insert(kept.into(), v.clone()),
                    None => clean.remove(kept),
                };
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
    if !errors.is_empty() {
        return Err(ApiError::invalid_object(&resource, errors));
    }

    let now = format_datetime(inner.knobs.now());
    let id = match id {
        Some(id) => id,
        None => inner.store.allocate_id(storage),
    };
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

    let mut events = Vec::new();
    if is_company {
        if creating {
            create_type_associations(state, inner, id, &record, actor);
            if state.options.create_default_site {
                create_default_site(state, inner, id, actor);
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
        events.insert(0, actor.event(action, kind, id, Some(record.clone())));
    }
    Ok((record, events))
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
    if let Value::Object(map) = &mut company {
        if types.is_empty() {
            map.remove("types");
        } else {
            map.insert("types".into(), Value::Array(types));
        }
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

/// A new company gets its primary site "Main" holding its address, and `company.site` points at it.
fn create_default_site(state: &SimState, inner: &mut Inner, company_id: i64, actor: &Actor) {
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
    site.insert("name".into(), Value::String("Main".into()));
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
    Ok(events)
}

/// Turns change events into delivery jobs for the active callback entries of their type.
pub fn callback_jobs(
    state: &SimState,
    inner: &Inner,
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
    let key_url = format!("{}/__sim/callbacks/signing-key", state.base_url);
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
            jobs.push(callbacks::CallbackJob {
                callback_id: *cid,
                url: url.to_string(),
                payload: callbacks::payload(event, &from_url, &key_url),
            });
        }
    }
    jobs
}
