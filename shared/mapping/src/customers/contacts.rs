//! Billing contacts ↔ ConnectWise contacts, with their communication items (phone, e-mail,
//! mobile, fax) edited in place: an item that exists keeps its id, none is added twice.
//!
//! A billing contact holds at most one value of each kind (the seed's "4 cell array":
//! Phone/Email/MobilePhone/Fax). Each kind has one slot among the ConnectWise contact's items;
//! the billing value goes into that slot, keeping the item's id and type, or becomes a new item
//! when the contact has none of that kind. Items the billing system doesn't know (a second e-mail,
//! a home phone, a pager) are never touched, and nothing is removed: an absent billing value
//! leaves ConnectWise's as it is.
//!
//! A new item's communication type comes from the tenant's own table
//! (`/company/communicationTypes`, read with the reference data): each tenant edits it, so ids
//! differ between instances. The type is chosen by its flags (`phoneFlag`, `faxFlag`,
//! `emailFlag`) and its name ([`communication_type_for`]); an instance with no type for a kind
//! (no mobile type, say) makes a new item of that kind a problem of the record, never an item
//! of the wrong type.

use cwsync_billing::models::Contact as BillingContact;
use cwsync_connectwise::PatchOp;
use cwsync_connectwise::models::{CommunicationType, Contact, ContactCommunicationItem, Reference};

use super::fields::{Problems, owned, plan_patch, present, same_optional_name, same_phone};
use super::phones::split_extension;
use super::{Noted, RecordProblem, entity};
use crate::settings::{TenantSettings, same_name};

/// Longest communication item value (`ContactCommunication.value`, "Max length: 250" in the
/// Jetbuilt/connect_wise generated docs; the same limit in ConnectWiseManageAPI's
/// `New-CWMContactCommunication`).
pub const MAX_COMMUNICATION_VALUE_CHARS: usize = 250;

/// Longest contact first and last name. The OpenAPI subset gives `Contact.firstName` and
/// `lastName` no `maxLength`; its `Member` names say "Max length: 30", which ConnectWise's
/// contact screen enforces too. The stricter reading: a longer name is the record's problem,
/// reported, rather than sent (a megabyte once was).
pub const MAX_CONTACT_NAME_CHARS: usize = 30;

/// `communicationType` of phone and mobile items.
const PHONE: &str = "Phone";
/// `communicationType` of e-mail items.
const EMAIL: &str = "Email";
/// `communicationType` of fax items.
const FAX: &str = "Fax";
/// The usual name of the office phone's communication type.
const DIRECT: &str = "Direct";

/// The four kinds of communication a billing contact holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// The office phone (`phone`).
    Phone,
    /// The e-mail address (`email`).
    Email,
    /// The mobile phone (`mobile`).
    Mobile,
    /// The fax number (`fax`).
    Fax,
}

impl ItemKind {
    /// ConnectWise's `communicationType` of this kind.
    fn communication_type(self) -> &'static str {
        match self {
            ItemKind::Phone | ItemKind::Mobile => PHONE,
            ItemKind::Email => EMAIL,
            ItemKind::Fax => FAX,
        }
    }

    /// The billing field of this kind, for problems.
    fn field(self) -> &'static str {
        match self {
            ItemKind::Phone => "phone",
            ItemKind::Email => "email",
            ItemKind::Mobile => "mobile",
            ItemKind::Fax => "fax",
        }
    }
}

/// Whether a communication type's name says "mobile phone".
fn is_mobile_name(name: &str) -> bool {
    let name = name.to_lowercase();
    name.contains("cell") || name.contains("mobile")
}

/// The kind of an item, `None` for one the billing system has no field for (a pager, say).
/// `communicationType` decides; without it (older servers) the type's name.
pub(super) fn kind_of(item: &ContactCommunicationItem) -> Option<ItemKind> {
    let type_name = item.kind.as_ref().and_then(|t| present(t.name.as_deref()));
    let mobile = type_name.is_some_and(is_mobile_name);
    match present(item.communication_type.as_deref()) {
        Some(kind) if same_name(kind, EMAIL) => Some(ItemKind::Email),
        Some(kind) if same_name(kind, FAX) => Some(ItemKind::Fax),
        Some(kind) if same_name(kind, PHONE) => Some(if mobile {
            ItemKind::Mobile
        } else {
            ItemKind::Phone
        }),
        Some(_) => None,
        None => match type_name {
            Some(name) if name.to_lowercase().contains("mail") => Some(ItemKind::Email),
            Some(name) if name.to_lowercase().contains("fax") => Some(ItemKind::Fax),
            Some(_) if mobile => Some(ItemKind::Mobile),
            Some(name) if same_name(name, DIRECT) => Some(ItemKind::Phone),
            _ => None,
        },
    }
}

/// Whether an item's type is "Direct", the office phone.
fn is_direct(item: &ContactCommunicationItem) -> bool {
    item.kind
        .as_ref()
        .and_then(|t| present(t.name.as_deref()))
        .is_some_and(|name| same_name(name, DIRECT))
}

/// Whether a communication type of the tenant's table holds values of `kind`: its flag says so
/// (a phone type is a mobile one when its name says "mobile" or "cell"); a table without flags
/// (none set at all) is read by the names alone.
fn holds(kind: ItemKind, t: &CommunicationType) -> bool {
    let name = t.description.as_deref().unwrap_or("");
    let flagged = [t.phone_flag, t.fax_flag, t.email_flag]
        .iter()
        .any(Option::is_some);
    let (phone, fax, email) = if flagged {
        (
            t.phone_flag == Some(true),
            t.fax_flag == Some(true),
            t.email_flag == Some(true),
        )
    } else {
        let lower = name.to_lowercase();
        let fax = lower.contains("fax");
        let email = lower.contains("mail");
        (!fax && !email, fax, email)
    };
    match kind {
        ItemKind::Email => email,
        ItemKind::Fax => fax,
        ItemKind::Mobile => phone && is_mobile_name(name),
        ItemKind::Phone => phone && !is_mobile_name(name),
    }
}

