//! A `sluice serve` process the tests drive over HTTP: started on 127.0.0.1 with the
//! test's store, its log kept, requests made by hand over TCP.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{process, store_in};

/// A running `sluice serve`: its base URL and everything it printed on stderr.
pub struct Served {
    /// The server process.
    pub child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    log: Arc<Mutex<String>>,
}

impl Served {
    /// Starts `sluice serve` in `dir` over `paths` with the test's store and short waits.
    pub fn start(dir: &Path, paths: &[&str], env: &[(&str, &str)]) -> Served {
        Served::start_with(dir, paths, env, &[])
    }

    /// Starts `sluice serve` as [`Served::start`] does, with `args` added.
    pub fn start_with(dir: &Path, paths: &[&str], env: &[(&str, &str)], args: &[&str]) -> Served {
        let mut command = Served::command(dir, paths, args);
        command.stdout(Stdio::null()).stderr(Stdio::piped());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    // kept before the address is handed over: a test that starts reading
                    // the log then finds the line that said where the server listens
                    log.lock().unwrap().push_str(&format!("{line}\n"));
                    let addr = line
                        .split("listening on ")
                        .nth(1)
                        .and_then(|url| url.split_once("://"))
                        .map(|(_, addr)| addr);
                    if let Some(addr) = addr {
                        let _ = tx.send(addr.trim_end_matches('/').to_string());
                    }
                }
            });
        }
        let addr = match rx.recv_timeout(super::patience(30)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                panic!("serve did not start:\n{}", log.lock().unwrap());
            }
        };
        Served { child, addr, log }
    }

    /// The command `start_with` runs: `sluice serve` over `paths` on 127.0.0.1 (any free
    /// port) with the test's store, short waits, and `args`.
    pub fn command(dir: &Path, paths: &[&str], args: &[&str]) -> std::process::Command {
        let store = store_in(dir, "sluice.db");
        let mut command = process();
        command
            .current_dir(dir)
            .arg("serve")
            .args(paths)
            .args(["--store", &store])
            .args(args);
        for (flag, default) in [
            ("--listen", "127.0.0.1:0"),
            ("--watch", "100ms"),
            ("--retry-backoff", "200ms"),
        ] {
            if !args.contains(&flag) {
                command.args([flag, default]);
            }
        }
        command
    }

    /// What the server printed so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// One HTTP/1.1 request: status and body.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, String) {
        let (head, body) = self.exchange(method, path, headers, body);
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, body)
    }

    /// One HTTP/1.1 request: the answer's head (status line and headers) and body (a
    /// chunked one joined).
    pub fn exchange(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (String, String) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream.set_read_timeout(Some(super::patience(30))).unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            head.push_str(&format!("Host: {}\r\n", self.addr));
        }
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body).unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        let answer = String::from_utf8(answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        let body = match head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            true => dechunk(body),
            false => body.to_string(),
        };
        (head.to_string(), body)
    }

    /// `GET path`: status and body.
    pub fn get(&self, path: &str) -> (u16, String) {
        self.request("GET", path, &[], b"")
    }

    /// `GET path`, answered 200 with JSON.
    pub fn json(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// `GET /connectors/<name>`.
    pub fn connector(&self, name: &str) -> Value {
        self.json(&format!("/connectors/{}", escape(name)))
    }

    /// Triggers a run by hand: its id.
    pub fn trigger(&self, name: &str) -> u64 {
        let (status, body) = self.request(
            "POST",
            &format!("/connectors/{}/run", escape(name)),
            &[],
            b"",
        );
        assert_eq!(status, 202, "{body}");
        serde_json::from_str::<Value>(&body).unwrap()["run"]
            .as_u64()
            .unwrap()
    }

    /// Waits until `ready` holds (at most `secs`), failing with `what` and the server's log.
    pub fn wait_until(&self, what: &str, secs: u64, ready: impl Fn(&Served) -> bool) {
        let deadline = Instant::now() + super::patience(secs);
        while Instant::now() < deadline {
            if ready(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "timed out waiting for {what}; the server said:\n{}",
            self.log()
        );
    }

    /// Waits for run `id` to end: the run.
    pub fn finished(&self, id: u64) -> Value {
        self.wait_until(&format!("run {id} to end"), 60, |s| {
            let run = s.json(&format!("/runs/{id}"));
            !matches!(run["status"].as_str(), Some("queued" | "running"))
        });
        self.json(&format!("/runs/{id}"))
    }

    /// The server's process id.
    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).unwrap()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A chunked body, joined.
pub fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
    out
}

/// A connector name in a URL path.
pub fn escape(name: &str) -> String {
    name.replace(' ', "%20")
}

/// One sample of the metrics page: name, labels, value.
pub fn samples(text: &str) -> Vec<(String, String, f64)> {
    let line = regex::Regex::new(r#"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.e+-]+|NaN)$"#)
        .unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let c = line
                .captures(l)
                .unwrap_or_else(|| panic!("not a sample: {l}"));
            (
                c[1].to_string(),
                c.get(2).map_or(String::new(), |m| m.as_str().to_string()),
                c[3].parse().unwrap(),
            )
        })
        .collect()
}
