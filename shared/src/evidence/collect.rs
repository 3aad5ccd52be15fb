//! One containment's bundle, end to end (feature `evidence-s3`): the finding and the
//! descriptions taken before any change, then what the surface collects, under one time
//! limit, written write-once with the manifest last. Whatever happens is a [`Step`] of
//! [`crate::action::ActionKind::EvidenceWriteBundle`]: a failure is reported, never a failed
//! containment, and nothing here can delay isolation, which runs alongside.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::manifest::Bundle;
use super::path::BundlePrefix;
use super::store::{EvidenceStore, StoreError};
use crate::options::EvidenceOptions;
use crate::outcome::{Status, Step};

/// One object for a bundle: its name in the bundle, its bytes, the API they came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Collected {
    pub name: String,
    pub bytes: Vec<u8>,
    pub source_api: String,
    pub at: DateTime<Utc>,
}

impl Collected {
    pub fn new(name: impl Into<String>, source_api: &str, bytes: Vec<u8>) -> Self {
        Collected {
            name: name.into(),
            bytes,
            source_api: source_api.to_owned(),
            at: Utc::now(),
        }
    }

    /// A JSON description, pretty-printed (the bytes hashed are the bytes stored).
    pub fn json(name: impl Into<String>, source_api: &str, value: &serde_json::Value) -> Self {
        let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
        bytes.push(b'\n');
        Collected::new(name, source_api, bytes)
    }
}

/// What a bundle is about: the finding as the responder received and parsed it, and the
/// account it was seen in.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub finding: &'a crate::finding::Finding,
    pub account: &'a str,
    pub finding_id: &'a str,
}

impl Subject<'_> {
    /// `evidence/<account>/<finding-id>/<resource>/`, or why not.
    pub fn prefix(&self, resource: &str) -> Result<BundlePrefix, crate::evidence::PathError> {
        BundlePrefix::new(
            self.account,
            &self.finding_id.to_ascii_lowercase(),
            resource,
        )
    }

    /// `finding.json`: every field the responder parsed (the typed finding, serialised).
    pub fn finding_object(&self) -> Collected {
        Collected::json(
            "finding.json",
            "guardduty:finding",
            &serde_json::to_value(self.finding).unwrap_or_default(),
        )
    }
}

/// What the surface's collection returns: the objects, what could not be collected, and
/// what was not there to collect.
#[derive(Debug, Default)]
pub struct Collection {
    pub objects: Vec<Collected>,
    /// Could not be collected (a refusal, an error): the bundle is incomplete.
    pub gaps: Vec<String>,
    /// Nothing to collect (a container that never restarted has no previous log): listed
    /// in `collection-gaps.json` so the reader knows it was asked for, never a failure.
    pub absent: Vec<String>,
}

/// Why an object is not in a bundle.
#[derive(Debug, Clone, PartialEq)]
pub enum Missing {
    /// Could not be collected: a gap, the bundle is incomplete.
    Gap(String),
    /// There was nothing to collect: listed, not a failure.
    Absent(String),
}

impl Collection {
    pub fn push(&mut self, item: Result<Collected, String>) {
        match item {
            Ok(c) => self.objects.push(c),
            Err(e) => self.gaps.push(e),
        }
    }

    /// One object, or why it is missing.
    pub fn add(&mut self, item: Result<Collected, Missing>) {
        match item {
            Ok(c) => self.objects.push(c),
            Err(Missing::Gap(g)) => self.gaps.push(g),
            Err(Missing::Absent(a)) => self.absent.push(a),
        }
    }

    /// Everything `other` collected or missed.
    pub fn extend(&mut self, other: Collection) {
        self.objects.extend(other.objects);
        self.gaps.extend(other.gaps);
        self.absent.extend(other.absent);
    }
}

/// The bucket writer and the limits, built once per executor.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub store: EvidenceStore,
    pub options: EvidenceOptions,
}

impl Evidence {
    /// None without a configured bucket: no bundle is written.
    pub fn new(sdk: &aws_config::SdkConfig, options: &EvidenceOptions) -> Option<Evidence> {
        let bucket = options.bucket.as_deref()?;
        Some(Evidence {
            store: EvidenceStore::new(
                sdk,
                bucket,
                options.bucket_region.as_deref(),
                options.kms_key_id.as_deref(),
            ),
            options: options.clone(),
        })
    }

    fn limit(&self) -> Duration {
        Duration::from_secs(self.options.time_limit_seconds.max(1))
    }