/// The communication type a new item of `kind` gets, from the tenant's table: of the types that
/// hold that kind, the one named like it ("Direct" for the office phone, "Email", "Fax"), then
/// the default one, then the lowest id. The office phone takes only "Direct" or the default
/// phone type, never a home phone or a pager. `None`: the tenant has no such type.
pub fn communication_type_for(
    types: &[CommunicationType],
    kind: ItemKind,
) -> Option<&CommunicationType> {
    let preferred_name = match kind {
        ItemKind::Phone => DIRECT,
        ItemKind::Email => EMAIL,
        ItemKind::Fax => FAX,
        ItemKind::Mobile => "Mobile",
    };
    let mut candidates: Vec<&CommunicationType> = types
        .iter()
        .filter(|t| t.id.is_some() && holds(kind, t))
        .collect();
    candidates.sort_by_key(|t| t.id);
    let named = candidates.iter().copied().find(|t| {
        t.description
            .as_deref()
            .is_some_and(|n| same_name(n, preferred_name))
    });
    let default = candidates
        .iter()
        .copied()
        .find(|t| t.default_flag == Some(true));
    match kind {
        ItemKind::Phone => named.or(default),
        _ => named.or(default).or_else(|| candidates.first().copied()),
    }
}

/// The item of `kind` a billing value goes into: of several, the office ("Direct") phone for a
/// phone, then the default one, then the first.
pub(super) fn slot(items: &[ContactCommunicationItem], kind: ItemKind) -> Option<usize> {
    let of_kind = || {
        items
            .iter()
            .enumerate()
            .filter(move |(_, item)| kind_of(item) == Some(kind))
    };
    let direct = || {
        of_kind()
            .find(|(_, item)| kind == ItemKind::Phone && is_direct(item))
            .map(|(i, _)| i)
    };
    direct()
        .or_else(|| {
            of_kind()
                .find(|(_, item)| item.default_flag == Some(true))
                .map(|(i, _)| i)
        })
        .or_else(|| of_kind().next().map(|(i, _)| i))
}

/// Whether two values of `kind` are the same: e-mail addresses ignore case, phone and fax
/// numbers compare by their digits (ConnectWise stores digits only).
fn same_value(kind: Option<ItemKind>, a: Option<&str>, b: Option<&str>) -> bool {
    match kind {
        Some(ItemKind::Email) => same_optional_name(a, b),
        Some(ItemKind::Phone | ItemKind::Mobile | ItemKind::Fax) => same_phone(a, b),
        None => present(a) == present(b),
    }
}

/// `current`'s items with `wanted` merged in: a wanted item with the id of a current item changes
/// that item's value; one without (or with an unknown id) goes into the slot of its kind, or is
/// appended when the contact has none. Current items nothing maps to are kept as they are.
fn merge_items(
    current: &[ContactCommunicationItem],
    wanted: &[ContactCommunicationItem],
) -> Vec<ContactCommunicationItem> {
    let mut merged = current.to_vec();
    for item in wanted {
        let kind = kind_of(item);
        // By id; else an item of the kind already holding the value (so a value held by the
        // second of two e-mail items isn't copied over the first); else the kind's slot.
        let target = item
            .id
            .and_then(|id| merged.iter().position(|m| m.id == Some(id)))
            .or_else(|| {
                kind.and_then(|kind| {
                    merged.iter().position(|m| {
                        kind_of(m) == Some(kind)
                            && same_value(Some(kind), m.value.as_deref(), item.value.as_deref())
                    })
                })
            })
            .or_else(|| kind.and_then(|kind| slot(&merged, kind)));
        match (target.and_then(|i| merged.get_mut(i)), kind) {
            (Some(existing), _) => {
                let kind = kind_of(existing).or(kind);
                if !same_value(kind, existing.value.as_deref(), item.value.as_deref()) {
                    existing.value = owned(item.value.as_deref());
                    if kind == Some(ItemKind::Email) {
                        // The server derives the domain from the address.
                        existing.domain = None;
                    }
                }
                // An extension the billing system holds is set; one it lacks leaves
                // ConnectWise's as it is (as an absent billing value does).
                if let Some(extension) = present(item.extension.as_deref())
                    && present(existing.extension.as_deref()) != Some(extension)
                {
                    existing.extension = Some(extension.to_owned());
                }
            }
            (None, Some(kind)) => {
                let communication_type = kind.communication_type();
                let has_default = merged.iter().any(|m| {
                    m.default_flag == Some(true)
                        && m.communication_type
                            .as_deref()
                            .is_some_and(|t| same_name(t, communication_type))
                });
                // Only an item with a type is added (`desired_contact` chose it, or reported
                // that the tenant has none).
                let Some(type_id) = item.kind.as_ref().and_then(|t| t.id) else {
                    continue;
                };
                merged.push(ContactCommunicationItem {
                    id: None,
                    kind: Some(Reference {
                        name: item.kind.as_ref().and_then(|t| t.name.clone()),
                        ..Reference::id(type_id)
                    }),
                    value: owned(item.value.as_deref()),
                    extension: owned(item.extension.as_deref()),
                    default_flag: Some(!has_default),
                    communication_type: Some(communication_type.to_owned()),
                    ..ContactCommunicationItem::default()
                });
            }
            // Neither a known item nor a known kind: nothing to place it in.
            (None, None) => {}
        }
    }
    merged
}

