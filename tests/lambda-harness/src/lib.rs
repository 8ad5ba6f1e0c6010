//! A stand-in for the Lambda Runtime API (`/2018-06-01/runtime/...`), so tests can start a real
//! function binary exactly as Lambda does (it polls `invocation/next`, then posts a response or an
//! error) and read what it answered: one event per call, the binary killed afterwards
//! ([`invoke_binary`]), or one warm instance answering events in turn, whose memory can be read
//! ([`Instance`]). It also times a binary's cold start ([`time_to_first_poll`]) for the benches.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, mpsc};

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The function answered with this body.
    Response(Value),
    /// The function reported an invocation error (`errorType`, `errorMessage`).
    Error(Value),
    /// The function failed to initialise.
    InitError(Value),
    /// The process exited before answering (e.g. a missing configuration variable), with its exit
    /// code and what it wrote to stderr.
    Exited {
        /// The exit code, if it exited rather than being killed by a signal.
        code: Option<i32>,
        /// Everything it wrote to stderr.
        stderr: String,
    },
}

/// Why an invocation could not be observed.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("could not bind the runtime API stand-in: {0}")]
    Bind(std::io::Error),
    #[error("could not start {binary}: {source}")]
    Spawn {
        binary: String,
        source: std::io::Error,
    },
    #[error("{binary} gave no answer within {waited:?}")]
    NoAnswer { binary: String, waited: Duration },
    #[error("{binary} exited (code {code:?}) before it asked for an event")]
    ExitedBeforePolling { binary: String, code: Option<i32> },
}

const REQUEST_ID: &str = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";

#[derive(Debug)]
struct Shared {
    /// The events still to hand out, in order; `next` waits for one (Lambda's long poll).
    events: Mutex<mpsc::Receiver<Value>>,
    outcomes: mpsc::Sender<Outcome>,
    /// Invocations handed out so far (each gets its own request id).
    handed_out: AtomicU64,
}

/// The runtime API stand-in on a loopback port of its own: where it listens, its server task, the
/// events it will hand out in order, and the outcomes the binary posts.
struct RuntimeApi {
    addr: SocketAddr,
    server: tokio::task::JoinHandle<()>,
    events: mpsc::Sender<Value>,
    outcomes: mpsc::Receiver<Outcome>,
}

async fn serve_runtime_api() -> Result<RuntimeApi, HarnessError> {
    let (outcomes_tx, outcomes) = mpsc::channel(4);
    let (events, queued) = mpsc::channel(1);
    let shared = Arc::new(Shared {
        events: Mutex::new(queued),
        outcomes: outcomes_tx,
        handed_out: AtomicU64::new(0),
    });
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(invocation_response),
        )
        .route(
            "/2018-06-01/runtime/invocation/{id}/error",
            post(invocation_error),
        )
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(shared);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(HarnessError::Bind)?;
    let addr = listener.local_addr().map_err(HarnessError::Bind)?;
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(RuntimeApi {
        addr,
        server,
        events,
        outcomes,
    })
}

/// The configuration variables cwsync functions read (see `cwsync_runtime::config`). The harness
/// removes them from the inherited environment so a developer's shell cannot change a result.
pub const CONFIG_VARIABLES: [&str; 7] = [
    "TABLE_NAME",
    "EXPORT_QUEUE_URL",
    "CUSTOMER_QUEUE_URL",
    "TICKET_QUEUE_URL",
    "TENANT_SECRET_PREFIX",
    "SECRET_CACHE_TTL_SECONDS",
    "METRICS_NAMESPACE",
];

/// A complete configuration for any cwsync function. Nothing listens at these addresses: start-up
/// and the health event make no AWS call, so they are never used.
pub const FUNCTION_ENV: [(&str, &str); 4] = [
    ("TABLE_NAME", "cwsync-harness"),
    (
        "EXPORT_QUEUE_URL",
        "http://127.0.0.1:9/000000000000/cwsync-export",
    ),
    (
        "CUSTOMER_QUEUE_URL",
        "http://127.0.0.1:9/000000000000/cwsync-customers",
    ),
    (
        "TICKET_QUEUE_URL",
        "http://127.0.0.1:9/000000000000/cwsync-tickets",
    ),
];

