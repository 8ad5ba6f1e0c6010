//! Everything a run says, captured, and searched for secrets: every log line (the Lambda JSON
//! subscriber, at `debug`), every error the functions answer, every run report and every metric
//! line. A secret must appear in none of it, whole or base64-encoded (the ConnectWise Basic
//! `Authorization` value — `base64(company+public:private)` — included).

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// A growing buffer of everything written to it.
#[derive(Debug, Clone, Default)]
pub struct Sink(Arc<Mutex<Vec<u8>>>);

impl Sink {
    /// Everything captured so far, as (lossy) text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }

    /// Appends `text` and a newline.
    pub fn push(&self, text: &str) {
        let mut buffer = self.0.lock().unwrap_or_else(|e| e.into_inner());
        buffer.extend_from_slice(text.as_bytes());
        buffer.push(b'\n');
    }

    /// Bytes captured so far.
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether nothing was captured.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Sink {
    type Writer = Sink;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Everything at `debug`, but the HTTP and AWS plumbing's own chatter (which never sees our
/// secrets in clear: it carries them only as the request headers it does not log).
const FILTER: &str = "debug,hyper=info,hyper_util=info,h2=info,rustls=info,tower=info,axum=info,\
                      reqwest=info,aws_smithy_runtime=info,aws_smithy_runtime_api=info,\
                      aws_smithy_http_client=info,aws_config=info,aws_sdk_dynamodb=info";

/// The process's log capture: the functions' own JSON subscriber (as in Lambda) at `debug`,
/// writing into one [`Sink`]; installed as the global subscriber on first use.
pub fn logs() -> &'static Sink {
    static LOGS: OnceLock<Sink> = OnceLock::new();
    LOGS.get_or_init(|| {
        let sink = Sink::default();
        let subscriber =
            cwsync_runtime::telemetry::json_subscriber(EnvFilter::new(FILTER), sink.clone());
        // Another subscriber already installed (a test binary's own) only means less is
        // captured; the scan still covers errors, reports and metrics.
        if tracing::subscriber::set_global_default(subscriber).is_err() {
            eprintln!("chaos: a global tracing subscriber was already set; logs are not captured");
        }
        sink
    })
}

/// A secret's forms to look for: itself and its base64 encodings (padded or not, standard and
/// URL-safe alphabets).
pub fn forms(secret: &str) -> Vec<String> {
    let bytes = secret.as_bytes();
    let mut forms = vec![secret.to_owned()];
    for engine in [STANDARD, URL_SAFE] {
        forms.push(engine.encode(bytes));
    }
    for engine in [STANDARD_NO_PAD, URL_SAFE_NO_PAD] {
        forms.push(engine.encode(bytes));
    }
    forms.sort();
    forms.dedup();
    forms
}

/// The ConnectWise `Authorization: Basic …` value of a member.
pub fn basic_auth(company: &str, public: &str, private: &str) -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{company}+{public}:{private}"))
    )
}

/// Where a secret was found: (the secret's name, the form found, a few characters around it).
pub fn leaks(text: &str, secrets: &[(String, String)]) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    for (name, secret) in secrets {
        for form in forms(secret) {
            if let Some(at) = text.find(&form) {
                let start = text.floor_char_boundary(at.saturating_sub(60));
                let end = text.ceil_char_boundary((at + form.len() + 20).min(text.len()));
                found.push((name.clone(), form, text[start..end].to_owned()));
            }
        }
    }
    found
}
