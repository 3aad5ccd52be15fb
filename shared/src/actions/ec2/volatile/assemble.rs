//! Pure: the capture's commands, as they went, into the bundle's objects, its gaps and the
//! step's outcome.
//!
//! Every object name comes from the artefact ([`Artefact::name`]: the responder's words and
//! a validated integer), never from the output. What the manifest says of an object is
//! what the responder did with what it received: the text as received (always, under
//! `volatile/received/`), and beside it the decoded artefact (whole or cut, said in its
//! source) when it decodes. `volatile/command.json` holds, per command, the length and
//! SHA-256 of the text received: the manifest's hash of the received object, so the
//! decoded one can be derived again from what is hashed.
//! The outcome names artefacts, command ids and SSM's status only: nothing the instance
//! wrote reaches an alert.

use super::command::{Ended, Run};
use super::decode::{self, Decoded};
use super::script::Artefact;
use super::{Captured, DOCUMENT, RECORD_NAME};
use crate::evidence::collect::{Collected, Collection};
use crate::evidence::manifest::sha256_hex;
use crate::outcome::Step;
use aws_sdk_ssm::types::CommandInvocationStatus as S;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// What the record says besides the commands.
pub(crate) struct Context<'a> {
    pub instance_id: &'a str,
    /// `s3://<bucket>/<bundle>/volatile/ssm/`: where the instance writes if it can.
    pub output: &'a str,
    pub pids: &'a [u32],
    pub timeout_seconds: u64,
}

/// The object of an artefact's decoded output.
pub fn object_name(a: &Artefact) -> String {
    format!("volatile/{}.txt", a.name())
}

/// The object of an artefact's output as received (the encoded text SSM returned): kept
/// beside the decoded one, so anyone can decode it again and compare, and alone when it
/// does not decode.
pub fn received_name(a: &Artefact) -> String {
    format!("volatile/received/{}.txt", a.name())
}

/// One command, as far as it went: its objects, its gap, its line in the record.
struct Assembled {
    collected: bool,
    cut: bool,
    gap: Option<String>,
    record: Value,
}

pub(crate) fn assemble(runs: &[Run], ctx: &Context<'_>) -> Captured {
    let mut out = Collection::default();
    let mut lines = Vec::new();
    let mut ok = Vec::new();
    let mut cut = Vec::new();
    // The reasons an artefact is missing, each with the artefacts it applies to.
    let mut missing: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // What is left of the capture's decoding budget.
    let mut budget = decode::MAX_DECODED_TOTAL;
    for run in runs {
        let name = run.artefact.name();
        let a = one(run, ctx, &mut out, &mut budget);
        if a.collected {
            ok.push(name.clone());
        }
        if a.cut {
            cut.push(name.clone());
        }
        if let Some(gap) = a.gap {
            out.gaps.push(format!("volatile/{name}: {gap}"));
            if !a.collected {
                missing.entry(gap).or_default().push(name);
            }
        }
        lines.push(a.record);
    }
    out.objects.push(Collected::json(
        RECORD_NAME,
        "ssm:SendCommand, ssm:GetCommandInvocation",
        &json!({
            "instance_id": ctx.instance_id,
            "document": DOCUMENT,
            "pids": ctx.pids,
            "timeout_seconds": ctx.timeout_seconds,
            "output": ctx.output,
            "output_written_by": "the instance's SSM agent, with the instance role, where it \
                                  can reach S3 (not hashed here)",
            "commands": lines,
        }),
    ));
    let ids: Vec<&str> = runs
        .iter()
        .filter_map(|r| r.command_id.as_deref())
        .collect();
    let mut detail = format!(
        "{} of {} artefacts read back through GetCommandInvocation",
        ok.len(),
        runs.len()
    );
    if !ok.is_empty() {
        detail.push_str(&format!(" ({})", ok.join(", ")));
    }
    if !cut.is_empty() {
        detail.push_str(&format!("; cut at the output limit: {}", cut.join(", ")));
    }
    for (why, names) in &missing {
        detail.push_str(&format!("; {}: {why}", names.join(", ")));
    }
    if !ids.is_empty() {
        detail.push_str(&format!("; commands {}", ids.join(" ")));
    }
    detail.push_str(&format!("; any full output at {}", ctx.output));
    let detail = crate::sanitize::ascii_line(&detail, 3000);
    let evidence = json!({
        "artefacts": runs.len(),
        "collected": ok,
        "cut": cut,
        "command_ids": ids,
        "output": ctx.output,
    });
    let step = if ok.is_empty() && !runs.is_empty() {
        Step::failed(detail)
    } else {
        Step::done(detail)
    };
    Captured {
        step: Some(step.with_evidence(evidence)),
        collection: out,
    }
}