/// Whether `text` looks like an e-mail address ConnectWise would keep: one `@`, something before
/// it, a dotted domain after it, no spaces.
fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !text.chars().any(char::is_whitespace)
        && domain.contains('.')
        && domain.split('.').all(|label| !label.is_empty())
}

/// The contact `contact` should be, in company `company_id`. With `current` (the linked or
/// matched ConnectWise contact), its communication items are merged in place. A value that
/// needs a new item gets its type from `types`, the tenant's communication types; a kind the
/// tenant has no type for is a problem of that field.
pub fn desired_contact(
    contact: &BillingContact,
    company_id: i64,
    current: Option<&Contact>,
    types: &[CommunicationType],
) -> Result<Contact, Vec<RecordProblem>> {
    desired_contact_noted(contact, company_id, current, types).map(|noted| noted.value)
}

/// [`desired_contact`] with the notes on what was made of the billing values (a name made one
/// line), for the contact's report line. A number's extension goes to its communication item's
/// `extension`.
pub fn desired_contact_noted(
    contact: &BillingContact,
    company_id: i64,
    current: Option<&Contact>,
    types: &[CommunicationType],
) -> Result<Noted<Contact>, Vec<RecordProblem>> {
    let mut problems = Problems::new(entity::CONTACT, &contact.id);
    let first_name = problems.required_line(
        "firstName",
        contact.first_name.as_deref(),
        "ConnectWise refuses a contact without a first name",
    );
    let first_name = problems.limited("firstName", first_name, MAX_CONTACT_NAME_CHARS);

    let mut wanted = Vec::new();
    for (field, kind, value) in [
        ("phone", ItemKind::Phone, &contact.phone),
        ("email", ItemKind::Email, &contact.email),
        ("mobile", ItemKind::Mobile, &contact.mobile),
        ("fax", ItemKind::Fax, &contact.fax),
    ] {
        let phone = match kind {
            ItemKind::Email => None,
            _ => present(value.as_deref()).map(split_extension),
        };
        let text = phone.map_or(value.as_deref(), |p| Some(p.number));
        let Some(value) = problems.text(field, text, MAX_COMMUNICATION_VALUE_CHARS) else {
            continue;
        };
        if kind == ItemKind::Email && !is_email(&value) {
            problems.push(field, format!("{value:?} is not an e-mail address"));
        }
        let current_items = current
            .and_then(|c| c.communication_items.as_deref())
            .unwrap_or(&[]);
        // The type's name goes with its id: it is what tells a mobile item from an office one.
        let chosen = communication_type_for(types, kind).and_then(|t| {
            Some(Reference {
                name: t.description.clone(),
                ..Reference::id(t.id?)
            })
        });
        if chosen.is_none() && slot(current_items, kind).is_none() {
            problems.push(
                kind.field(),
                format!(
                    "ConnectWise has no communication type for a {} (Setup Tables → Communication Types: none with the {} flag{}); add one, or leave the field empty",
                    match kind {
                        ItemKind::Phone => "direct phone number",
                        ItemKind::Email => "e-mail address",
                        ItemKind::Mobile => "mobile number",
                        ItemKind::Fax => "fax number",
                    },
                    match kind {
                        ItemKind::Phone | ItemKind::Mobile => "phone",
                        ItemKind::Email => "e-mail",
                        ItemKind::Fax => "fax",
                    },
                    match kind {
                        ItemKind::Phone => " named Direct or marked default",
                        ItemKind::Mobile => " named Mobile or Cell",
                        _ => "",
                    }
                ),
            );
            continue;
        }
        wanted.push(ContactCommunicationItem {
            kind: chosen,
            value: Some(value),
            extension: phone.and_then(|p| p.extension).map(str::to_owned),
            communication_type: Some(kind.communication_type().to_owned()),
            ..ContactCommunicationItem::default()
        });
    }
    let current_items = current
        .and_then(|c| c.communication_items.as_deref())
        .unwrap_or(&[]);
    let items = merge_items(current_items, &wanted);

    let desired = Contact {
        first_name,
        last_name: {
            let last = problems.clean_line("lastName", contact.last_name.as_deref());
            problems.limited("lastName", last, MAX_CONTACT_NAME_CHARS)
        },
        title: problems.clean_line("title", contact.title.as_deref()),
        company: Some(Reference::id(company_id)),
        communication_items: (!items.is_empty()).then_some(items),
        ..Contact::default()
    };
    problems.finish_noted(desired)
}

/// The e-mail addresses of a contact.
fn emails(contact: &Contact) -> impl Iterator<Item = &str> {
    contact
        .communication_items
        .iter()
        .flatten()
        .filter(|item| kind_of(item) == Some(ItemKind::Email))
        .filter_map(|item| present(item.value.as_deref()))
}

/// The existing contact of the company that is `desired`: same e-mail address, else same first
/// and last name (trimmed, any case). `None`: create.
///
/// Of several matches, the oldest (lowest id) is taken, so the answer doesn't depend on the order
/// ConnectWise listed them in.
pub fn match_contact(desired: &Contact, existing: &[Contact]) -> Option<i64> {
    let wanted: Vec<&str> = emails(desired).collect();
    let candidates = || existing.iter().filter(|c| c.id.is_some());
    let by_email = candidates()
        .filter(|c| emails(c).any(|have| wanted.iter().any(|want| same_name(have, want))))
        .filter_map(|c| c.id)
        .min();
    if by_email.is_some() {
        return by_email;
    }
    let first = present(desired.first_name.as_deref())?;
    candidates()
        .filter(|c| present(c.first_name.as_deref()).is_some_and(|f| same_name(f, first)))
        .filter(|c| same_optional_name(c.last_name.as_deref(), desired.last_name.as_deref()))
        .filter_map(|c| c.id)
        .min()
}

