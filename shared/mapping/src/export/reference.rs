//! ConnectWise reference data the daily export resolves names against, read once per run:
//! product categories, subcategories, types and units of measure, agreement types, billing
//! cycles, locations and departments.
//!
//! Settings name these records by id or by name ([`CwRef`]); a name resolves to exactly one active
//! record (trimmed, any case), or it is a problem that says what is wrong: no such record, only an
//! inactive one, or several of that name.

use cwsync_connectwise::models::{
    AgreementType, Category, ProductType, Reference, SubCategory, UnitOfMeasure,
};

use crate::settings::{CwRef, same_name};

/// The reference data of one tenant's ConnectWise, as read at the start of an export run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportReference {
    /// `/procurement/categories`.
    pub categories: Vec<Category>,
    /// `/procurement/subcategories`, each with its category.
    pub subcategories: Vec<SubCategory>,
    /// `/procurement/types`.
    pub product_types: Vec<ProductType>,
    /// `/procurement/unitOfMeasures`.
    pub units_of_measure: Vec<UnitOfMeasure>,
    /// `/finance/agreements/types`.
    pub agreement_types: Vec<AgreementType>,
    /// `/finance/billingCycles`, read as references (`fields=id,identifier,name`).
    pub billing_cycles: Vec<Reference>,
    /// `/system/locations` as references (`fields=id,name`); empty when not read, and then a
    /// location given by id is sent as it is (ConnectWise checks it) and one given by name is a
    /// problem.
    pub locations: Vec<Reference>,
    /// `/system/departments` as references (`fields=id,identifier,name`); empty when not read
    /// (as for locations).
    pub departments: Vec<Reference>,
}

/// A ConnectWise record a name or id resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved<'r> {
    /// Its id.
    pub id: i64,
    /// Its name, when the reference data holds the record.
    pub name: Option<&'r str>,
}

/// One record as resolution sees it.
#[derive(Debug, Clone, Copy)]
struct Named<'r> {
    id: Option<i64>,
    name: Option<&'r str>,
    identifier: Option<&'r str>,
    inactive: bool,
}

impl<'r> Named<'r> {
    fn called(&self, name: &str) -> bool {
        [self.name, self.identifier]
            .iter()
            .any(|value| value.is_some_and(|value| same_name(value, name)))
    }
}

