//! Verification of a bundle against its manifest: every listed object present with the
//! listed size and SHA-256, nothing unlisted, and (when the notification's or log's value
//! is given) the manifest itself unchanged. A changed object shows as a mismatch; a
//! changed manifest either mismatches its objects or, with the expected hash, itself.
//!
//! A bundle without `manifest.json` (a collection cut short before its last put) is
//! reported as such, with the objects that are there, never as unreadable. Objects the
//! instance wrote itself over SSM (`volatile/ssm/`, docs/evidence.md) cannot be in the
//! manifest: when the manifest records the command, they are listed as unverified rather
//! than as unexpected.

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
    /// Present but not in the manifest: unexpected (planted, or written after it).
    pub extra: Vec<String>,
    pub mismatched: Vec<Mismatch>,
    /// No `manifest.json`: every object present is in `extra`, none can be verified.
    pub manifest_missing: bool,
    /// Written by the instance over SSM under the prefix the manifest's command record
    /// names: listed, not verified (the responder never read them), not a failure.
    pub unverified: Vec<String>,
}

impl Report {
    pub fn manifest_matches(&self) -> bool {
        self.expected_manifest_sha256
            .as_deref()
            .is_none_or(|want| want.eq_ignore_ascii_case(&self.manifest_sha256))
    }

    pub fn is_ok(&self) -> bool {
        !self.manifest_missing
            && self.manifest_matches()
            && self.missing.is_empty()
            && self.extra.is_empty()
            && self.mismatched.is_empty()
    }
}

/// One line per problem, then `OK` or `FAILED` with the manifest's hash.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.manifest_missing {
            writeln!(
                f,
                "manifest missing: no {MANIFEST_NAME} (the collection was cut short before \
                 its last write, or this is not a bundle's prefix); nothing can be verified"
            )?;
            for key in &self.extra {
                writeln!(f, "present, unverified: {key}")?;
            }
            return write!(
                f,
                "INCOMPLETE: no manifest, {} objects present",
                self.extra.len()
            );
        }
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
            writeln!(f, "unexpected (not in the manifest): {key}")?;
        }
        for key in &self.unverified {
            writeln!(
                f,
                "written by the instance over SSM (not in the manifest, unverified): {key}"
            )?;
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
        manifest_missing: false,
        unverified: vec![],
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
    let ssm_output = listed.contains(VOLATILE_RECORD).then_some(VOLATILE_OUTPUT);
    let (unverified, extra): (Vec<String>, Vec<String>) = found
        .keys()
        .filter(|k| !listed.contains(k.as_str()))
        .cloned()
        .partition(|k| ssm_output.is_some_and(|p| k.starts_with(p)));
    report.extra = extra;
    report.unverified = unverified;
    Ok(report)
}

/// The EC2 volatile capture's record in a bundle, and where the instance writes its output
/// (`ec2::volatile`, which uses the same names).
pub const VOLATILE_RECORD: &str = "volatile/command.json";
pub const VOLATILE_OUTPUT: &str = "volatile/ssm/";

/// [`verify`] when the manifest may be absent: without it, a report listing every object
/// present as unverifiable (`manifest_missing`). Err when there is nothing at all.
pub fn verify_found(
    manifest_bytes: Option<&[u8]>,
    found: &BTreeMap<String, Digest>,
    expected_manifest_sha256: Option<&str>,
) -> Result<Report, String> {
    match manifest_bytes {
        Some(m) => verify(m, found, expected_manifest_sha256),
        None if found.is_empty() => Err(format!("no {MANIFEST_NAME} and no object")),
        None => Ok(Report {
            manifest_sha256: String::new(),
            expected_manifest_sha256: expected_manifest_sha256.map(str::to_owned),
            objects: 0,
            missing: vec![],
            extra: found.keys().cloned().collect(),
            mismatched: vec![],
            manifest_missing: true,
            unverified: vec![],
        }),
    }
}

/// [`verify`] of a bundle downloaded to `dir`: `dir/manifest.json` and every other file
/// under `dir` (keys are `/`-separated paths relative to `dir`).
pub fn verify_dir(dir: &Path, expected_manifest_sha256: Option<&str>) -> Result<Report, String> {
    let manifest_path = dir.join(MANIFEST_NAME);
    let mut found = BTreeMap::new();
    walk(dir, "", &mut found)?;
    found.remove(MANIFEST_NAME);
    let manifest = match std::fs::read(&manifest_path) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("{}: {e}", manifest_path.display())),
    };
    verify_found(manifest.as_deref(), &found, expected_manifest_sha256)
        .map_err(|e| format!("{}: {e}", dir.display()))
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
