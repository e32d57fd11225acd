//! Generates the formula parser from `grammar/formula.lalrpop`.
fn main() {
    println!("cargo:rerun-if-changed=grammar/formula.lalrpop");
    let result = lalrpop::Configuration::new()
        .set_in_dir("grammar")
        .set_out_dir(std::env::var("OUT_DIR").unwrap_or_else(|_| "target".into()))
        .process();
    if let Err(err) = result {
        eprintln!("lalrpop failed: {err}");
        std::process::exit(1);
    }
}
