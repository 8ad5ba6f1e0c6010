//! Counters as CloudWatch Embedded Metric Format (EMF) lines on stdout, which Lambda ships to
//! CloudWatch Logs and CloudWatch turns into metrics (no API call, no extra latency).
//!
//! Jobs add to per-(job kind, tenant) counters during an invocation; [`Metrics::flush`] writes one
//! EMF line per job kind and tenant that saw any activity, once at the end of the invocation.
//! Dimensions are `function` + `job_kind` (and `function` alone, for alarms across job kinds);
//! the tenant is a property, not a dimension: every tenant as a dimension value would multiply the
//! number of metrics (and their cost) by the number of tenants. CloudWatch Logs Insights can still
//! break the lines down by tenant.
//!
//! The EMF encoding and its validation come from AWS's `metrique` crate (its `Emf` format); this
//! module only aggregates and decides when to write. It must never put a secret in a line: only
//! counts, the function, the job kind, the tenant id and the request id.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use metrique::emf::Emf;
use metrique::writer::format::Format;
use metrique::writer::unit::{Count, WithUnit};

/// Records handled successfully (created, updated, unchanged or skipped on purpose).
pub const RECORDS_PROCESSED: &str = "records_processed";
/// Records that failed (the error ledger holds why).
pub const RECORDS_FAILED: &str = "records_failed";
/// HTTP requests sent to ConnectWise, retries included.
pub const CONNECTWISE_CALLS: &str = "connectwise_calls";
/// ConnectWise answers of 429 (rate limited).
pub const CONNECTWISE_THROTTLES: &str = "connectwise_throttles";

/// One of the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// [`RECORDS_PROCESSED`].
    RecordsProcessed,
    /// [`RECORDS_FAILED`].
    RecordsFailed,
    /// [`CONNECTWISE_CALLS`].
    ConnectwiseCalls,
    /// [`CONNECTWISE_THROTTLES`].
    ConnectwiseThrottles,
}

impl Counter {
    fn index(self) -> usize {
        match self {
            Counter::RecordsProcessed => 0,
            Counter::RecordsFailed => 1,
            Counter::ConnectwiseCalls => 2,
            Counter::ConnectwiseThrottles => 3,
        }
    }

    /// The metric's name in CloudWatch.
    pub fn name(self) -> &'static str {
        match self {
            Counter::RecordsProcessed => RECORDS_PROCESSED,
            Counter::RecordsFailed => RECORDS_FAILED,
            Counter::ConnectwiseCalls => CONNECTWISE_CALLS,
            Counter::ConnectwiseThrottles => CONNECTWISE_THROTTLES,
        }
    }
}

#[derive(Debug, Default)]
struct Counts([AtomicU64; 4]);

impl Counts {
    /// Takes the counts since the last flush, leaving zeros.
    fn take(&self) -> [u64; 4] {
        [0, 1, 2, 3].map(|i| self.0[i].swap(0, Ordering::Relaxed))
    }
}

/// The counters of one job kind for one tenant. Cheap to clone; safe to share between tasks.
#[derive(Debug, Clone)]
pub struct JobMetrics {
    counts: Arc<Counts>,
}

impl JobMetrics {
    /// Adds `n` to `counter`.
    pub fn add(&self, counter: Counter, n: u64) {
        self.counts.0[counter.index()].fetch_add(n, Ordering::Relaxed);
    }

    /// Adds one to `counter`.
    pub fn increment(&self, counter: Counter) {
        self.add(counter, 1);
    }
}

/// A counter value with CloudWatch's `Count` unit.
type CountValue = WithUnit<u64, Count>;

// One EMF line. Strings are dimensions when a dimension set names them, properties otherwise.
#[derive(metrique::writer::Entry)]
struct JobEntry<'e> {
    #[entry(timestamp)]
    timestamp: SystemTime,
    function: &'e str,
    job_kind: &'e str,
    tenant: &'e str,
    request_id: Option<&'e str>,
    records_processed: CountValue,
    records_failed: CountValue,
    connectwise_calls: CountValue,
    connectwise_throttles: CountValue,
}

