//! moto_server for tests: real AWS SDK clients, real HTTP, no AWS account.
//!
//! [`moto`] finds a running moto (`MOTO_ENDPOINT`, which `.ci/test` sets after starting one) or
//! starts one per test process on a free loopback port (`moto_atomic_server.py` under the repo's
//! `.venv` or `python3`, or `CWSYNC_MOTO_SERVER`), stopped when the process exits. Without moto, tests are skipped with a loud
//! message — except under `CI=true`, where a missing moto fails the test.
//!
//! Tests share one moto per process: every test names its own table, queue and secrets with
//! [`unique_name`], so tests never see each other's data.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A moto_server the tests can use.
#[derive(Debug)]
pub struct Moto {
    endpoint: String,
    // Keeps the watchdog shell alive; when the test process exits this pipe closes and the
    // watchdog stops moto (statics are never dropped, so no Drop impl could do it).
    _watchdog: Option<Mutex<(Child, ChildStdin)>>,
}

impl Moto {
    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// SDK configuration pointed at this moto, with test credentials and `us-east-1`.
    pub async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
            .load()
            .await
    }

    /// Clears every resource moto holds (`POST /moto-api/reset`). Only for tests that own the
    /// whole moto, which none of ours do; kept for debugging sessions.
    pub fn reset(&self) -> Result<(), String> {
        http_request(&self.endpoint, "POST", "/moto-api/reset").map(|_| ())
    }
}

static MOTO: OnceLock<Option<Moto>> = OnceLock::new();

/// The process's moto, started on first use; `None` (after a loud message) when moto is not
/// installed outside CI. Panics under `CI=true` when moto can't be had: CI must run these tests.
#[allow(
    clippy::panic,
    reason = "test support: failing the calling test is the point when CI lacks moto"
)]
pub fn moto() -> Option<&'static Moto> {
    let moto = MOTO.get_or_init(find_or_start).as_ref();
    if moto.is_none() {
        let message = "moto_server is not available: install it with `bash .ci/test` (which creates .venv) \
                       or `pip install 'moto[server]==5.2.5'`, or set MOTO_ENDPOINT";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{message}; under CI=true the AWS tests must run");
        }
        eprintln!("SKIPPED (AWS test): {message}");
    }
    moto
}

/// A name no other test in any process will use: `prefix-<pid>-<nanos>-<n>`.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn find_or_start() -> Option<Moto> {
    if let Ok(endpoint) = std::env::var("MOTO_ENDPOINT") {
        let endpoint = endpoint.trim_end_matches('/').to_owned();
        return wait_ready(&endpoint, Duration::from_secs(30)).then_some(Moto {
            endpoint,
            _watchdog: None,
        });
    }
    let command = moto_command()?;
    for _ in 0..3 {
        if let Some(moto) = start(&command) {
            return Some(moto);
        }
    }
    None
}

/// How to start moto: `CWSYNC_MOTO_SERVER` (a moto_server binary) if set, otherwise our wrapper
/// `moto_atomic_server.py` under the first Python that has moto (the repo's `.venv`, then
/// `python3`). The wrapper applies DynamoDB requests one at a time, as DynamoDB applies each
/// conditional write atomically; stock moto races them, which would make claim races flaky.
fn moto_command() -> Option<Vec<String>> {
    if let Ok(path) = std::env::var("CWSYNC_MOTO_SERVER") {
        return Some(vec![path]);
    }
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let script = here.join("moto_atomic_server.py");
    let venv_python = here.join("../../.venv/bin/python");
    let candidates = [
        venv_python.to_string_lossy().into_owned(),
        "python3".to_owned(),
    ];
    candidates.into_iter().find_map(|python| {
        let has_moto = Command::new(&python)
            .args(["-c", "import moto.moto_server.werkzeug_app, werkzeug"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        has_moto.then(|| vec![python, script.to_string_lossy().into_owned()])
    })
}

fn start(command: &[String]) -> Option<Moto> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .ok()?
        .port();
    // The shell stops moto when its stdin (our pipe) closes, i.e. when this process ends.
    let script = r#"port="$1"; shift
"$@" -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
read -r _ || true"#;
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("moto-watchdog")
        .arg(port.to_string())
        .args(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let stdin = child.stdin.take()?;
    let endpoint = format!("http://127.0.0.1:{port}");
    if wait_ready(&endpoint, Duration::from_secs(60)) {
        Some(Moto {
            endpoint,
            _watchdog: Some(Mutex::new((child, stdin))),
        })
    } else {
        let _ = child.kill();
        None
    }
}

fn wait_ready(endpoint: &str, bound: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < bound {
        if http_request(endpoint, "GET", "/moto-api/").is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// A minimal blocking HTTP/1.0 request (no runtime needed at start-up); Ok(body) on a 200.
fn http_request(endpoint: &str, method: &str, path: &str) -> Result<String, String> {
    let host = endpoint.trim_start_matches("http://");
    let addr: SocketAddr = host.parse().map_err(|e| format!("{host}: {e}"))?;
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| e.to_string())?;
    if response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200") {
        Ok(response)
    } else {
        Err(response.lines().next().unwrap_or_default().to_owned())
    }
}
