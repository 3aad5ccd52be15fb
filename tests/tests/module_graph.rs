//! No module cycle in any crate of the workspace (see `integration_tests::module_graph`).

use integration_tests::module_graph::{cycles, read};
use std::path::{Path, PathBuf};

fn source_roots() -> Vec<PathBuf> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut roots: Vec<PathBuf> = ["shared/src", "cli/src", "tests/src"]
        .iter()
        .map(|r| workspace.join(r))
        .collect();
    for f in std::fs::read_dir(workspace.join("functions")).expect("functions/") {
        roots.push(f.expect("entry").path().join("src"));
    }
    roots
}

#[test]
fn no_crate_has_a_module_cycle() {
    let mut seen_modules = 0;
    for root in source_roots() {
        let graph = read(&root);
        seen_modules += graph.len();
        let found = cycles(&graph);
        assert!(
            found.is_empty(),
            "{}: modules that import each other in a circle: {found:?}",
            root.display()
        );
    }
    // The walk really read the sources (a wrong root would pass vacuously).
    assert!(seen_modules > 100, "{seen_modules} modules read");
}