/// Resolves `wanted` among `records` (a `kind` such as "product category" for the message).
///
/// By id: the record with that id, which must be active; any id when no record was read. By
/// name or identifier: the one active record called so.
fn resolve<'r>(records: &[Named<'r>], wanted: &CwRef, kind: &str) -> Result<Resolved<'r>, String> {
    match wanted {
        CwRef::Id(id) => {
            if records.is_empty() {
                return Ok(Resolved {
                    id: *id,
                    name: None,
                });
            }
            match records.iter().find(|record| record.id == Some(*id)) {
                None => Err(format!("there is no ConnectWise {kind} #{id}")),
                Some(record) if record.inactive => {
                    Err(format!("ConnectWise {kind} #{id} is inactive"))
                }
                Some(record) => Ok(Resolved {
                    id: *id,
                    name: record.name.or(record.identifier),
                }),
            }
        }
        CwRef::Name(name) => {
            let called: Vec<&Named<'r>> = records
                .iter()
                .filter(|record| record.id.is_some() && record.called(name))
                .collect();
            let active: Vec<&&Named<'r>> = called.iter().filter(|r| !r.inactive).collect();
            match (active.as_slice(), called.is_empty()) {
                ([one], _) => Ok(Resolved {
                    id: one.id.unwrap_or_default(),
                    name: one.name.or(one.identifier),
                }),
                ([], true) => Err(format!("there is no ConnectWise {kind} called {name:?}")),
                ([], false) => Err(format!(
                    "the ConnectWise {kind} called {name:?} is inactive"
                )),
                (several, _) => Err(format!(
                    "{name:?} names several ConnectWise {kind} records ({}): name one by its id",
                    several
                        .iter()
                        .filter_map(|r| r.id)
                        .map(|id| format!("#{id}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
        }
    }
}

fn reference(reference: &Reference) -> Named<'_> {
    Named {
        id: reference.id,
        name: reference.name.as_deref(),
        identifier: reference.identifier.as_deref(),
        inactive: false,
    }
}

impl ExportReference {
    /// The product category `wanted` names.
    pub fn category(&self, wanted: &CwRef) -> Result<Resolved<'_>, String> {
        let records: Vec<Named<'_>> = self
            .categories
            .iter()
            .map(|c| Named {
                id: c.id,
                name: c.name.as_deref(),
                identifier: None,
                inactive: c.inactive_flag == Some(true),
            })
            .collect();
        resolve(&records, wanted, "product category")
    }

    /// The product subcategory `wanted` names among the subcategories of `category` (the same
    /// name is common under several categories). A subcategory read without its category counts
    /// as one of every category.
    pub fn subcategory(&self, wanted: &CwRef, category: i64) -> Result<Resolved<'_>, String> {
        let records: Vec<Named<'_>> = self
            .subcategories
            .iter()
            .filter(|s| {
                s.category
                    .as_ref()
                    .and_then(|c| c.id)
                    .is_none_or(|id| id == category)
            })
            .map(|s| Named {
                id: s.id,
                name: s.name.as_deref(),
                identifier: None,
                inactive: s.inactive_flag == Some(true),
            })
            .collect();
        let kind = format!("product subcategory of category #{category}");
        if records.is_empty() && !self.subcategories.is_empty() {
            return Err(format!("there is no ConnectWise {kind}"));
        }
        resolve(&records, wanted, &kind)
    }

    /// The product type `wanted` names.
    pub fn product_type(&self, wanted: &CwRef) -> Result<Resolved<'_>, String> {
        let records: Vec<Named<'_>> = self
            .product_types
            .iter()
            .map(|t| Named {
                id: t.id,
                name: t.name.as_deref(),
                identifier: None,
                inactive: t.inactive_flag == Some(true),
            })
            .collect();
        resolve(&records, wanted, "product type")
    }

    /// The unit of measure `wanted` names.
    pub fn unit_of_measure(&self, wanted: &CwRef) -> Result<Resolved<'_>, String> {
        let records: Vec<Named<'_>> = self
            .units_of_measure
            .iter()
            .map(|u| Named {
                id: u.id,
                name: u.name.as_deref(),
                identifier: None,
                inactive: u.inactive_flag == Some(true),
            })
            .collect();
        resolve(&records, wanted, "unit of measure")
    }

    /// The agreement type `wanted` names.
    pub fn agreement_type(&self, wanted: &CwRef) -> Result<Resolved<'_>, String> {
        let records: Vec<Named<'_>> = self
            .agreement_types
            .iter()
            .map(|t| Named {
                id: t.id,
                name: t.name.as_deref(),
                identifier: None,
                inactive: t.inactive_flag == Some(true),
            })
            .collect();
        resolve(&records, wanted, "agreement type")
    }

    /// The billing cycle `wanted` names (by name or identifier).
    pub fn billing_cycle(&self, wanted: &CwRef) -> Result<Resolved<'_>, String> {
        let records: Vec<Named<'_>> = self.billing_cycles.iter().map(reference).collect();
        resolve(&records, wanted, "billing cycle")
    }

    /// The location `wanted` names.
    pub fn location(&self, wanted: &CwRef) -> Result<Resolved<'_>, String> {
        let records: Vec<Named<'_>> = self.locations.iter().map(reference).collect();
        resolve(&records, wanted, "location")
    }

    /// The department `wanted` names (by name or identifier).
    pub fn department(&self, wanted: &CwRef) -> Result<Resolved<'_>, String> {
        let records: Vec<Named<'_>> = self.departments.iter().map(reference).collect();
        resolve(&records, wanted, "department")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::super::fixtures::reference;
    use super::*;

    #[test]
    fn a_name_resolves_to_its_active_record_trimmed_in_any_case() {
        let reference = reference();
        let found = reference.category(&CwRef::name(" cloud ")).unwrap();
        assert_eq!(
            found,
            Resolved {
                id: 1,
                name: Some("Cloud")
            }
        );
        assert_eq!(
            reference.unit_of_measure(&CwRef::name("EACH")).unwrap().id,
            1
        );
        assert_eq!(
            reference.billing_cycle(&CwRef::name("yearly")).unwrap().id,
            3
        );
        // Billing cycles and departments also answer to their identifier.
        assert_eq!(reference.billing_cycle(&CwRef::name("MO")).unwrap().id, 1);
    }

    #[test]
    fn an_id_resolves_to_the_record_with_its_name() {
        let reference = reference();
        let found = reference.agreement_type(&CwRef::Id(11)).unwrap();
        assert_eq!(found.name, Some("Microsoft NCE"));
        assert_eq!(
            reference.product_type(&CwRef::Id(99)).unwrap_err(),
            "there is no ConnectWise product type #99"
        );
    }

    #[test]
    fn an_unknown_inactive_or_ambiguous_name_is_a_problem_that_says_which() {
        let reference = reference();
        assert_eq!(
            reference.category(&CwRef::name("Hardware")).unwrap_err(),
            "there is no ConnectWise product category called \"Hardware\""
        );
        assert_eq!(
            reference.category(&CwRef::name("Legacy")).unwrap_err(),
            "the ConnectWise product category called \"Legacy\" is inactive"
        );
        assert_eq!(
            reference.category(&CwRef::Id(3)).unwrap_err(),
            "ConnectWise product category #3 is inactive"
        );
        assert_eq!(
            reference.unit_of_measure(&CwRef::name("Seat")).unwrap_err(),
            "\"Seat\" names several ConnectWise unit of measure records (#4, #5): name one by its id"
        );
    }

    #[test]
    fn a_subcategory_is_found_under_its_category() {
        let reference = reference();
        assert_eq!(
            reference
                .subcategory(&CwRef::name("Subscriptions"), 1)
                .unwrap()
                .id,
            10
        );
        assert_eq!(
            reference
                .subcategory(&CwRef::name("Subscriptions"), 2)
                .unwrap()
                .id,
            20
        );
        assert!(
            reference
                .subcategory(&CwRef::name("Licences"), 2)
                .unwrap_err()
                .contains("no ConnectWise product subcategory of category #2 called")
        );
    }

    #[test]
    fn records_not_read_take_an_id_as_it_is_but_no_name() {
        let reference = ExportReference::default();
        assert_eq!(
            reference.location(&CwRef::Id(7)).unwrap(),
            Resolved { id: 7, name: None }
        );
        assert!(reference.department(&CwRef::name("Sales")).is_err());
    }
}
