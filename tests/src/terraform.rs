//! Terraform against a moto server, for the deploy test (`tests/tests/deploy.rs`).
//!
//! A [`Root`] is a scratch copy of the repository's `infra/` (so the example's relative
//! module sources and `patterns/` resolve) with its own `TF_DATA_DIR` and local state; it
//! is removed on drop, so nothing is ever written into the repository tree. The provider
//! is pointed at moto by an override file the test writes into that copy
//! ([`provider_override`]); the example itself is never changed.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The terraform binary and the offline AWS provider (`-plugin-dir`).
#[derive(Clone, Debug)]
pub struct Terraform {
    pub bin: PathBuf,
    pub plugin_dir: PathBuf,
}

impl Terraform {
    /// `$TERRAFORM`, else `terraform` on `PATH` (or /usr/local/bin); the plugin folder is
    /// `$TF_PLUGIN_DIR`, else the first of a few usual places holding
    /// `registry.terraform.io/hashicorp/aws` (as `infra/check.sh` finds it). `Err` says
    /// what is missing.
    pub fn find() -> Result<Terraform, String> {
        let bin = std::env::var_os("TERRAFORM")
            .map(PathBuf::from)
            .or_else(|| {
                let path = std::env::var_os("PATH").unwrap_or_default();
                std::env::split_paths(&path)
                    .chain([PathBuf::from("/usr/local/bin")])
                    .map(|d| d.join("terraform"))
                    .find(|p| p.is_file())
            })
            .filter(|p| p.is_file())
            .ok_or("terraform is not installed (set TERRAFORM or put it on PATH)")?;
        let has_aws = |d: &Path| d.join("registry.terraform.io/hashicorp/aws").is_dir();
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default();
        let plugin_dir = std::env::var_os("TF_PLUGIN_DIR")
            .map(PathBuf::from)
            .into_iter()
            .chain([
                PathBuf::from("/opt/tf-plugins"),
                home.join(".terraform.d/plugins"),
                home.join(".local/share/terraform/plugins"),
                PathBuf::from("/usr/local/share/terraform/plugins"),
                PathBuf::from("/usr/share/terraform/plugins"),
            ])
            .find(|d| has_aws(d))
            .ok_or("no offline AWS provider: set TF_PLUGIN_DIR to a folder holding registry.terraform.io/hashicorp/aws")?;
        Ok(Terraform { bin, plugin_dir })
    }
}

/// A root module in a scratch copy of `infra/`.
pub struct Root {
    tf: Terraform,
    scratch: PathBuf,
    /// The root module's folder inside the copy.
    pub dir: PathBuf,
}

impl Root {
    /// Copies `<repo>/infra` into a fresh scratch folder named after `name`; the root module
    /// is `infra/<root>` there (which need not exist in the repository: write it).
    pub fn new(tf: &Terraform, name: &str, root: &str) -> Result<Root, String> {
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let scratch = std::env::temp_dir().join(format!(
            "responder-deploy-{}-{name}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        ));
        copy_dir(&repo.join("infra"), &scratch.join("infra"))
            .map_err(|e| format!("copy infra/ to {scratch:?}: {e}"))?;
        let dir = scratch.join("infra").join(root);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        Ok(Root {
            tf: tf.clone(),
            scratch,
            dir,
        })
    }

    /// The scratch folder (for files the test needs beside the copy, e.g. zips).
    pub fn scratch(&self) -> &Path {
        &self.scratch
    }

    /// Writes a file into the root module's folder.
    pub fn write(&self, file: &str, contents: &str) -> Result<(), String> {
        std::fs::write(self.dir.join(file), contents).map_err(|e| format!("{file}: {e}"))
    }

    /// Runs `terraform <args>` in the root; stdout on success, else both streams' tails.
    pub fn run(&self, args: &[&str]) -> Result<String, String> {
        let mut cmd = Command::new(&self.tf.bin);
        cmd.arg(format!("-chdir={}", self.dir.display()))
            .args(args)
            .current_dir(&self.scratch);
        // Only the endpoints and keys of the override file may reach the provider.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("AWS_") {
                cmd.env_remove(key);
            }
        }
        let out = cmd
            .env("TF_DATA_DIR", self.scratch.join("tf-data"))
            .env("TF_CLI_CONFIG_FILE", "/dev/null")
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CHECKPOINT_DISABLE", "1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .map_err(|e| format!("cannot run {:?}: {e}", self.tf.bin))?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            return Ok(stdout);
        }
        Err(format!(
            "terraform {} failed ({}):\n{}\n{}",
            args.first().unwrap_or(&""),
            out.status,
            tail(&stdout, 6000),
            tail(&String::from_utf8_lossy(&out.stderr), 6000)
        ))
    }

    /// `terraform init` from the offline provider folder.
    pub fn init(&self) -> Result<(), String> {
        let plugin_dir = format!("-plugin-dir={}", self.tf.plugin_dir.display());
        self.run(&["init", "-backend=false", "-no-color", &plugin_dir])
            .map(drop)
    }

    /// `terraform show -json [plan file]`, parsed.
    pub fn show_json(&self, plan: Option<&str>) -> Result<Value, String> {
        let mut args = vec!["show", "-json", "-no-color"];
        args.extend(plan);
        let out = self.run(&args)?;
        serde_json::from_str(&out).map_err(|e| format!("terraform show -json: {e}"))
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

fn tail(s: &str, max: usize) -> &str {
    let mut start = s.len().saturating_sub(max);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        // Working data of a local `terraform init` is not part of the configuration.
        if name == ".terraform" || name == ".terraform.lock.hcl" || name == "terraform.tfvars" {
            continue;
        }
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &to.join(&name))?;
        } else {
            std::fs::copy(entry.path(), to.join(&name))?;
        }
    }
    Ok(())
}

