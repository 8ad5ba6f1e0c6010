//! Where the callback part of `ticket-import` meets the Lambda handler: a Function URL request
//! (a ConnectWise callback) goes to the [`CallbackReceiver`], the console action
//! `register-callbacks` to [`callbacks_admin`](crate::callbacks_admin); anything else is handed
//! back untouched for the ticket import's own events and jobs ([`Callbacks::route`]).

use std::sync::Arc;

use cwsync_runtime::Deps;
use cwsync_store::TenantId;
use cwsync_sync::report::{diagnostic, tenant_id, to_json};
use cwsync_sync::tenant::{ConnectOptions, Connections};
use lambda_runtime::Diagnostic;
use serde_json::Value;

use crate::callback::{CallbackReceiver, TicketChangeSink, is_function_url_request};
use crate::callback_keys::KeyError;
use crate::callbacks_admin::{CallbackUrl, register_callbacks};

/// The job kind the callback admin's ConnectWise calls are counted under.
const JOB_KIND: &str = "ticket-import";

cwsync_sync::console_event! {
/// The console events of the callback part.
#[derive(Eq)]
pub enum CallbackEvent {
    /// Make the tenant's ConnectWise hold exactly one active callback per type, pointing here.
    RegisterCallbacks {
        /// The tenant.
        tenant: String,
        /// Plan and report only; write nothing.
        #[serde(default)]
        dry_run: bool,
    },
}
}

/// What [`Callbacks::route`] did with a payload.
#[derive(Debug)]
pub enum Routed {
    /// It was a callback or a callback console event: the answer.
    Answer(Result<Value, Diagnostic>),
    /// Not ours: the payload, untouched.
    NotOurs(Value),
}

/// The callback receiver and the callback console action, over one function's dependencies.
#[derive(Debug)]
pub struct Callbacks {
    deps: Arc<Deps>,
    receiver: CallbackReceiver,
    connections: Connections<()>,
}

impl Callbacks {
    /// The callback part over `deps`, handing verified changes to `sink`; ConnectWise clients
    /// (for `register-callbacks`) built with `options`.
    pub fn new(
        deps: Arc<Deps>,
        sink: Arc<dyn TicketChangeSink>,
        options: ConnectOptions,
    ) -> Result<Self, KeyError> {
        Ok(Callbacks {
            receiver: CallbackReceiver::new(Arc::clone(&deps), sink)?,
            deps,
            connections: Connections::new(JOB_KIND, options),
        })
    }

    /// The same with another receiver (other options or keys).
    pub fn with_receiver(mut self, receiver: CallbackReceiver) -> Self {
        self.receiver = receiver;
        self
    }

    /// The receiver.
    pub fn receiver(&self) -> &CallbackReceiver {
        &self.receiver
    }

    /// Answers `payload` when it is a callback (the Function URL response) or a
    /// `register-callbacks` event; hands anything else back.
    pub async fn route(&self, payload: Value) -> Routed {
        if is_function_url_request(&payload) {
            return Routed::Answer(Ok(self.receiver.handle_payload(payload).await));
        }
        if payload.get("action").and_then(Value::as_str) != Some("register-callbacks") {
            return Routed::NotOurs(payload);
        }
        let answer = match serde_json::from_value::<CallbackEvent>(payload) {
            Ok(CallbackEvent::RegisterCallbacks { tenant, dry_run }) => {
                self.register(&tenant, dry_run).await
            }
            Err(error) => Err(diagnostic(
                "InvalidEvent",
                format!("register-callbacks: {error}"),
            )),
        };
        Routed::Answer(answer)
    }

    /// `register-callbacks`: the tenant's callbacks registered and repaired (see
    /// [`crate::callbacks_admin`]); the report as JSON.
    pub async fn register(&self, tenant: &str, dry_run: bool) -> Result<Value, Diagnostic> {
        let tenant: TenantId = tenant_id(tenant)?;
        let function_url = self.deps.config.callback_url.as_deref().ok_or_else(|| {
            diagnostic(
                "NotConfigured",
                "CALLBACK_URL is not set: set the stack parameter CallbackUrl to the stack's \
                 TicketImportCallbackUrl output (or the domain in front of it) and deploy again",
            )
        })?;
        let credentials = self
            .deps
            .secrets
            .credentials(tenant.as_str())
            .await
            .map_err(|error| diagnostic("TenantError", error))?;
        let url = CallbackUrl::for_tenant(function_url, &tenant, credentials.callback_secret)
            .map_err(|error| diagnostic("NotConfigured", error))?;
        let clients = self
            .connections
            .clients(&self.deps, &tenant)
            .await
            .map_err(|error| diagnostic("TenantError", error))?;
        let report = register_callbacks(&clients.cw, &tenant, &url, dry_run)
            .await
            .map_err(|error| diagnostic("ConnectWiseError", format!("tenant {tenant}: {error}")))?;
        to_json(&report)
    }
}
