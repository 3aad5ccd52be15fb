//! The manifest of a bundle: every object with its SHA-256, size, source API, collection
//! time and collector, serialised deterministically so that its own SHA-256 (in the
//! notification and the structured log) pins the whole bundle.
//!
//! Object keys in the manifest are relative to the bundle prefix (`finding.json`, not
//! `evidence/…/finding.json`): a bundle downloaded anywhere verifies the same.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::path::{BundlePrefix, PathError, check_object_name};

/// The manifest's own name in a bundle; written last.
pub const MANIFEST_NAME: &str = "manifest.json";

/// Version of the manifest layout, so that a later change is never read as tampering.
pub const FORMAT: u32 = 1;

/// One collected object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestObject {
    /// Relative to the bundle prefix.
    pub key: String,
    /// Lowercase hex SHA-256 of the object's bytes.
    pub sha256: String,
    pub size: u64,
    /// The API call the bytes came from (`ec2:DescribeInstances`, `guardduty:finding`).
    pub source_api: String,
    /// RFC 3339, UTC, milliseconds.
    pub collected_at: String,
    /// The responder's identity (its role ARN or function name).
    pub collector: String,
}

/// What `manifest.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: u32,
    pub account: String,
    pub finding_id: String,
    pub resource: String,
    /// Sorted by key.
    pub objects: Vec<ManifestObject>,
}

/// SHA-256 and size of some bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub sha256: String,
    pub size: u64,
}

impl Digest {
    pub fn of(bytes: &[u8]) -> Self {
        Self {
            sha256: sha256_hex(bytes),
            size: bytes.len() as u64,
        }
    }
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Manifest {
    /// The exact bytes written as `manifest.json`: objects sorted by key, fields in
    /// declaration order, two-space indentation and a final newline. The same manifest
    /// always gives the same bytes, hence the same hash.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut sorted = self.clone();
        sorted.objects.sort_by(|a, b| a.key.cmp(&b.key));
        // Serialising plain strings and integers cannot fail.
        let mut bytes = serde_json::to_vec_pretty(&sorted).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Reads a manifest, refusing unknown fields, another format, invalid or duplicate keys.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let m: Manifest = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if m.format != FORMAT {
            return Err(format!(
                "manifest format {} (this build reads {FORMAT})",
                m.format
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for o in &m.objects {
            check_object_name(&o.key).map_err(|e| e.to_string())?;
            if o.key == MANIFEST_NAME || !seen.insert(o.key.as_str()) {
                return Err(format!("manifest lists {:?} twice or lists itself", o.key));
            }
        }
        Ok(m)
    }
}

/// Why an object could not be added to a bundle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error(transparent)]
    Path(#[from] PathError),
    #[error("{0:?} is already in the bundle (evidence is never overwritten)")]
    Duplicate(String),
    #[error("{MANIFEST_NAME} is the manifest's own name")]
    Reserved,
}

/// A bundle being collected: the objects and their manifest entries. Writers put every
/// object, then [`Bundle::manifest`]'s bytes last.
#[derive(Debug, Clone)]
pub struct Bundle {
    prefix: BundlePrefix,
    collector: String,
    objects: BTreeMap<String, (ManifestObject, Vec<u8>)>,
}

impl Bundle {
    pub fn new(prefix: BundlePrefix, collector: &str) -> Self {
        Self {
            prefix,
            collector: collector.to_owned(),
            objects: BTreeMap::new(),
        }
    }

    pub fn prefix(&self) -> &BundlePrefix {
        &self.prefix
    }

    /// Adds an object, hashing its bytes now: what is listed is what was collected.
    pub fn add(
        &mut self,
        name: &str,
        bytes: Vec<u8>,
        source_api: &str,
        collected_at: DateTime<Utc>,
    ) -> Result<&ManifestObject, BundleError> {
        check_object_name(name)?;
        if name == MANIFEST_NAME {
            return Err(BundleError::Reserved);
        }
        if self.objects.contains_key(name) {
            return Err(BundleError::Duplicate(name.to_owned()));
        }
        let digest = Digest::of(&bytes);
        let entry = ManifestObject {
            key: name.to_owned(),
            sha256: digest.sha256,
            size: digest.size,
            source_api: source_api.to_owned(),
            collected_at: collected_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            collector: self.collector.clone(),
        };
        let (entry, _) = self
            .objects
            .entry(name.to_owned())
            .or_insert((entry, bytes));
        Ok(entry)
    }

    /// The objects in key order, with their full keys in the bucket.
    pub fn objects(&self) -> impl Iterator<Item = (String, &[u8])> + '_ {
        self.objects
            .iter()
            .map(|(name, (_, bytes))| (format!("{}{name}", self.prefix), bytes.as_slice()))
    }

    pub fn manifest(&self) -> Manifest {
        Manifest {
            format: FORMAT,
            account: self.prefix.account().to_owned(),
            finding_id: self.prefix.finding_id().to_owned(),
            resource: self.prefix.resource().to_owned(),
            objects: self.objects.values().map(|(e, _)| e.clone()).collect(),
        }
    }

    /// Writes the bundle under `dir` (objects first, `manifest.json` last) and returns the
    /// manifest's SHA-256. For tests and offline copies; the bucket writer keeps the order.
    pub fn write_dir(&self, dir: &Path) -> io::Result<String> {
        for (name, (_, bytes)) in &self.objects {
            let path = dir.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, bytes)?;
        }
        let manifest = self.manifest().to_bytes();
        std::fs::write(dir.join(MANIFEST_NAME), &manifest)?;
        Ok(sha256_hex(&manifest))
    }
}