/// Runs `binary` under the stand-in runtime API with one `event` and [`FUNCTION_ENV`], and returns
/// what it answered. `wait` bounds how long to wait for the answer (start-up included).
pub async fn invoke_binary(
    binary: &str,
    function_name: &str,
    event: Value,
    wait: Duration,
) -> Result<Outcome, HarnessError> {
    invoke_binary_with_env(binary, function_name, event, wait, &FUNCTION_ENV).await
}

/// [`invoke_binary`] with exactly the configuration variables in `env` (the others of
/// [`CONFIG_VARIABLES`] are removed).
pub async fn invoke_binary_with_env(
    binary: &str,
    function_name: &str,
    event: Value,
    wait: Duration,
    env: &[(&str, &str)],
) -> Result<Outcome, HarnessError> {
    let RuntimeApi {
        addr,
        server,
        events,
        outcomes: mut rx,
    } = serve_runtime_api().await?;
    // The one event; the sender goes, so `next` then waits for ever, as Lambda's does.
    let _ = events.try_send(event);
    drop(events);

    let mut child = lambda_command(binary, function_name, addr, env)
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| HarnessError::Spawn {
            binary: binary.to_owned(),
            source,
        })?;
    // Drained all along (a full pipe would block the binary) and passed on to the test's stderr.
    let stderr = child.stderr.take().map(|mut pipe| {
        tokio::spawn(async move {
            let mut text = Vec::new();
            let _ = tokio::io::AsyncReadExt::read_to_end(&mut pipe, &mut text).await;
            let text = String::from_utf8_lossy(&text).into_owned();
            eprint!("{text}");
            text
        })
    });

    let outcome = tokio::time::timeout(wait, async {
        tokio::select! {
            biased;
            outcome = rx.recv() => outcome,
            status = child.wait() => {
                let stderr = match stderr {
                    Some(task) => task.await.unwrap_or_default(),
                    None => String::new(),
                };
                Some(Outcome::Exited {
                    code: status.ok().and_then(|s| s.code()),
                    stderr,
                })
            }
        }
    })
    .await;
    let _ = child.kill().await;
    server.abort();
    match outcome {
        Ok(Some(outcome)) => Ok(outcome),
        _ => Err(HarnessError::NoAnswer {
            binary: binary.to_owned(),
            waited: wait,
        }),
    }
}

/// One warm instance of a function binary under the stand-in, as Lambda keeps one between
/// invocations: started once ([`Instance::start`]), it answers events one at a time
/// ([`Instance::invoke`]), and its memory can be read between them ([`Instance::memory`]). Its
/// output (the function's log lines) goes to `log` or nowhere; the process is killed when the
/// instance is dropped.
#[derive(Debug)]
pub struct Instance {
    binary: String,
    child: tokio::process::Child,
    events: mpsc::Sender<Value>,
    outcomes: mpsc::Receiver<Outcome>,
    server: tokio::task::JoinHandle<()>,
}

/// What an [`Instance`]'s process holds in memory (`/proc/<pid>/status`), in KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    /// Resident now (`VmRSS`).
    pub rss_kib: u64,
    /// The peak resident set since the process started (`VmHWM`).
    pub peak_kib: u64,
}

impl Instance {
    /// Starts `binary` as Lambda does (see [`invoke_binary_with_env`]: exactly the configuration
    /// variables in `env`), its stdout and stderr appended to `log` when given.
    pub async fn start(
        binary: &str,
        function_name: &str,
        env: &[(&str, &str)],
        log: Option<&std::path::Path>,
    ) -> Result<Self, HarnessError> {
        let RuntimeApi {
            addr,
            server,
            events,
            outcomes,
        } = serve_runtime_api().await?;
        let spawn_error = |source| HarnessError::Spawn {
            binary: binary.to_owned(),
            source,
        };
        let (stdout, stderr) = match log {
            Some(path) => {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(spawn_error)?;
                let copy = file.try_clone().map_err(spawn_error)?;
                (
                    std::process::Stdio::from(file),
                    std::process::Stdio::from(copy),
                )
            }
            None => (std::process::Stdio::null(), std::process::Stdio::null()),
        };
        let child = lambda_command(binary, function_name, addr, env)
            .stdout(stdout)
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .map_err(spawn_error)?;
        Ok(Self {
            binary: binary.to_owned(),
            child,
            events,
            outcomes,
            server,
        })
    }