    /// Writes the bundle of one resource: `before` (the finding first, then the pre-change
    /// descriptions) and what `collect` gathers within the time limit.
    ///
    /// The finding is put first, so a re-run finds the bundle already there (`already
    /// done`) before collecting anything again. The collection is cut at the time limit
    /// (what it gathered is lost, the gap is listed); the write gets the same limit again.
    /// Gaps are stored in the bundle as `collection-gaps.json` and make the step `failed`.
    pub async fn write_bundle(
        &self,
        prefix: BundlePrefix,
        before: Vec<Collected>,
        collect: impl Future<Output = Collection>,
    ) -> Step {
        self.write_bundle_within(prefix, before, collect, Duration::ZERO)
            .await
    }

    /// [`Evidence::write_bundle`], the collection given `extra` time beyond the limit (the
    /// EC2 volatile capture, which has its own limit, `ec2.volatile_capture`).
    pub async fn write_bundle_within(
        &self,
        prefix: BundlePrefix,
        before: Vec<Collected>,
        collect: impl Future<Output = Collection>,
        extra: Duration,
    ) -> Step {
        let location = format!("s3://{}/{prefix}", self.store.bucket());
        let first = before
            .first()
            .and_then(|c| Some((prefix.key(&c.name).ok()?, c.bytes.clone())));
        let mut bundle = Bundle::new(prefix, &self.options.collector);
        let mut gaps = Vec::new();
        for c in before {
            if let Err(e) = bundle.add(&c.name, c.bytes, &c.source_api, c.at) {
                gaps.push(e.to_string());
            }
        }
        let mut written = Vec::new();
        let mut absent = Vec::new();
        if let Some((key, bytes)) = first {
            match tokio::time::timeout(self.limit(), self.store.put(&key, &bytes)).await {
                Ok(Ok(())) => written.push(key),
                Ok(Err(StoreError::Exists { .. })) => {
                    return Step::already(format!(
                        "a bundle is already at {location} (evidence is never overwritten)"
                    ));
                }
                Ok(Err(e)) => return failed(&location, &e.to_string()),
                Err(_) => return failed(&location, &self.timed_out("writing")),
            }
        }
        match tokio::time::timeout(self.limit() + extra, collect).await {
            Ok(c) => {
                gaps.extend(c.gaps);
                absent.extend(c.absent);
                for o in c.objects {
                    if let Err(e) = bundle.add(&o.name, o.bytes, &o.source_api, o.at) {
                        gaps.push(e.to_string());
                    }
                }
            }
            Err(_) => gaps.push(format!(
                "time limit of {}s exceeded while collecting",
                (self.limit() + extra).as_secs()
            )),
        }
        if !gaps.is_empty() || !absent.is_empty() {
            let listed: Vec<String> = gaps
                .iter()
                .cloned()
                .chain(absent.iter().map(|a| format!("{ABSENT}{a}")))
                .collect();
            let listed = Collected::json(GAPS_NAME, "responder:collection", &json!(listed));
            let _ = bundle.add(&listed.name, listed.bytes, &listed.source_api, listed.at);
        }
        let objects = bundle.manifest().objects.len();
        let sha =
            match tokio::time::timeout(self.limit(), self.store.write(&bundle, &written)).await {
                Ok(Ok(sha)) => sha,
                Ok(Err(e)) => return failed(&location, &e.to_string()),
                Err(_) => return failed(&location, &self.timed_out("writing")),
            };
        tracing::info!(bundle = %location, objects, manifest_sha256 = %sha, gaps = gaps.len(), "evidence bundle written");
        let summary = format!("{location}: {objects} objects, manifest sha256 {sha}");
        let evidence = json!({"bundle": location, "objects": objects, "manifest_sha256": sha, "gaps": gaps, "absent": absent});
        if gaps.is_empty() {
            Step::done(summary).with_evidence(evidence)
        } else {
            let why = crate::sanitize::ascii_line(&gaps.join("; "), 300);
            Step::new(
                Status::Failed,
                format!("incomplete, {summary}; not collected: {why}"),
            )
            .with_evidence(evidence)
        }
    }

    fn timed_out(&self, what: &str) -> String {
        format!(
            "time limit of {}s exceeded while {what}",
            self.limit().as_secs()
        )
    }
}

/// Lists what could not be collected, inside the bundle itself.
pub const GAPS_NAME: &str = "collection-gaps.json";

/// Marks an entry of [`GAPS_NAME`] that was not there to collect (not a failure).
pub const ABSENT: &str = "absent, nothing to collect: ";

fn failed(location: &str, why: &str) -> Step {
    tracing::warn!(bundle = %location, error = %why, "evidence bundle not written");
    Step::failed(format!(
        "no bundle at {location}: {}",
        crate::sanitize::ascii_line(why, 300)
    ))
}
