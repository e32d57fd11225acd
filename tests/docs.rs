//! The generated reference pages in `docs/` match their tables. Run with `BLESS=1` to
//! regenerate them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

fn check(path: &str, generated: String) {
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(path, &generated).unwrap();
        return;
    }
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "{path} is stale: run `BLESS=1 cargo test --test docs` and commit the result"
    );
}

#[test]
fn functions_reference_is_current() {
    check("docs/functions.md", sluice::docs::functions_markdown());
}

#[test]
fn errors_reference_is_current() {
    check("docs/errors.md", sluice::docs::errors_markdown());
}

#[test]
fn connectors_reference_is_current() {
    check("docs/connectors.md", sluice::docs::connectors_markdown());
}

/// The repository's docs stand on their own: none points to a specification that is not
/// in the repository.
#[test]
fn docs_name_no_outside_spec() {
    let mut pages = vec![std::path::PathBuf::from("README.md")];
    for entry in std::fs::read_dir("docs").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    for page in pages {
        let text = std::fs::read_to_string(&page).unwrap();
        assert!(
            !text.contains("SPEC"),
            "{} refers to SPEC, which is not in the repository",
            page.display()
        );
    }
}