    /// Hands `event` to the instance and waits up to `wait` for its answer; the process exiting
    /// first gives [`Outcome::Exited`] (its stderr is in the log, not in the outcome).
    pub async fn invoke(&mut self, event: Value, wait: Duration) -> Result<Outcome, HarnessError> {
        let no_answer = || HarnessError::NoAnswer {
            binary: self.binary.clone(),
            waited: wait,
        };
        if self.events.send(event).await.is_err() {
            return Err(no_answer());
        }
        let outcome = tokio::time::timeout(wait, async {
            tokio::select! {
                biased;
                outcome = self.outcomes.recv() => outcome,
                status = self.child.wait() => Some(Outcome::Exited {
                    code: status.ok().and_then(|s| s.code()),
                    stderr: String::new(),
                }),
            }
        })
        .await;
        match outcome {
            Ok(Some(outcome)) => Ok(outcome),
            _ => Err(no_answer()),
        }
    }

    /// The process's memory now, from `/proc/<pid>/status`; `None` once it has exited or where
    /// there is no `/proc`.
    pub fn memory(&self) -> Option<Memory> {
        let pid = self.child.id()?.to_string();
        Some(Memory {
            rss_kib: proc_status_kib(&pid, "VmRSS")?,
            peak_kib: proc_status_kib(&pid, "VmHWM")?,
        })
    }
}

/// A size field (`VmRSS`, `VmHWM`, …) of `/proc/<process>/status` in KiB; `process` is a pid
/// or `self`. `None` when the process or the field is not there (or there is no `/proc`).
pub fn proc_status_kib(process: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{process}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        self.server.abort();
    }
}

/// The command that starts `binary` as Lambda does: the runtime API at `runtime_api`, the
/// function's name and the `AWS_LAMBDA_*` variables, `env` and none of the other
/// [`CONFIG_VARIABLES`].
fn lambda_command(
    binary: &str,
    function_name: &str,
    runtime_api: SocketAddr,
    env: &[(&str, &str)],
) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(binary);
    for variable in CONFIG_VARIABLES {
        command.env_remove(variable);
    }
    command
        .envs(env.iter().copied())
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", function_name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test-stream")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "test-group")
        .env("AWS_REGION", "us-east-1");
    command
}