/// Writing metrics failed. Not retried: the counts since the last flush are lost, and an
/// invocation never fails because of it.
#[derive(Debug, thiserror::Error)]
#[error("could not write EMF metrics (the counts since the last flush are lost): {reason}")]
pub struct MetricsError {
    /// What failed: the formatter's or the writer's message, with the job kind when known.
    pub reason: String,
}

struct Inner {
    namespace: String,
    function: &'static str,
    emf: Mutex<Emf>,
    jobs: Mutex<BTreeMap<(String, String), Arc<Counts>>>,
}

/// The function's counters, shared by all its invocations (cheap to clone).
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics")
            .field("namespace", &self.inner.namespace)
            .field("function", &self.inner.function)
            .finish_non_exhaustive()
    }
}

impl Metrics {
    /// Counters of `function`, in the CloudWatch `namespace`.
    pub fn new(namespace: impl Into<String>, function: &'static str) -> Self {
        let namespace = namespace.into();
        let emf = Emf::all_validations(
            namespace.clone(),
            vec![
                vec!["function".to_owned(), "job_kind".to_owned()],
                vec!["function".to_owned()],
            ],
        );
        Self {
            inner: Arc::new(Inner {
                namespace,
                function,
                emf: Mutex::new(emf),
                jobs: Mutex::new(BTreeMap::new()),
            }),
        }
    }

    /// The namespace the metrics go to.
    pub fn namespace(&self) -> &str {
        &self.inner.namespace
    }

    /// The counters of `job_kind` (e.g. `export-account`) for `tenant`.
    pub fn job(&self, job_kind: &str, tenant: &str) -> JobMetrics {
        let mut jobs = lock(&self.inner.jobs);
        let counts = jobs
            .entry((job_kind.to_owned(), tenant.to_owned()))
            .or_default();
        JobMetrics {
            counts: Arc::clone(counts),
        }
    }

    /// Writes one EMF line per job kind and tenant with counts since the last flush, to `out`,
    /// stamped `timestamp`. Returns how many lines were written. Counts are reset even when
    /// writing fails: counting them twice would be worse than losing them.
    pub fn flush_to(
        &self,
        out: &mut impl Write,
        request_id: Option<&str>,
        timestamp: SystemTime,
    ) -> Result<usize, MetricsError> {
        let taken: Vec<((String, String), [u64; 4])> = {
            let mut jobs = lock(&self.inner.jobs);
            let taken = jobs
                .iter()
                .map(|(key, counts)| (key.clone(), counts.take()))
                .filter(|(_, counts)| counts.iter().any(|c| *c > 0))
                .collect();
            // Forget jobs nobody holds any more: their counts were just taken.
            jobs.retain(|_, counts| Arc::strong_count(counts) > 1);
            taken
        };
        let mut emf = lock(&self.inner.emf);
        let mut written = 0;
        for ((job_kind, tenant), [processed, failed, calls, throttles]) in &taken {
            let entry = JobEntry {
                timestamp,
                function: self.inner.function,
                job_kind,
                tenant,
                request_id,
                records_processed: (*processed).into(),
                records_failed: (*failed).into(),
                connectwise_calls: (*calls).into(),
                connectwise_throttles: (*throttles).into(),
            };
            emf.format(&entry, out).map_err(|e| MetricsError {
                reason: format!("job kind {job_kind}: {e}"),
            })?;
            written += 1;
        }
        out.flush().map_err(|e| MetricsError {
            reason: e.to_string(),
        })?;
        Ok(written)
    }

    /// Writes the counts since the last flush to stdout (see [`Metrics::flush_to`]); a failure is
    /// logged, never returned: losing metrics must not fail an invocation.
    pub fn flush(&self, request_id: Option<&str>) {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        if let Err(error) = self.flush_to(&mut out, request_id, SystemTime::now()) {
            tracing::warn!(%error, "metrics were not written");
        }
    }
}

