//! A billing value → the ConnectWise record it stands for, through the tenant's mappings and
//! defaults: a value the billing record gives goes through its mapping, and one with no entry is
//! a problem naming the value and the setting to add (never a guess); a value the record doesn't
//! give takes the tenant's default. The chosen reference is then resolved against the
//! reference data, and a reference that names no usable record is a problem naming the setting.

use std::collections::BTreeMap;

use super::reference::Resolved;
use crate::fields::{Problems, present};
use crate::settings::{CwRef, same_name};

/// How one billing field maps: its contract name, the mapping that translates its values, and the
/// default for a record without a value.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lookup<'s> {
    /// The billing field (`billingFrequency`), as problems name it.
    pub(super) field: &'s str,
    /// The mapping's settings name under `mappings.` (`billingFrequencies`).
    pub(super) mapping_name: &'s str,
    /// The mapping.
    pub(super) mapping: &'s BTreeMap<String, CwRef>,
    /// The default's settings path (`agreementDefaults.billingCycle`) and value, if set.
    pub(super) default: (&'s str, Option<&'s CwRef>),
}

impl<'s> Lookup<'s> {
    /// The reference for `value`, with the setting it came from; a problem when an unmapped value
    /// is given or no value and no default.
    fn choose(&self, value: Option<&str>) -> Result<(&'s CwRef, String), String> {
        match present(value) {
            Some(value) => self
                .mapping
                .iter()
                .find(|(key, _)| same_name(key, value))
                .map(|(key, wanted)| {
                    (
                        wanted,
                        format!("mappings.{}[{key:?}] {wanted}", self.mapping_name),
                    )
                })
                .ok_or_else(|| {
                    format!(
                        "{} {value:?} has no mapping: add it to mappings.{}",
                        self.field, self.mapping_name
                    )
                }),
            None => match self.default {
                (path, Some(wanted)) => Ok((wanted, format!("{path} {wanted}"))),
                (path, None) => Err(format!(
                    "no {} given and {path} is not set: set it, or give the record one",
                    self.field
                )),
            },
        }
    }

    /// The ConnectWise record `value` stands for, resolved by `resolve`; every problem is pushed
    /// on `problems` under the billing field.
    pub(super) fn resolve<'r>(
        &self,
        value: Option<&str>,
        problems: &mut Problems,
        resolve: impl FnOnce(&CwRef) -> Result<Resolved<'r>, String>,
    ) -> Option<Resolved<'r>> {
        let found = self
            .choose(value)
            .and_then(|(wanted, source)| resolve(wanted).map_err(|why| format!("{source}: {why}")));
        match found {
            Ok(found) => Some(found),
            Err(problem) => {
                problems.push(self.field, problem);
                None
            }
        }
    }
}

/// Resolves a setting that is always used as it is (a default category), pushing a problem on
/// `field` that names the setting when it names no usable record.
pub(super) fn resolve_setting<'r>(
    problems: &mut Problems,
    field: &str,
    path: &str,
    wanted: &CwRef,
    resolve: impl FnOnce(&CwRef) -> Result<Resolved<'r>, String>,
) -> Option<Resolved<'r>> {
    match resolve(wanted) {
        Ok(found) => Some(found),
        Err(why) => {
            problems.push(field, format!("{path} {wanted}: {why}"));
            None
        }
    }
}
