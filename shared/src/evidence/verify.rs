//! Verification of a bundle against its manifest: every listed object present with the
//! listed size and SHA-256, nothing unlisted, and (when the notification's or log's value
//! is given) the manifest itself unchanged. A changed object shows as a mismatch; a
//! changed manifest either mismatches its objects or, with the expected hash, itself.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use super::manifest::{Digest, MANIFEST_NAME, Manifest, sha256_hex};

/// A listed object whose bytes differ from the manifest's entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub key: String,
    pub expected: Digest,
    pub actual: Digest,
}

/// What verification found. [`Report::is_ok`] only when nothing is missing, extra or
/// different, and the manifest hash matches when one was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub manifest_sha256: String,
    pub expected_manifest_sha256: Option<String>,
    pub objects: usize,
    pub missing: Vec<String>,
    pub extra: Vec<String>,
    pub mismatched: Vec<Mismatch>,
}

impl Report {
    pub fn manifest_matches(&self) -> bool {
        self.expected_manifest_sha256
            .as_deref()
            .is_none_or(|want| want.eq_ignore_ascii_case(&self.manifest_sha256))
    }

    pub fn is_ok(&self) -> bool {
        self.manifest_matches()
            && self.missing.is_empty()
            && self.extra.is_empty()
            && self.mismatched.is_empty()
    }
}

/// One line per problem, then `OK` or `FAILED` with the manifest's hash.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (false, Some(want)) = (self.manifest_matches(), &self.expected_manifest_sha256) {
            writeln!(
                f,
                "manifest tampered: sha256 {} expected {want}",
                self.manifest_sha256
            )?;
        }
        for key in &self.missing {
            writeln!(f, "missing: {key}")?;
        }
        for key in &self.extra {
            writeln!(f, "extra (not in the manifest): {key}")?;
        }
        for m in &self.mismatched {
            writeln!(
                f,
                "mismatch: {} sha256 {} size {} (manifest: sha256 {} size {})",
                m.key, m.actual.sha256, m.actual.size, m.expected.sha256, m.expected.size
            )?;
        }
        let verdict = if self.is_ok() { "OK" } else { "FAILED" };
        write!(
            f,
            "{verdict}: {} objects listed, manifest sha256 {}",
            self.objects, self.manifest_sha256
        )
    }
}

/// Checks `found` (every object of the bundle but the manifest: relative key → digest)
/// against the manifest's bytes. Err only when the manifest cannot be read at all.
pub fn verify(
    manifest_bytes: &[u8],
    found: &BTreeMap<String, Digest>,
    expected_manifest_sha256: Option<&str>,
) -> Result<Report, String> {
    let manifest = Manifest::parse(manifest_bytes)?;
    let mut report = Report {
        manifest_sha256: sha256_hex(manifest_bytes),
        expected_manifest_sha256: expected_manifest_sha256.map(str::to_owned),
        objects: manifest.objects.len(),
        missing: vec![],
        extra: vec![],
        mismatched: vec![],
    };
    for o in &manifest.objects {
        let expected = Digest {
            sha256: o.sha256.to_ascii_lowercase(),
            size: o.size,
        };
        match found.get(&o.key) {
            None => report.missing.push(o.key.clone()),
            Some(actual) if *actual != expected => report.mismatched.push(Mismatch {
                key: o.key.clone(),
                expected,
                actual: actual.clone(),
            }),
            Some(_) => {}
        }
    }
    let listed: std::collections::BTreeSet<&str> =
        manifest.objects.iter().map(|o| o.key.as_str()).collect();
    report.extra = found
        .keys()
        .filter(|k| !listed.contains(k.as_str()))
        .cloned()
        .collect();
    Ok(report)
}

/// [`verify`] of a bundle downloaded to `dir`: `dir/manifest.json` and every other file
/// under `dir` (keys are `/`-separated paths relative to `dir`).
pub fn verify_dir(dir: &Path, expected_manifest_sha256: Option<&str>) -> Result<Report, String> {
    let manifest_path = dir.join(MANIFEST_NAME);
    let manifest =
        std::fs::read(&manifest_path).map_err(|e| format!("{}: {e}", manifest_path.display()))?;
    let mut found = BTreeMap::new();
    walk(dir, "", &mut found)?;
    found.remove(MANIFEST_NAME);
    verify(&manifest, &found, expected_manifest_sha256)
}

fn walk(dir: &Path, rel: &str, found: &mut BTreeMap<String, Digest>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let key = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let path = entry.path();
        if path.is_dir() {
            walk(&path, &key, found)?;
        } else {
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            found.insert(key, Digest::of(&bytes));
        }
    }
    Ok(())
}
