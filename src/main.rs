//! The `sluice` binary.

fn main() {
    std::process::exit(sluice::cli::main());
}
