//! The module graph of one crate's sources, and its cycles.
//!
//! The stages are layered (parse → classify → decide → plan → execute → render → notify)
//! and each executor's steps build on leaves, never on each other in a circle: a cycle is
//! where a change in one module silently needs a change in another. This reads the
//! `crate::…` and `super::…` paths each file uses (comments and `#[cfg(test)]` modules left
//! out), maps each to the longest module that exists, and finds the strongly connected
//! components. A module using its own parent or child is not an edge: that is how Rust
//! nests modules, not a layering choice.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Modules (`a::b`, the crate root is ``) and the modules each one uses.
pub type Graph = BTreeMap<String, BTreeSet<String>>;

/// Reads every `.rs` file under `src` (a crate's source root).
pub fn read(src: &Path) -> Graph {
    let mut files = BTreeMap::new();
    collect(src, src, &mut files);
    let known: BTreeSet<String> = files.keys().cloned().collect();
    files
        .iter()
        .map(|(module, path)| {
            let text = std::fs::read_to_string(path).expect("source file");
            (module.clone(), uses(module, &code_of(&text), &known))
        })
        .collect()
}

fn collect(root: &Path, dir: &Path, out: &mut BTreeMap<String, PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("source dir")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path
                .strip_prefix(root)
                .expect("under root")
                .with_extension("");
            let mut parts: Vec<String> = rel
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if matches!(
                parts.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                parts.pop();
            }
            // Test files beside a module (`#[path = "x_tests.rs"]`) are not layering.
            if parts
                .last()
                .is_some_and(|p| p.ends_with("_tests") || p == "tests")
            {
                continue;
            }
            out.insert(parts.join("::"), path);
        }
    }
}

/// The file's code without comments and without its `#[cfg(test)]` modules (which sit
/// at the end of a file by this repository's convention).
fn code_of(text: &str) -> String {
    let mut code = String::with_capacity(text.len());
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            break;
        }
        code.push_str(line.split("//").next().unwrap_or(""));
        code.push('\n');
    }
    code
}

fn uses(module: &str, code: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let own: Vec<&str> = split(module);
    let mut out = BTreeSet::new();
    for (base, path) in paths(code) {
        let mut parts: Vec<&str> = match base {
            Base::Crate => Vec::new(),
            Base::Super(n) if n <= own.len() => own[..own.len() - n].to_vec(),
            Base::Super(_) => continue,
        };
        parts.extend(path.split("::").filter(|p| !p.is_empty()));
        let Some(target) = longest_known(&parts, known) else {
            continue;
        };
        let related = target == module
            || module.starts_with(&format!("{target}::"))
            || target.starts_with(&format!("{module}::"))
            || target.is_empty()
            || module.is_empty();
        if !related {
            out.insert(target);
        }
    }
    out
}

fn split(module: &str) -> Vec<&str> {
    module.split("::").filter(|p| !p.is_empty()).collect()
}

fn longest_known(parts: &[&str], known: &BTreeSet<String>) -> Option<String> {
    (0..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find(|m| known.contains(m))
}

enum Base {
    Crate,
    Super(usize),
}

/// Every `crate::a::b` and `super::super::a` path in the code, with what follows it.
fn paths(code: &str) -> Vec<(Base, String)> {
    let bytes = code.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !code.is_char_boundary(i) {
            i += 1;
            continue;
        }
        let rest = &code[i..];
        let boundary = i == 0 || !is_ident(bytes[i - 1]);
        if boundary && rest.starts_with("crate::") {
            let path = ident_path(&rest["crate::".len()..]);
            found.push((Base::Crate, path.to_owned()));
            i += "crate::".len() + path.len();
        } else if boundary && rest.starts_with("super::") {
            let mut n = 0;
            let mut tail = rest;
            while let Some(t) = tail.strip_prefix("super::") {
                n += 1;
                tail = t;
            }
            let path = ident_path(tail);
            found.push((Base::Super(n), path.to_owned()));
            i += rest.len() - tail.len() + path.len();
        } else {
            i += 1;
        }
    }
    found
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The leading `a::b::c` of `text` (module names are lower-case; a type ends it).
fn ident_path(text: &str) -> &str {
    let mut end = 0;
    let mut last_sep = 0;
    let b = text.as_bytes();
    while end < b.len() && (is_ident(b[end]) || text[end..].starts_with("::")) {
        if text[end..].starts_with("::") {
            last_sep = end;
            end += 2;
        } else {
            end += 1;
        }
    }
    let path = &text[..end];
    if path.ends_with("::") {
        &text[..last_sep]
    } else {
        path
    }
}

/// The strongly connected components of more than one module (Tarjan's algorithm).
pub fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    struct State<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.graph.contains_key(w) {
                continue;
            }
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "module-graph-{}-{}",
            std::process::id(),
            files.len() * 31 + files.iter().map(|(_, t)| t.len()).sum::<usize>()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, text) in files {
            let p = dir.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    #[test]
    fn a_cycle_through_crate_and_super_paths_is_found() {
        let dir = tree(&[
            (
                "lib.rs",
                "pub mod plan;\npub mod render;\npub mod actions;\n",
            ),
            ("plan.rs", "use crate::render::Notification;\n"),
            (
                "render/mod.rs",
                "use crate::plan::ResponsePlan;\nmod html;\n",
            ),
            ("render/html.rs", "use super::View;\n"),
            ("actions/mod.rs", "mod a;\nmod b;\n"),
            ("actions/a.rs", "use super::b::step;\n"),
            ("actions/b.rs", "fn f() { super::a::tag() }\n"),
        ]);
        let found = cycles(&read(&dir));
        assert_eq!(
            found,
            vec![
                vec!["actions::a".to_owned(), "actions::b".to_owned()],
                vec!["plan".to_owned(), "render".to_owned()],
            ]
        );
    }

    #[test]
    fn parents_children_comments_and_tests_are_not_edges() {
        let dir = tree(&[
            ("lib.rs", "pub mod plan;\npub mod render;\n"),
            (
                "plan.rs",
                "//! See [`crate::render`].\nuse crate::render::Notification;\n",
            ),
            (
                "render/mod.rs",
                "mod html; // crate::plan is not used\n#[cfg(test)]\nmod tests { use crate::plan::x; }\n",
            ),
            (
                "render/html.rs",
                "use super::View;\nuse crate::render::Notification;\n",
            ),
            ("render/html_tests.rs", "use crate::plan::ResponsePlan;\n"),
        ]);
        let graph = read(&dir);
        assert!(cycles(&graph).is_empty(), "{graph:?}");
        assert_eq!(graph["plan"], BTreeSet::from(["render".to_owned()]));
        assert!(graph["render::html"].is_empty(), "{graph:?}");
    }
}