// A poisoned lock means a panic elsewhere mid-update of plain counters; the data is still usable.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::time::Duration;

    fn lines(metrics: &Metrics, request_id: Option<&str>) -> Vec<Value> {
        let mut out = Vec::new();
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        metrics.flush_to(&mut out, request_id, at).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).expect("each line is one JSON object"))
            .collect()
    }

    #[test]
    fn a_flush_writes_one_valid_emf_line_per_job_kind_and_tenant() {
        let metrics = Metrics::new("cwsync-test", "daily-export");
        let acme = metrics.job("export-account", "acme");
        acme.add(Counter::RecordsProcessed, 40);
        acme.increment(Counter::RecordsFailed);
        acme.add(Counter::ConnectwiseCalls, 12);
        acme.increment(Counter::ConnectwiseThrottles);
        metrics
            .job("export-account", "globex")
            .add(Counter::RecordsProcessed, 2);

        let lines = lines(&metrics, Some("req-1"));
        assert_eq!(lines.len(), 2, "{lines:?}");
        let line = lines
            .iter()
            .find(|l| l["tenant"] == "acme")
            .expect("a line for acme");

        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "cwsync-test");
        assert_eq!(
            directive["Dimensions"],
            serde_json::json!([["function", "job_kind"], ["function"]])
        );
        let mut names: Vec<&str> = directive["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                assert_eq!(m["Unit"], "Count", "{m}");
                m["Name"].as_str().unwrap()
            })
            .collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "connectwise_calls",
                "connectwise_throttles",
                "records_failed",
                "records_processed"
            ]
        );
        assert_eq!(line["_aws"]["Timestamp"], 1_700_000_000_000_u64);
        assert_eq!(line["function"], "daily-export");
        assert_eq!(line["job_kind"], "export-account");
        assert_eq!(line["request_id"], "req-1");
        assert_eq!(line["records_processed"], 40);
        assert_eq!(line["records_failed"], 1);
        assert_eq!(line["connectwise_calls"], 12);
        assert_eq!(line["connectwise_throttles"], 1);
    }

    #[test]
    fn the_tenant_is_a_property_not_a_dimension() {
        let metrics = Metrics::new("cwsync", "customer-sync");
        metrics
            .job("sync-account", "acme")
            .increment(Counter::RecordsProcessed);
        let line = &lines(&metrics, None)[0];
        let dimensions = line["_aws"]["CloudWatchMetrics"][0]["Dimensions"].to_string();
        assert!(!dimensions.contains("tenant"), "{dimensions}");
        assert_eq!(line["tenant"], "acme");
        assert!(line.get("request_id").is_none_or(Value::is_null), "{line}");
    }

    #[test]
    fn counts_are_reset_by_a_flush_and_an_idle_job_writes_nothing() {
        let metrics = Metrics::new("cwsync", "ticket-import");
        let job = metrics.job("import-ticket", "acme");
        job.add(Counter::RecordsProcessed, 3);
        assert_eq!(lines(&metrics, None)[0]["records_processed"], 3);
        assert!(lines(&metrics, None).is_empty(), "nothing new to report");
        job.add(Counter::RecordsProcessed, 1);
        assert_eq!(lines(&metrics, None)[0]["records_processed"], 1);
    }

    struct Broken;

    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("stdout closed"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failing_writer_is_reported_and_its_counts_are_not_written_twice() {
        let metrics = Metrics::new("cwsync", "daily-export");
        metrics
            .job("export-account", "acme")
            .add(Counter::RecordsFailed, 2);
        let err = metrics
            .flush_to(&mut Broken, None, SystemTime::UNIX_EPOCH)
            .unwrap_err();
        assert!(err.to_string().contains("export-account"), "{err}");
        assert!(lines(&metrics, None).is_empty());
    }

    #[test]
    fn jobs_counted_from_many_tasks_add_up() {
        let metrics = Metrics::new("cwsync", "daily-export");
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    let job = metrics.job("export-account", "acme");
                    for _ in 0..1000 {
                        job.increment(Counter::ConnectwiseCalls);
                    }
                });
            }
        });
        assert_eq!(lines(&metrics, None)[0]["connectwise_calls"], 8000);
    }
}
