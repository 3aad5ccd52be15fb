//! A `moto_server` on a free loopback port, started on first use and stopped with the test
//! process.
//!
//! The server is found at `$MOTO_SERVER`, else `<workspace>/.venv/bin/moto_server` (what
//! `.ci/run` creates, pinned `moto[server]==5.2.5`), else on `PATH`. It runs under a tiny
//! `sh` watchdog that kills it when our end of its stdin closes: on [`Drop`], and also when
//! the test process exits in any way (statics are never dropped), so no server outlives
//! its test binary.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub struct Moto {
    child: Child,
    stdin: Option<ChildStdin>,
    port: u16,
    log: PathBuf,
}

/// The `moto_server` executable to run.
pub fn moto_server_path() -> PathBuf {
    if let Some(p) = std::env::var_os("MOTO_SERVER") {
        return PathBuf::from(p);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/moto_server");
    if venv.exists() {
        return venv;
    }
    PathBuf::from("moto_server")
}

/// The Python of moto's environment (moto's own modules, e.g. its EventBridge pattern
/// matcher, and boto3 are importable there), else `python3`.
pub fn python_path() -> PathBuf {
    moto_server_path()
        .parent()
        .map(|d| d.join("python"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| "python3".into())
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn answers(port: u16) -> bool {
    let Ok(mut s) =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
    else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /moto-api/data.json HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1")
}

impl Moto {
    /// Starts a server and waits (up to 60 s) until it answers HTTP.
    pub fn start() -> Result<Moto, String> {
        let exe = moto_server_path();
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port().map_err(|e| format!("no free port: {e}"))?;
            let log = std::env::temp_dir().join(format!("moto-{}-{port}.log", std::process::id()));
            let log_file = std::fs::File::create(&log).map_err(|e| format!("{log:?}: {e}"))?;
            let err_file = log_file.try_clone().map_err(|e| e.to_string())?;
            // $0 is moto_server, "$@" its arguments. `read` returns at EOF on stdin.
            let script = r#""$0" "$@" & pid=$!; trap 'kill $pid 2>/dev/null' EXIT HUP TERM; read _ignored; kill $pid 2>/dev/null; wait $pid"#;
            let mut child = Command::new("sh")
                .arg("-c")
                .arg(script)
                .arg(&exe)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::piped())
                .stdout(log_file)
                .stderr(err_file)
                .spawn()
                .map_err(|e| format!("cannot start {exe:?}: {e}"))?;
            let stdin = child.stdin.take();
            let mut moto = Moto {
                child,
                stdin,
                port,
                log,
            };
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if answers(port) {
                    return Ok(moto);
                }
                if let Ok(Some(status)) = moto.child.try_wait() {
                    last = format!(
                        "{exe:?} exited with {status}: {}",
                        std::fs::read_to_string(&moto.log).unwrap_or_default()
                    );
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            if last.is_empty() {
                last = format!("{exe:?} did not answer on port {port} within 60 s");
            }
            drop(moto);
        }
        Err(format!(
            "{last}\n(install it with: python3 -m venv .venv && .venv/bin/pip install 'moto[server]==5.2.5')"
        ))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Where the server's request log goes (useful when a test fails).
    pub fn log_path(&self) -> &std::path::Path {
        &self.log
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // Closing stdin makes the watchdog kill the server; then reap the watchdog.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One server per test binary, shared by its tests (which use distinct VPCs, groups and
/// finding ids rather than resetting it, so they can run in parallel).
pub fn shared() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| match Moto::start() {
        Ok(m) => m,
        Err(e) => panic!("moto_server is required for the integration tests: {e}"),
    })
}
