//! The `sluice` binary.

fn main() {
    // `serve` keeps SIGPIPE ignored: a server whose log reader went away (journald
    // restarted, `| head`) goes on serving; every other command stops as `cat` does.
    if std::env::args().nth(1).as_deref() != Some("serve") {
        restore_default_sigpipe();
    }
    std::process::exit(sluice::cli::main());
}

/// Rust ignores SIGPIPE, so writing to a closed pipe (`sluice objects dump T | head`)
/// would fail every print; a command-line tool should simply stop, as `cat` does.
#[cfg(unix)]
fn restore_default_sigpipe() {
    // SAFETY: setting the disposition of SIGPIPE to its default before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn restore_default_sigpipe() {}