/// How long `binary` takes from its spawn to its first `GET /2018-06-01/runtime/invocation/next`
/// (its cold start: process start, configuration, dependencies, then the runtime's first poll),
/// started as [`invoke_binary_with_env`] starts it. The time is taken by the stand-in when the
/// request arrives; the poll is never answered, and the binary is killed. `wait` bounds the wait.
pub async fn time_to_first_poll(
    binary: &str,
    function_name: &str,
    env: &[(&str, &str)],
    wait: Duration,
) -> Result<Duration, HarnessError> {
    let (tx, mut rx) = mpsc::channel::<Instant>(1);
    let app = Router::new().route(
        "/2018-06-01/runtime/invocation/next",
        get(move || {
            let arrived = Instant::now();
            let tx = tx.clone();
            async move {
                let _ = tx.try_send(arrived);
                // Lambda's `next` long-polls: no event is ever handed out.
                std::future::pending::<()>().await;
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(HarnessError::Bind)?;
    let addr = listener.local_addr().map_err(HarnessError::Bind)?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let mut command = lambda_command(binary, function_name, addr, env);
    command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    let spawned = Instant::now();
    let mut child = command.spawn().map_err(|source| HarnessError::Spawn {
        binary: binary.to_owned(),
        source,
    })?;
    let arrived = tokio::time::timeout(wait, async {
        tokio::select! {
            biased;
            arrived = rx.recv() => arrived.ok_or(None),
            status = child.wait() => Err(status.ok().and_then(|s| s.code())),
        }
    })
    .await;
    let _ = child.kill().await;
    server.abort();
    match arrived {
        Ok(Ok(arrived)) => Ok(arrived.saturating_duration_since(spawned)),
        Ok(Err(code)) => Err(HarnessError::ExitedBeforePolling {
            binary: binary.to_owned(),
            code,
        }),
        Err(_) => Err(HarnessError::NoAnswer {
            binary: binary.to_owned(),
            waited: wait,
        }),
    }
}

async fn next_invocation(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    let event = shared.events.lock().await.recv().await;
    let Some(event) = event else {
        // Lambda's `next` long-polls; when no event will come there is nothing to hand out.
        std::future::pending::<()>().await;
        return (StatusCode::NO_CONTENT, HeaderMap::new(), String::new());
    };
    let n = shared.handed_out.fetch_add(1, Ordering::Relaxed);
    // The first invocation has the fixed id; later ones a distinct id of the same shape.
    let id = if n == 0 {
        REQUEST_ID.to_owned()
    } else {
        format!("{}{n:012x}", &REQUEST_ID[..24])
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        "lambda-runtime-aws-request-id",
        HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static(REQUEST_ID)),
    );
    headers.insert(
        "lambda-runtime-deadline-ms",
        HeaderValue::from_static("4102444800000"),
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        HeaderValue::from_static("arn:aws:lambda:us-east-1:123456789012:function:test"),
    );
    headers.insert(
        "lambda-runtime-trace-id",
        HeaderValue::from_static(
            "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
        ),
    );
    (StatusCode::OK, headers, event.to_string())
}

async fn record(shared: &Shared, outcome: Outcome) -> StatusCode {
    let _ = shared.outcomes.send(outcome).await;
    StatusCode::ACCEPTED
}

fn parse(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_owned()))
}

async fn invocation_response(
    State(shared): State<Arc<Shared>>,
    Path(_id): Path<String>,
    body: String,
) -> StatusCode {
    record(&shared, Outcome::Response(parse(&body))).await
}

async fn invocation_error(
    State(shared): State<Arc<Shared>>,
    Path(_id): Path<String>,
    body: String,
) -> StatusCode {
    record(&shared, Outcome::Error(parse(&body))).await
}

async fn init_error(State(shared): State<Arc<Shared>>, body: String) -> StatusCode {
    record(&shared, Outcome::InitError(parse(&body))).await
}

/// How long a binary may take to start and answer one event. A bound, not a race: a healthy binary
/// answers in milliseconds.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(30);

/// Checks the contract every cwsync function keeps under the Lambda runtime: a health event is
/// answered with `{"function": <name>, "status": "ok"}`, an unknown action becomes an
/// `InvalidEvent` invocation error naming the action, and without `TABLE_NAME` the binary stops
/// at start-up naming the variable. Returns a description of the first breach.
pub async fn check_function_contract(binary: &str, function_name: &str) -> Result<(), String> {
    let health = invoke_binary(
        binary,
        function_name,
        serde_json::json!({"action": "health"}),
        DEFAULT_WAIT,
    )
    .await
    .map_err(|e| e.to_string())?;
    match &health {
        Outcome::Response(body) if body["function"] == function_name && body["status"] == "ok" => {}
        other => return Err(format!("health event: unexpected outcome {other:?}")),
    }
    let refused = invoke_binary(
        binary,
        function_name,
        serde_json::json!({"action": "no-such-action"}),
        DEFAULT_WAIT,
    )
    .await
    .map_err(|e| e.to_string())?;
    match &refused {
        Outcome::Error(body)
            if body["errorType"] == "InvalidEvent"
                && body["errorMessage"]
                    .as_str()
                    .is_some_and(|m| m.contains("no-such-action")) => {}
        other => return Err(format!("unknown action: unexpected outcome {other:?}")),
    }
    let unconfigured = invoke_binary_with_env(
        binary,
        function_name,
        serde_json::json!({"action": "health"}),
        DEFAULT_WAIT,
        &[],
    )
    .await
    .map_err(|e| e.to_string())?;
    match &unconfigured {
        Outcome::Exited { code, stderr } if *code != Some(0) && stderr.contains("TABLE_NAME") => {
            Ok(())
        }
        other => Err(format!(
            "without TABLE_NAME: expected an exit naming it, got {other:?}"
        )),
    }
}
