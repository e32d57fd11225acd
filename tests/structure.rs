//! Rules of the source tree that keep it one-way, free of circles between files, and
//! table-driven.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// What a function reads of the record is declared in its table entry (`Reads`); the
/// compiler and the executor never recognise a record-reading function by its name, so a
/// new one cannot silently see null on slot-parsed input.
#[test]
fn no_record_reading_function_is_special_cased_by_name() {
    let mut files = Vec::new();
    for dir in SOURCE_DIRS {
        rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir), &mut files);
    }
    // the function library itself defines them
    for file in files
        .iter()
        .filter(|f| !f.components().any(|c| c.as_os_str() == "stdlib"))
    {
        let text = std::fs::read_to_string(file).unwrap();
        for name in [
            "\"data\"",
            "\"vlookup\"",
            "\"textvlookup\"",
            "\"textvlookuplike\"",
        ] {
            assert!(
                !text.contains(name),
                "{} names the function {name}: declare what it reads in its table entry instead",
                file.display()
            );
        }
    }
}

/// Where the workspace's crates keep their sources.
const SOURCE_DIRS: &[&str] = &[
    "src",
    "crates/core/src",
    "crates/jit/src",
    "crates/engine/src",
];

/// The layers, lowest first: a module may name only modules of its own layer or below, so
/// dependencies run one way (text → syntax → values → functions → IR → checker →
/// interpreter → transform → native code → store → seams → connections → executor →
/// embedding API → server → command line).
const LAYERS: &[&str] = &[
    "limits",
    "syntax",
    "diagnostics",
    "value",
    "runtime",
    "stdlib",
    "ir",
    "types",
    "interp",
    "compile",
    "transform",
    "analysis",
    "jit",
    "native",
    "driver",
    "store",
    "seams",
    "connections",
    "executor",
    "api",
    "serve",
    "lsp",
    "docs",
    "cli",
];

#[test]
fn dependencies_run_one_way() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rank = |name: &str| LAYERS.iter().position(|l| *l == name);
    let mut checked = 0;
    for dir in SOURCE_DIRS {
        let mut files = Vec::new();
        rust_files(&root.join(dir), &mut files);
        for file in files {
            checked += check_layer(root, &root.join(dir), &file, &rank);
        }
    }
    assert!(checked > 50, "only {checked} files checked");
}

/// Checks that `file` (under the crate source directory `src`) names no higher layer;
/// 1 when it is in a layer, 0 for a crate root.
fn check_layer(
    root: &Path,
    src: &Path,
    file: &Path,
    rank: &dyn Fn(&str) -> Option<usize>,
) -> usize {
    let relative = file.strip_prefix(root).unwrap();
    let layer = file
        .strip_prefix(src)
        .unwrap()
        .iter()
        .next()
        .unwrap()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_string();
    {
        let Some(own) = rank(&layer) else {
            assert!(
                layer == "lib" || layer == "main",
                "{} is in no layer: add `{layer}` to LAYERS",
                relative.display()
            );
            return 0;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (at, _) in text.match_indices("crate::") {
            let named: String = text[at + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if let Some(theirs) = rank(&named) {
                assert!(
                    theirs <= own,
                    "{} (layer `{layer}`) names `crate::{named}`, a higher layer",
                    relative.display()
                );
            }
        }
        1
    }
}

/// A source file grows past about 800 lines only with a reason at its top (`Why one long
/// file:`); otherwise it is split by concept.
#[test]
fn long_source_files_say_why_they_are_long() {
    for dir in SOURCE_DIRS {
        let mut files = Vec::new();
        rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let header: String = text.lines().take_while(|l| l.starts_with("//!")).collect();
            assert!(
                text.lines().count() <= 850 || header.contains("Why one long file:"),
                "{} has {} lines and no `Why one long file:` at its top",
                file.display(),
                text.lines().count()
            );
        }
    }
}

/// The module paths a file names (`crate::a::b::c`, `super::x`, with `use` groups
/// expanded), each as its segments from the crate root.
fn named_paths(text: &str, own: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < text.len() {
        let rest = &text[at..];
        let (start, base): (usize, Vec<String>) =
            if rest.starts_with("crate::") && (at == 0 || !is_ident(bytes[at - 1])) {
                (at + 7, Vec::new())
            } else if rest.starts_with("super::") && (at == 0 || !is_ident(bytes[at - 1])) {
                let mut base = own.to_vec();
                let mut start = at;
                while text[start..].starts_with("super::") {
                    base.pop();
                    start += 7;
                }
                (start, base)
            } else {
                at += rest.chars().next().map_or(1, char::len_utf8);
                continue;
            };
        let end = path_end(text, start);
        expand(&text[start..end], &base, &mut out);
        at = end.max(start + 1);
    }
    out
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Where a path that starts at `start` ends: after its last segment, or after the `}`
/// closing its group.
fn path_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = start;
    let mut depth = 0usize;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'{' {
            depth += 1;
        } else if b == b'}' {
            if depth == 0 {
                return i;
            }
            depth -= 1;
            if depth == 0 {
                return i + 1;
            }
        } else if depth == 0 && !(is_ident(b) || b == b':') {
            return i;
        }
        i += 1;
    }
    i
}

