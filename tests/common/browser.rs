//! The page tests' browser: whether Playwright and Debian's Chromium are here (CI must
//! have them; elsewhere a test without them is skipped and says so), and a Playwright script
//! of `tests/browser/` run against a served page.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::ffi::OsStr;
use std::io::Write;
use std::path::Path;

use super::served::Served;

/// Whether Playwright and Chromium are installed; when they are not, outside CI, `test`
/// is noted in `target/skipped-tests.txt` (in CI their absence fails the test).
pub fn ready(test: &str) -> bool {
    let ready = std::process::Command::new("python3")
        .args(["-c", "import playwright"])
        .output()
        .is_ok_and(|o| o.status.success())
        && Path::new("/usr/bin/chromium").exists();
    if !ready {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have Playwright and Chromium"
        );
        let skipped = concat!(env!("CARGO_MANIFEST_DIR"), "/target/skipped-tests.txt");
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(skipped)
        {
            let _ = writeln!(f, "{test}: skipped: no Playwright or Chromium");
        }
    }
    ready
}

/// Runs the Playwright script `tests/browser/<name>.py` on the served page with `args`;
/// fails with what it said and the server's log unless it ends saying ok.
pub fn drive(served: &Served, name: &str, args: &[&OsStr]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/browser/{name}.py"));
    let out = std::process::Command::new("python3")
        .arg(&script)
        .arg(format!("http://{}", served.addr))
        .args(args)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.contains("ok"),
        "{said}\nserver:\n{}",
        served.log()
    );
}