/// The PATCH from `current` to `desired`, leaving alone `neverOverwrite.contacts` and
/// `ownedByConnectWise.contacts`.
///
/// `communicationItems` is merged into `current`'s items first (by item id, else by kind), so the
/// PATCH replaces the array with `current`'s items, ids kept, only values changed and missing
/// kinds added, whether or not `desired` was built with `current`.
pub fn plan_contact_update(
    current: &Contact,
    desired: &Contact,
    settings: &TenantSettings,
) -> Vec<PatchOp> {
    let lists: [&[String]; 2] = [
        &settings.never_overwrite.contacts,
        &settings.owned_by_connectwise.contacts,
    ];
    let mut desired = desired.clone();
    if let Some(wanted) = &desired.communication_items {
        let have = current.communication_items.as_deref().unwrap_or(&[]);
        let merged = merge_items(have, wanted);
        desired.communication_items = (!merged.is_empty()).then_some(merged);
    }
    plan_patch(current, &desired, &lists, &[], &[])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::super::fixtures::{communication_types, contact, echo_contact};
    use super::*;

    /// `shared/connectwise/samples/contact.json`, the real response (keys we don't model included).
    fn sample() -> Contact {
        serde_json::from_value(json!({
            "id": 2, "firstName": "Arnie", "lastName": "Bellini",
            "company": {"id": 2, "identifier": "YourCompany", "name": "TestCompany"},
            "site": {"id": 28, "name": "Main"},
            "inactiveFlag": false, "title": "CPA, MBA", "defaultFlag": true,
            "mobileGuid": "1a977037-e97d-4565-93d9-90e5e485bdc4",
            "defaultPhoneType": "Direct", "defaultPhoneNbr": "8139357100",
            "communicationItems": [
                {"id": 2, "contactId": 2, "type": {"id": 2, "name": "Direct"},
                 "value": "8139357100", "extension": "401", "defaultFlag": true,
                 "mobileGuid": "39378d37-1746-4c26-99b8-ff4faaef2590", "communicationType": "Phone"},
                {"id": 3, "contactId": 2, "type": {"id": 1, "name": "Email"},
                 "value": "Arnie@YourCompany.com", "defaultFlag": true,
                 "mobileGuid": "4e859105-2df6-4802-a57c-dd3ed4e641c6", "communicationType": "Email",
                 "domain": "@YourCompany.com"}
            ],
            "types": [],
            "_info": {"lastUpdated": "2024-03-05T16:20:11Z", "updatedBy": "jdoe"}
        }))
        .unwrap()
    }

    /// The billing contact that the sample already is.
    fn sample_contact() -> BillingContact {
        BillingContact {
            first_name: Some("Arnie".into()),
            last_name: Some("Bellini".into()),
            title: Some("CPA, MBA".into()),
            phone: Some("8139357100".into()),
            email: Some("arnie@yourcompany.com".into()),
            mobile: None,
            fax: None,
            ..contact()
        }
    }

    fn items(contact: &Contact) -> Value {
        serde_json::to_value(contact.communication_items.as_ref().unwrap()).unwrap()
    }

    fn settings() -> TenantSettings {
        TenantSettings::default()
    }

    #[test]
    fn a_new_contact_gets_one_item_of_each_kind_with_default_types() {
        let desired = desired_contact(&contact(), 250, None, &communication_types()).unwrap();
        assert_eq!(
            serde_json::to_value(&desired).unwrap(),
            json!({
                "firstName": "Arnie",
                "lastName": "Bellini",
                "title": "CPA",
                "company": {"id": 250},
                "communicationItems": [
                    {"type": {"id": 2, "name": "Direct"}, "value": "8139357100", "defaultFlag": true, "communicationType": "Phone"},
                    {"type": {"id": 1, "name": "Email"}, "value": "arnie@yourcompany.example", "defaultFlag": true, "communicationType": "Email"},
                    {"type": {"id": 4, "name": "Cell"}, "value": "8135550199", "defaultFlag": false, "communicationType": "Phone"},
                    {"type": {"id": 3, "name": "Fax"}, "value": "8135550198", "defaultFlag": true, "communicationType": "Fax"},
                ],
            })
        );
    }

    /// (value, extension) of each item of `kind` (`communicationType`).
    fn numbers(contact: &Contact, kind: &str) -> Vec<(Option<String>, Option<String>)> {
        contact
            .communication_items
            .iter()
            .flatten()
            .filter(|i| i.communication_type.as_deref() == Some(kind))
            .map(|i| (i.value.clone(), i.extension.clone()))
            .collect()
    }

    #[test]
    fn a_numbers_extension_goes_to_its_items_extension() {
        let billing = BillingContact {
            phone: Some("+1 (555) 010-0199 x23".into()),
            mobile: None,
            fax: Some("555-010-0198;ext=7".into()),
            ..contact()
        };
        let noted = desired_contact_noted(&billing, 250, None, &communication_types()).unwrap();
        assert_eq!(
            numbers(&noted.value, "Phone"),
            [(Some("+1 (555) 010-0199".into()), Some("23".into()))]
        );
        assert_eq!(
            numbers(&noted.value, "Fax"),
            [(Some("555-010-0198".into()), Some("7".into()))]
        );
        assert!(noted.notes.is_empty(), "{:?}", noted.notes);

        // Echoed back by ConnectWise (digits only, the extension kept): nothing to change.
        let mut current = noted.value.clone();
        current.id = Some(9);
        for (id, item) in current.communication_items.iter_mut().flatten().enumerate() {
            item.id = Some(id as i64 + 1);
            if item.communication_type.as_deref() != Some("Email") {
                item.value = item
                    .value
                    .as_deref()
                    .map(|v| v.chars().filter(char::is_ascii_digit).collect());
            }
        }
        let again = desired_contact(&billing, 250, Some(&current), &communication_types()).unwrap();
        let plan = plan_contact_update(&current, &again, &settings());
        assert!(plan.is_empty(), "{plan:?}");
    }

    #[test]
    fn an_extension_added_in_billing_is_set_on_the_existing_item() {
        let billing = BillingContact {
            phone: Some("8139357100 ext 401".into()),
            ..sample_contact()
        };
        let current = sample();
        let desired =
            desired_contact(&billing, 250, Some(&current), &communication_types()).unwrap();
        let phones = numbers(&desired, "Phone");
        assert!(
            phones.contains(&(Some("8139357100".into()), Some("401".into()))),
            "{phones:?}"
        );
    }

    #[test]
    fn names_and_title_with_control_characters_are_one_line_and_noted() {
        let billing = BillingContact {
            first_name: Some("\tArnie\n".into()),
            last_name: Some("Bel\r\nlini".into()),
            title: Some(" CPA ".into()),
            ..contact()
        };
        let noted = desired_contact_noted(&billing, 250, None, &communication_types()).unwrap();
        assert_eq!(noted.value.first_name.as_deref(), Some("Arnie"));
        assert_eq!(noted.value.last_name.as_deref(), Some("Bel lini"));
        assert_eq!(noted.value.title.as_deref(), Some("CPA"));
        assert_eq!(
            noted.notes,
            [
                "firstName: control characters replaced, spaces trimmed",
                "lastName: control characters replaced",
                "title: spaces trimmed",
            ]
        );
    }

    /// A table like a real instance's (and the simulator's): other ids, other order, a
    /// "Mobile" instead of a "Cell", and types the billing system has no field for.
    fn other_instance_types() -> Vec<CommunicationType> {
        let kind =
            |id: i64, name: &str, flags: (bool, bool, bool), default: bool| CommunicationType {
                id: Some(id),
                description: Some(name.into()),
                phone_flag: Some(flags.0),
                fax_flag: Some(flags.1),
                email_flag: Some(flags.2),
                default_flag: Some(default),
                ..CommunicationType::default()
            };
        vec![
            kind(11, "Home", (true, false, false), false),
            kind(12, "Pager", (true, false, false), false),
            kind(13, "Alternate Email", (false, false, true), false),
            kind(14, "Office Fax", (false, true, false), true),
            kind(15, "Mobile", (true, false, false), false),
            kind(16, "Email", (false, false, true), true),
            kind(17, "Direct", (true, false, false), true),
        ]
    }

    #[test]
    fn new_items_take_the_tenants_types_chosen_by_name_and_flags() {
        let desired = desired_contact(&contact(), 250, None, &other_instance_types()).unwrap();
        let types: Vec<(i64, &str)> = desired
            .communication_items
            .as_deref()
            .unwrap()
            .iter()
            .map(|i| {
                let t = i.kind.as_ref().unwrap();
                (t.id.unwrap(), t.name.as_deref().unwrap())
            })
            .collect();
        assert_eq!(
            types,
            [
                (17, "Direct"),
                (16, "Email"),
                (15, "Mobile"),
                (14, "Office Fax")
            ]
        );
    }

    #[test]
    fn a_tenant_without_a_mobile_or_fax_type_makes_those_values_problems_not_wrong_types() {
        let types: Vec<CommunicationType> = other_instance_types()
            .into_iter()
            .filter(|t| !matches!(t.description.as_deref(), Some("Mobile" | "Office Fax")))
            .collect();
        let problems = desired_contact(&contact(), 250, None, &types).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["mobile", "fax"]);
        assert!(
            problems[0]
                .message
                .contains("no communication type for a mobile number"),
            "{}",
            problems[0].message
        );
        // A contact that already has a mobile item keeps using it: no type is needed.
        let current = echo_contact(
            &desired_contact(&contact(), 250, None, &communication_types()).unwrap(),
            7,
        );
        let fax_only: Vec<CommunicationType> = types
            .into_iter()
            .chain(
                other_instance_types()
                    .into_iter()
                    .filter(|t| t.id == Some(14)),
            )
            .collect();
        assert!(desired_contact(&contact(), 250, Some(&current), &fax_only).is_ok());
    }

    #[test]
    fn the_office_phone_never_lands_on_a_home_phone_or_a_pager() {
        let types: Vec<CommunicationType> = other_instance_types()
            .into_iter()
            .filter(|t| t.description.as_deref() != Some("Direct"))
            .collect();
        let problems = desired_contact(&contact(), 250, None, &types).unwrap_err();
        assert_eq!(problems[0].field, "phone");
        assert_eq!(
            communication_type_for(&communication_types(), ItemKind::Phone).and_then(|t| t.id),
            Some(2)
        );
    }

    #[test]
    fn a_contact_without_communication_values_sends_no_items() {
        let contact = BillingContact {
            phone: None,
            email: Some(" ".into()),
            mobile: None,
            fax: None,
            ..contact()
        };
        let desired = desired_contact(&contact, 250, None, &communication_types()).unwrap();
        assert_eq!(desired.communication_items, None);
    }

    #[test]
    fn a_contact_name_longer_than_connectwise_takes_is_a_problem_not_sent() {
        let contact = BillingContact {
            first_name: Some("F".repeat(1 << 20)),
            last_name: Some("L".repeat(MAX_CONTACT_NAME_CHARS + 1)),
            ..contact()
        };
        let problems =
            desired_contact_noted(&contact, 1, None, &communication_types()).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["firstName", "lastName"]);
        assert!(
            problems.iter().all(|p| p.to_string().len() < 300),
            "{problems:?}"
        );
    }

    #[test]
    fn a_contact_without_a_first_name_is_a_problem() {
        let contact = BillingContact {
            first_name: Some("  ".into()),
            ..contact()
        };
        let problems = desired_contact(&contact, 250, None, &communication_types()).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].entity, "contact");
        assert_eq!(problems[0].record_id, "con-1");
        assert_eq!(problems[0].field, "firstName");
    }

    #[test]
    fn a_malformed_email_is_a_problem_on_the_email_field() {
        for bad in [
            "arnie",
            "arnie@",
            "@example.com",
            "arnie@example",
            "ar nie@example.com",
            "a@b@c.com",
            "a@example..com",
        ] {
            let contact = BillingContact {
                email: Some(bad.into()),
                ..contact()
            };
            let problems =
                desired_contact(&contact, 250, None, &communication_types()).expect_err(bad);
            assert_eq!(problems.len(), 1, "{bad}");
            assert_eq!(problems[0].field, "email");
            assert_eq!(
                problems[0].message,
                format!("{bad:?} is not an e-mail address")
            );
        }
    }

    #[test]
    fn an_over_long_communication_value_is_a_problem() {
        let contact = BillingContact {
            mobile: Some("9".repeat(MAX_COMMUNICATION_VALUE_CHARS + 1)),
            ..contact()
        };
        let problems = desired_contact(&contact, 250, None, &communication_types()).unwrap_err();
        assert_eq!(problems[0].field, "mobile");
    }

    #[test]
    fn all_problems_of_a_contact_are_returned_at_once() {
        let contact = BillingContact {
            first_name: None,
            email: Some("nope".into()),
            ..contact()
        };
        let fields: Vec<String> = desired_contact(&contact, 250, None, &communication_types())
            .unwrap_err()
            .into_iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(fields, ["firstName", "email"]);
    }

    #[test]
    fn existing_items_are_edited_in_place_keeping_their_ids_and_types() {
        let current = sample();
        let contact = BillingContact {
            phone: Some("8130000000".into()),
            ..sample_contact()
        };
        let desired = desired_contact(&contact, 2, Some(&current), &communication_types()).unwrap();
        assert_eq!(
            items(&desired),
            json!([
                {"id": 2, "type": {"id": 2, "name": "Direct"}, "value": "8130000000", "extension": "401",
                 "defaultFlag": true, "communicationType": "Phone"},
                {"id": 3, "type": {"id": 1, "name": "Email"}, "value": "Arnie@YourCompany.com",
                 "defaultFlag": true, "communicationType": "Email", "domain": "@YourCompany.com"},
            ])
        );
    }

    #[test]
    fn a_kind_the_contact_lacks_is_added_once_and_never_twice() {
        let current = sample();
        let contact = BillingContact {
            mobile: Some("8135550199".into()),
            ..sample_contact()
        };
        let desired = desired_contact(&contact, 2, Some(&current), &communication_types()).unwrap();
        let merged = desired.communication_items.clone().unwrap();
        assert_eq!(merged.len(), 3);
        assert_eq!(
            serde_json::to_value(&merged[2]).unwrap(),
            json!({"type": {"id": 4, "name": "Cell"}, "value": "8135550199", "defaultFlag": false, "communicationType": "Phone"})
        );
        // Once ConnectWise has it, the next run edits that one.
        let after = echo_contact(&desired, 2);
        let again = desired_contact(&contact, 2, Some(&after), &communication_types()).unwrap();
        assert_eq!(again.communication_items.unwrap().len(), 3);
    }

    #[test]
    fn items_the_billing_system_does_not_know_are_kept_untouched() {
        let mut current = sample();
        let pager = ContactCommunicationItem {
            id: Some(9),
            kind: Some(Reference {
                name: Some("Pager".into()),
                ..Reference::id(8)
            }),
            value: Some("555-PAGE".into()),
            communication_type: Some("Pager".into()),
            ..ContactCommunicationItem::default()
        };
        let second_email = ContactCommunicationItem {
            id: Some(10),
            kind: Some(Reference {
                name: Some("Private Email".into()),
                ..Reference::id(12)
            }),
            value: Some("arnie@home.example".into()),
            default_flag: Some(false),
            communication_type: Some("Email".into()),
            ..ContactCommunicationItem::default()
        };
        let items = current.communication_items.as_mut().unwrap();
        items.push(pager.clone());
        items.push(second_email.clone());
        let contact = BillingContact {
            email: Some("arnie@new.example".into()),
            ..sample_contact()
        };
        let desired = desired_contact(&contact, 2, Some(&current), &communication_types()).unwrap();
        let merged = desired.communication_items.unwrap();
        assert_eq!(merged.len(), 4);
        // The default e-mail is the billing one; the private one and the pager stay as they were.
        assert_eq!(merged[1].id, Some(3));
        assert_eq!(merged[1].value.as_deref(), Some("arnie@new.example"));
        assert_eq!(merged[1].domain, None);
        assert_eq!(merged[2], pager);
        assert_eq!(merged[3], second_email);
    }

    #[test]
    fn an_item_already_holding_the_value_is_not_duplicated_into_another() {
        let mut current = sample();
        current
            .communication_items
            .as_mut()
            .unwrap()
            .push(ContactCommunicationItem {
                id: Some(10),
                kind: Some(Reference {
                    name: Some("Private Email".into()),
                    ..Reference::id(12)
                }),
                value: Some("arnie@home.example".into()),
                default_flag: Some(false),
                communication_type: Some("Email".into()),
                ..ContactCommunicationItem::default()
            });
        let contact = BillingContact {
            email: Some("Arnie@Home.example".into()),
            ..sample_contact()
        };
        let desired = desired_contact(&contact, 2, Some(&current), &communication_types()).unwrap();
        assert_eq!(desired.communication_items, current.communication_items);
        assert!(plan_contact_update(&current, &desired, &settings()).is_empty());
    }

    #[test]
    fn a_value_the_billing_system_lacks_leaves_connectwises_item_alone() {
        let current = sample();
        let contact = BillingContact {
            phone: None,
            email: None,
            ..sample_contact()
        };
        let desired = desired_contact(&contact, 2, Some(&current), &communication_types()).unwrap();
        assert_eq!(desired.communication_items, current.communication_items);
        assert!(plan_contact_update(&current, &desired, &settings()).is_empty());
    }

    #[test]
    fn an_unchanged_re_run_of_the_real_sample_writes_nothing() {
        let current = sample();
        let desired =
            desired_contact(&sample_contact(), 2, Some(&current), &communication_types()).unwrap();
        assert!(plan_contact_update(&current, &desired, &settings()).is_empty());
        // Also when the plan is given a desired contact built without the current one.
        let unmerged = desired_contact(&sample_contact(), 2, None, &communication_types()).unwrap();
        assert!(plan_contact_update(&current, &unmerged, &settings()).is_empty());
    }

    #[test]
    fn an_unchanged_re_run_after_the_create_writes_nothing() {
        let created = echo_contact(
            &desired_contact(&contact(), 250, None, &communication_types()).unwrap(),
            77,
        );
        let desired =
            desired_contact(&contact(), 250, Some(&created), &communication_types()).unwrap();
        assert!(plan_contact_update(&created, &desired, &settings()).is_empty());
    }

    #[test]
    fn a_changed_phone_replaces_the_merged_items_with_ids_kept() {
        let current = sample();
        let contact = BillingContact {
            phone: Some("8130000000".into()),
            ..sample_contact()
        };
        let expected_items = json!([
            {"id": 2, "type": {"id": 2, "name": "Direct"}, "value": "8130000000", "extension": "401",
             "defaultFlag": true, "communicationType": "Phone"},
            {"id": 3, "type": {"id": 1, "name": "Email"}, "value": "Arnie@YourCompany.com",
             "defaultFlag": true, "communicationType": "Email", "domain": "@YourCompany.com"},
        ]);
        for desired in [
            desired_contact(&contact, 2, Some(&current), &communication_types()).unwrap(),
            desired_contact(&contact, 2, None, &communication_types()).unwrap(),
        ] {
            assert_eq!(
                plan_contact_update(&current, &desired, &settings()),
                [PatchOp::replace(
                    "communicationItems",
                    expected_items.clone()
                )]
            );
        }
    }

    #[test]
    fn never_overwrite_and_owned_fields_of_contacts_are_left_alone() {
        let current = sample();
        let contact = BillingContact {
            phone: Some("8130000000".into()),
            title: Some("Partner".into()),
            last_name: Some("Bellini-Smith".into()),
            ..sample_contact()
        };
        let desired = desired_contact(&contact, 2, Some(&current), &communication_types()).unwrap();
        let mut settings = settings();
        settings.never_overwrite.contacts = vec!["communicationItems".into()];
        settings.owned_by_connectwise.contacts = vec!["title".into()];
        assert_eq!(
            plan_contact_update(&current, &desired, &settings),
            [PatchOp::replace("lastName", "Bellini-Smith")]
        );
    }

    #[test]
    fn an_email_differing_only_in_case_is_not_rewritten() {
        let current = sample();
        let contact = BillingContact {
            email: Some("ARNIE@yourcompany.COM".into()),
            ..sample_contact()
        };
        let desired = desired_contact(&contact, 2, Some(&current), &communication_types()).unwrap();
        assert!(plan_contact_update(&current, &desired, &settings()).is_empty());
    }

    #[test]
    fn a_mobile_item_is_recognised_by_its_type_name() {
        let item = |name: &str, ctype: Option<&str>| ContactCommunicationItem {
            kind: Some(Reference {
                name: Some(name.into()),
                ..Reference::id(40)
            }),
            communication_type: ctype.map(str::to_owned),
            ..ContactCommunicationItem::default()
        };
        assert_eq!(
            kind_of(&item("Cell", Some("Phone"))),
            Some(ItemKind::Mobile)
        );
        assert_eq!(
            kind_of(&item("Mobile Phone", Some("Phone"))),
            Some(ItemKind::Mobile)
        );
        assert_eq!(kind_of(&item("Home", Some("Phone"))), Some(ItemKind::Phone));
        assert_eq!(kind_of(&item("Fax", Some("Fax"))), Some(ItemKind::Fax));
        assert_eq!(kind_of(&item("Email", None)), Some(ItemKind::Email));
        assert_eq!(kind_of(&item("Cell", None)), Some(ItemKind::Mobile));
        assert_eq!(kind_of(&item("Pager", None)), None);
    }

    #[test]
    fn of_several_phones_the_direct_one_takes_the_office_number() {
        let phone = |id: i64, name: &str, default: bool| ContactCommunicationItem {
            id: Some(id),
            kind: Some(Reference {
                name: Some(name.into()),
                ..Reference::id(id)
            }),
            value: Some(format!("{id}")),
            default_flag: Some(default),
            communication_type: Some("Phone".into()),
            ..ContactCommunicationItem::default()
        };
        let items = [
            phone(20, "Home", true),
            phone(21, "Direct", false),
            phone(22, "Cell", false),
        ];
        assert_eq!(slot(&items, ItemKind::Phone), Some(1));
        assert_eq!(slot(&items, ItemKind::Mobile), Some(2));
        assert_eq!(slot(&items[..1], ItemKind::Phone), Some(0));
        assert_eq!(slot(&items, ItemKind::Fax), None);
    }

    fn existing(id: i64, first: &str, last: Option<&str>, email: Option<&str>) -> Contact {
        Contact {
            id: Some(id),
            first_name: Some(first.into()),
            last_name: last.map(str::to_owned),
            communication_items: email.map(|e| {
                vec![ContactCommunicationItem {
                    id: Some(id * 10),
                    kind: Some(Reference::id(1)),
                    value: Some(e.into()),
                    communication_type: Some("Email".into()),
                    ..ContactCommunicationItem::default()
                }]
            }),
            ..Contact::default()
        }
    }

    #[test]
    fn a_contact_with_the_same_email_matches_in_any_case() {
        let desired = desired_contact(&contact(), 250, None, &communication_types()).unwrap();
        let others = [
            existing(5, "Arnie", Some("Bellini"), Some("other@example.com")),
            existing(6, "A.", Some("B."), Some("ARNIE@YourCompany.example")),
        ];
        assert_eq!(match_contact(&desired, &others), Some(6));
    }

    #[test]
    fn without_an_email_match_the_same_first_and_last_name_matches() {
        let desired = desired_contact(&contact(), 250, None, &communication_types()).unwrap();
        let others = [
            existing(5, "Arnold", Some("Bellini"), None),
            existing(8, " arnie ", Some("BELLINI"), Some("old@example.com")),
            existing(7, "Arnie", Some("Bellini"), None),
        ];
        assert_eq!(match_contact(&desired, &others), Some(7));
    }

    #[test]
    fn a_missing_last_name_matches_only_a_missing_last_name() {
        let contact = BillingContact {
            last_name: None,
            email: None,
            ..contact()
        };
        let desired = desired_contact(&contact, 250, None, &communication_types()).unwrap();
        assert_eq!(
            match_contact(&desired, &[existing(5, "Arnie", Some("Bellini"), None)]),
            None
        );
        assert_eq!(
            match_contact(&desired, &[existing(6, "Arnie", None, None)]),
            Some(6)
        );
    }

    #[test]
    fn no_contact_matches_when_nothing_is_the_same() {
        let desired = desired_contact(&contact(), 250, None, &communication_types()).unwrap();
        let mut no_id = existing(5, "Arnie", Some("Bellini"), None);
        no_id.id = None;
        assert_eq!(
            match_contact(&desired, &[no_id, existing(6, "Bob", Some("Dobbs"), None)]),
            None
        );
    }

    prop_compose! {
        fn any_contact()(
            first in "[A-Za-z][A-Za-z' -]{0,20}",
            last in proptest::option::of("[A-Za-z][A-Za-z' -]{0,20}"),
            title in proptest::option::of("[A-Za-z][A-Za-z ,]{0,30}"),
            phone in proptest::option::of("[0-9+() -]{1,20}"),
            email in proptest::option::of("[a-z0-9.]{1,10}@[a-z]{1,10}\\.(com|example|org)"),
            mobile in proptest::option::of("[0-9]{6,15}"),
            fax in proptest::option::of("[0-9]{6,15}"),
        ) -> BillingContact {
            BillingContact { first_name: Some(first), last_name: last, title, phone, email, mobile, fax, ..contact() }
        }
    }

    proptest! {
        #[test]
        fn an_unchanged_contact_echoed_back_by_connectwise_always_plans_nothing(
            contact in any_contact(),
            id in 1i64..100_000,
        ) {
            let created = desired_contact(&contact, 250, None, &communication_types());
            prop_assert!(created.is_ok(), "{:?}", created);
            let current = echo_contact(&created.unwrap_or_default(), id);
            let merged = desired_contact(&contact, 250, Some(&current), &communication_types()).unwrap_or_default();
            prop_assert!(plan_contact_update(&current, &merged, &settings()).is_empty());
            let unmerged = desired_contact(&contact, 250, None, &communication_types()).unwrap_or_default();
            prop_assert!(plan_contact_update(&current, &unmerged, &settings()).is_empty());
        }

        #[test]
        fn merging_never_drops_an_item_nor_changes_an_id_nor_adds_a_second_of_a_kind(
            contact in any_contact(),
            id in 1i64..100_000,
            edited in any_contact(),
        ) {
            let current = echo_contact(&desired_contact(&contact, 250, None, &communication_types()).unwrap_or_default(), id);
            let before = current.communication_items.clone().unwrap_or_default();
            let desired = desired_contact(&edited, 250, Some(&current), &communication_types()).unwrap_or_default();
            let after = desired.communication_items.unwrap_or_default();
            prop_assert!(after.len() >= before.len());
            prop_assert!(after.len() <= 4);
            for (old, new) in before.iter().zip(&after) {
                prop_assert_eq!(old.id, new.id);
                prop_assert_eq!(&old.kind, &new.kind);
            }
            for kind in [ItemKind::Phone, ItemKind::Email, ItemKind::Mobile, ItemKind::Fax] {
                prop_assert!(after.iter().filter(|i| kind_of(i) == Some(kind)).count() <= 1);
            }
        }
    }
}