/// An override file pointing the `aws` provider (and each alias) at `endpoint` with
/// placeholder credentials. Terraform merges it into the root's own provider blocks.
pub fn provider_override(endpoint: &str, aliases: &[&str]) -> String {
    // Every service the module uses now or is expected to (DynamoDB, S3, Organizations).
    const SERVICES: &[&str] = &[
        "cloudwatch",
        "dynamodb",
        "eks",
        "events",
        "guardduty",
        "iam",
        "kms",
        "lambda",
        "logs",
        "organizations",
        "s3",
        "scheduler",
        "secretsmanager",
        "sns",
        "sqs",
        "sts",
    ];
    let endpoints: String = SERVICES
        .iter()
        .map(|s| format!("    {s} = \"{endpoint}\"\n"))
        .collect();
    std::iter::once(None)
        .chain(aliases.iter().map(Some))
        .map(|alias| {
            let alias = alias.map(|a| format!("  alias = \"{a}\"\n")).unwrap_or_default();
            format!(
                "provider \"aws\" {{\n{alias}  access_key = \"test\"\n  secret_key = \"test\"\n  skip_credentials_validation = true\n  skip_metadata_api_check = true\n  s3_use_path_style = true\n  endpoints {{\n{endpoints}  }}\n}}\n"
            )
        })
        .collect()
}

/// Managed resources in a `terraform show -json` state, counted by type (all modules).
pub fn state_counts(state: &Value) -> BTreeMap<String, usize> {
    fn walk(module: &Value, counts: &mut BTreeMap<String, usize>) {
        for r in module["resources"].as_array().into_iter().flatten() {
            if r["mode"] == "managed" {
                let kind = r["type"].as_str().unwrap_or_default().to_owned();
                *counts.entry(kind).or_default() += 1;
            }
        }
        for child in module["child_modules"].as_array().into_iter().flatten() {
            walk(child, counts);
        }
    }
    let mut counts = BTreeMap::new();
    walk(&state["values"]["root_module"], &mut counts);
    counts
}

/// The changes a `terraform show -json` plan would make, except `(type, attribute)`
/// pairs in `accepted`: one line per resource, with the attributes that differ.
pub fn unexpected_changes(plan: &Value, accepted: &[(&str, &str)]) -> Vec<String> {
    let mut out = vec![];
    for rc in plan["resource_changes"].as_array().into_iter().flatten() {
        let actions: Vec<&str> = rc["change"]["actions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if actions == ["no-op"] || actions == ["read"] {
            continue;
        }
        let kind = rc["type"].as_str().unwrap_or_default();
        let (before, after) = (&rc["change"]["before"], &rc["change"]["after"]);
        let unknown = &rc["change"]["after_unknown"];
        let mut keys: Vec<&String> = [before, after]
            .into_iter()
            .filter_map(Value::as_object)
            .flat_map(|o| o.keys())
            .collect();
        keys.sort();
        keys.dedup();
        let changed: Vec<&str> = keys
            .into_iter()
            .filter(|k| before[k] != after[k] || unknown[k] == true)
            .map(String::as_str)
            .filter(|k| !accepted.contains(&(kind, *k)))
            .collect();
        if actions != ["update"] || !changed.is_empty() {
            out.push(format!(
                "{} {actions:?}: {changed:?}",
                rc["address"].as_str().unwrap_or_default()
            ));
        }
    }
    out
}

/// A zip holding one executable-looking `bootstrap`: enough for Terraform to upload (it
/// never runs). Written by hand (stored, not deflated) so the test needs no zip tool.
pub fn placeholder_zip() -> Vec<u8> {
    let name = b"bootstrap";
    let data = b"#!/bin/sh\necho placeholder: build with cargo lambda >&2\nexit 1\n";
    let crc = crc32(data);
    let mut local = vec![];
    local.extend(0x0403_4b50u32.to_le_bytes());
    local.extend([20, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // version, flags, stored, time, date
    local.extend(crc.to_le_bytes());
    local.extend((data.len() as u32).to_le_bytes());
    local.extend((data.len() as u32).to_le_bytes());
    local.extend((name.len() as u16).to_le_bytes());
    local.extend(0u16.to_le_bytes());
    local.extend(name);
    local.extend(data);
    let mut central = vec![];
    central.extend(0x0201_4b50u32.to_le_bytes());
    central.extend([0x14, 0x03]); // made by: Unix, so the mode below counts
    central.extend([20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    central.extend(crc.to_le_bytes());
    central.extend((data.len() as u32).to_le_bytes());
    central.extend((data.len() as u32).to_le_bytes());
    central.extend((name.len() as u16).to_le_bytes());
    central.extend([0, 0, 0, 0, 0, 0, 0, 0]); // extra, comment, disk, internal attributes
    central.extend((0o100_755u32 << 16).to_le_bytes());
    central.extend(0u32.to_le_bytes()); // offset of the local header
    central.extend(name);
    let mut zip = local.clone();
    zip.extend(&central);
    zip.extend(0x0605_4b50u32.to_le_bytes());
    zip.extend([0, 0, 0, 0, 1, 0, 1, 0]);
    zip.extend((central.len() as u32).to_le_bytes());
    zip.extend((local.len() as u32).to_le_bytes());
    zip.extend(0u16.to_le_bytes());
    zip
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}