/// One command into `out`'s objects.
fn one(run: &Run, ctx: &Context<'_>, out: &mut Collection, budget: &mut usize) -> Assembled {
    let a = &run.artefact;
    let name = a.name();
    out.objects.push(Collected::new(
        format!("volatile/scripts/{name}.sh"),
        "responder:volatile capture script",
        run.script.clone().into_bytes(),
    ));
    let id = run.command_id.as_deref();
    let mut record = json!({
        "artefact": name,
        "command_id": id,
        "script": format!("volatile/scripts/{name}.sh"),
        "output": id.map(|id| format!("{}{id}/{}/", ctx.output, ctx.instance_id)),
    });
    let e = match &run.ended {
        Ok(e) => e,
        Err(why) => {
            record["status"] = "not known".into();
            record["error"] = why.as_str().into();
            return Assembled {
                collected: false,
                cut: false,
                gap: Some(why.clone()),
                record,
            };
        }
    };
    let id = id.unwrap_or_default();
    let decoded = decode::decode_within(&e.stdout, *budget);
    *budget = budget.saturating_sub(decoded.bytes().map_or(0, <[u8]>::len));
    let source =
        |how: &str| format!("ssm:GetCommandInvocation command {id} (StandardOutputContent{how})");
    let mut object = None;
    let mut gap = None;
    let received = (!e.stdout.is_empty()).then(|| {
        out.objects.push(Collected::new(
            received_name(a),
            &source(", as received"),
            e.stdout.clone().into_bytes(),
        ));
        received_name(a)
    });
    if let Some(bytes) = decoded.bytes() {
        let how = match &decoded {
            Decoded::Complete(_) => ", gzip and base64 decoded by the responder".to_owned(),
            d => format!(", {}", d.note().unwrap_or_default()),
        };
        out.objects.push(Collected::new(
            object_name(a),
            &source(&how),
            bytes.to_vec(),
        ));
        object = Some(object_name(a));
    } else if let Decoded::Undecodable(why) = &decoded {
        gap = Some(format!(
            "command {id}: output not decodable ({why}), kept as received only"
        ));
    }
    if !e.stderr.is_empty() {
        out.objects.push(Collected::new(
            format!("volatile/{name}.stderr.txt"),
            &format!("ssm:GetCommandInvocation command {id} (StandardErrorContent, as received)"),
            e.stderr.clone().into_bytes(),
        ));
    }
    let succeeded = e.status == S::Success;
    if !succeeded {
        gap = Some(format!(
            "command {id} {}: {}",
            e.status.as_str(),
            crate::sanitize::ascii_line(&e.details, 200)
        ));
    } else if decoded == Decoded::Empty {
        gap = Some(format!("command {id}: no output"));
    }
    fill(&mut record, e, &decoded, object);
    record["received"] = received.into();
    Assembled {
        collected: succeeded && decoded.bytes().is_some(),
        cut: matches!(
            decoded,
            Decoded::Cut { .. } | Decoded::Plain { cut: true, .. }
        ),
        gap,
        record,
    }
}

/// The command's line in `volatile/command.json`: SSM's answer, what was received (its
/// length and hash) and what it became.
fn fill(record: &mut Value, e: &Ended, decoded: &Decoded, object: Option<String>) {
    record["status"] = e.status.as_str().into();
    record["status_details"] = crate::sanitize::ascii_line(&e.details, 200).into();
    record["response_code"] = e.code.into();
    record["received_chars"] = e.stdout.chars().count().into();
    record["received_bytes"] = e.stdout.len().into();
    record["received_sha256"] = sha256_hex(e.stdout.as_bytes()).into();
    record["decoded"] = decoded.state().into();
    record["decoded_bytes"] = decoded.bytes().map(<[u8]>::len).into();
    record["note"] = decoded.note().into();
    record["object"] = object.into();
    record["stderr_bytes"] = e.stderr.len().into();
    record["stderr_sha256"] = (!e.stderr.is_empty())
        .then(|| sha256_hex(e.stderr.as_bytes()))
        .into();
}

#[cfg(test)]
#[path = "assemble_tests.rs"]
mod tests;
