//! Shared simulator state: the facts, the options, the record store and knobs behind one mutex (never held
//! across an await), the cached response validators and the callback delivery queue.
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;
use serde_json::Value;

use crate::callbacks::{CallbackJob, DeliveryLog};
use crate::facts::Facts;
use crate::knobs::{CallStats, Knobs};
use crate::store::Store;
use crate::{ApiMember, SimOptions};

/// A response body that did not match the facts schema of its endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaViolation {
    pub method: String,
    /// Endpoint template, e.g. `/company/companies/{id}`.
    pub endpoint: String,
    pub schema: String,
    pub message: String,
}

/// An uploaded document's bytes and the record it is attached to.
#[derive(Debug, Clone)]
pub struct StoredDocument {
    pub record_type: String,
    pub record_id: i64,
    pub file_name: String,
    pub content_type: String,
    pub bytes: bytes::Bytes,
}

/// Mutable simulator state.
#[derive(Debug, Default)]
pub struct Inner {
    pub store: Store,
    pub documents: BTreeMap<i64, StoredDocument>,
    pub calls: CallStats,
    pub knobs: Knobs,
    pub violations: Vec<SchemaViolation>,
    pub request_seq: u64,
}

pub struct SimState {
    pub facts: Facts,
    pub options: SimOptions,
    /// `http://127.0.0.1:PORT`
    pub base_url: String,
    /// `http://127.0.0.1:PORT/v2026_4/apis/3.0`
    pub api_base: String,
    inner: Mutex<Inner>,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
    pub callback_tx: tokio::sync::mpsc::UnboundedSender<CallbackJob>,
    pub deliveries: Arc<DeliveryLog>,
}

impl std::fmt::Debug for SimState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimState")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl SimState {
    pub fn new(
        facts: Facts,
        options: SimOptions,
        base_url: String,
        callback_tx: tokio::sync::mpsc::UnboundedSender<CallbackJob>,
        deliveries: Arc<DeliveryLog>,
    ) -> SimState {
        let api_base = format!("{base_url}/{}apis/3.0", options.codebase);
        SimState {
            facts,
            options,
            base_url,
            api_base,
            inner: Mutex::new(Inner::default()),
            validators: Mutex::new(HashMap::new()),
            callback_tx,
            deliveries,
        }
    }

    /// Locks the mutable state; a poisoned lock is recovered (a panicking test must not wedge the server).
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Finds the API member for Basic credentials `company+public:private`.
    pub fn member(&self, company: &str, public: &str, private: &str) -> Option<&ApiMember> {
        self.options.members.iter().find(|m| {
            m.company_id.eq_ignore_ascii_case(company)
                && m.public_key == public
                && m.private_key == private
        })
    }

    /// Validates a JSON response body against `schema` (an array of it when `array`). Err = the violation.
    pub fn check_response(&self, schema: &str, array: bool, body: &Value) -> Result<(), String> {
        let key = format!("{schema}|{array}");
        let validator = {
            let mut cache = self.validators.lock().unwrap_or_else(|e| e.into_inner());
            match cache.get(&key) {
                Some(v) => v.clone(),
                None => {
                    let doc = self.facts.validator_document(schema, array);
                    let built = jsonschema::options()
                        .should_validate_formats(true)
                        .build(&doc)
                        .map_err(|e| format!("cannot build a validator for {schema}: {e}"))?;
                    let v = Arc::new(built);
                    cache.insert(key, v.clone());
                    v
                }
            }
        };
        let problems: Vec<String> = validator
            .iter_errors(body)
            .take(5)
            .map(|e| format!("at '{}': {}", e.instance_path(), e))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }
}