/// `a::{b, c::{d, e}}` as `a::b`, `a::c::d`, `a::c::e`, each after `base`.
fn expand(path: &str, base: &[String], out: &mut Vec<Vec<String>>) {
    let (head, group) = match path.find('{') {
        Some(open) => (
            &path[..open],
            Some(&path[open + 1..path.len().saturating_sub(1)]),
        ),
        None => (path, None),
    };
    let mut segments = base.to_vec();
    segments.extend(
        head.split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    );
    let Some(group) = group else {
        out.push(segments);
        return;
    };
    let mut depth = 0;
    let mut from = 0;
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                expand(group[from..i].trim(), &segments, out);
                from = i + 1;
            }
            _ => {}
        }
    }
    if !group[from..].trim().is_empty() {
        expand(group[from..].trim(), &segments, out);
    }
}

/// The file of the longest module path that is a prefix of `path` and not the crate root.
fn file_of(src: &Path, path: &[String]) -> Option<std::path::PathBuf> {
    (1..=path.len()).rev().find_map(|n| {
        let module = path[..n].join("/");
        let file = src.join(format!("{module}.rs"));
        let folder = src.join(&module).join("mod.rs");
        [file, folder].into_iter().find(|f| f.exists())
    })
}

/// A file's module path: `store/sync.rs` is `store::sync`, `store/mod.rs` is `store`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let mut segments: Vec<String> = file
        .strip_prefix(src)
        .unwrap()
        .iter()
        .map(|s| s.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if segments
        .last()
        .is_some_and(|s| s == "mod" || s == "lib" || s == "main")
    {
        segments.pop();
    }
    segments
}

/// No two files of a crate name each other, however indirectly: each file can be read
/// knowing only the files it names, and a part can be taken out along its edges. A
/// folder's `mod.rs` counts as a file like any other (`mod` declarations are not names).
#[test]
fn no_circles_between_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut circles = Vec::new();
    for dir in SOURCE_DIRS {
        let src = root.join(dir);
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        files.sort();
        let index = |f: &Path| files.iter().position(|g| g == f);
        let edges: Vec<Vec<usize>> = files
            .iter()
            .map(|file| {
                let whole = std::fs::read_to_string(file).unwrap();
                // a file's unit tests (at its end) name it through `super::`
                let text: String = whole
                    .split("#[cfg(test)]\nmod ")
                    .next()
                    .unwrap_or_default()
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("//"))
                    .collect::<Vec<_>>()
                    .join("\n");
                let own = module_of(&src, file);
                let mut to: Vec<usize> = named_paths(&text, &own)
                    .iter()
                    .filter_map(|p| file_of(&src, p))
                    .filter_map(|f| index(&f))
                    .filter(|&n| files[n] != *file)
                    .collect();
                to.sort_unstable();
                to.dedup();
                to
            })
            .collect();
        for component in strongly_connected(&edges) {
            if component.len() > 1 {
                let mut names: Vec<String> = component
                    .iter()
                    .map(|&n| files[n].strip_prefix(root).unwrap().display().to_string())
                    .collect();
                names.sort();
                circles.push(names.join(" ↔ "));
            }
        }
    }
    assert!(
        circles.is_empty(),
        "files that name each other:\n{}",
        circles.join("\n")
    );
}

/// Tarjan's strongly connected components of a graph given as adjacency lists.
fn strongly_connected(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct State<'a> {
        edges: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in &s.edges[v] {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(i) if s.on_stack[w] => s.low[v] = s.low[v].min(i),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            s.out.push(component);
        }
    }
    let n = edges.len();
    let mut state = State {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if state.index[v].is_none() {
            visit(&mut state, v);
        }
    }
    state.out
}

/// One driver: compiled formulas and transforms are evaluated through `driver::Driver`
/// (the executor's workers, the API, `eval`, `test`, the REPL, `bench`); only the
/// interpreter itself, the transform it runs, the native code that falls back to it and
/// the driver name the interpreter.
#[test]
fn only_the_driver_drives_the_interpreter() {
    const ALLOWED: &[&str] = &[
        "crates/core/src/interp/",
        "crates/core/src/transform/mod.rs",
        "crates/jit/src/jit/",
        "crates/jit/src/native.rs",
        "crates/jit/src/driver.rs",
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in SOURCE_DIRS {
        let mut files = Vec::new();
        rust_files(&root.join(dir), &mut files);
        for file in files {
            let relative = file.strip_prefix(root).unwrap().display().to_string();
            if ALLOWED.iter().any(|a| relative.starts_with(a)) {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            assert!(
                !text.contains("Interpreter"),
                "{relative} drives the interpreter itself: evaluate through driver::Driver"
            );
        }
    }
}

/// The executor reaches the store through the seams only (`StateStore`, `Leases`): no
/// file of it opens a `Store` or writes SQL, so a second kind of state store is a seam
/// implementation, not a change to the run loop.
#[test]
fn the_executor_reaches_the_store_through_the_seams() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("crates/engine/src/executor"), &mut files);
    assert!(files.len() > 5);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for forbidden in [
            "store::Store",
            "Store::",
            "store::db",
            "SELECT ",
            "UPDATE ",
            "INSERT ",
        ] {
            assert!(
                !text.contains(forbidden),
                "{} has `{forbidden}`: reach the store through crate::seams",
                file.display()
            );
        }
    }
}
