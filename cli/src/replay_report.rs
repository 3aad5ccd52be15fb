//! How `responder replay` shows each finding, written as it comes: text, one JSON document
//! (`{"plans": [...], "not_findings": [...]}`, written incrementally) or NDJSON (one plan
//! per line). Nothing here keeps a plan after it is written.

use crate::ReplayOutput as Output;
use responder::Decision;
use responder::finding::snapshot_event::SNAPSHOT_DETAIL_TYPE;
use responder::outcome::Outcome;
use responder::plan::ResponsePlan;
use responder::render::Notification;
use responder::sanitize::{ascii_line, neutralise};
use serde::Serialize;
use std::io::Write;

/// One finding's result as shown: the plan, then what was done and sent (both empty in a
/// dry run). Field names and order are the replay JSON contract.
#[derive(Serialize)]
pub struct Reported {
    #[serde(flatten)]
    pub plan: ResponsePlan,
    pub notification: Notification,
    pub outcomes: Vec<Outcome>,
    pub deliveries: Vec<DeliveryLine>,
    pub repeat: bool,
}

/// One notification channel's result.
#[derive(Serialize)]
pub struct DeliveryLine {
    pub channel: &'static str,
    pub ok: bool,
    pub detail: String,
}

impl Reported {
    /// Not acted on: another run holds the finding's exactly-once record.
    #[cfg(feature = "aws")]
    pub fn busy(plan: ResponsePlan, why: &str) -> Reported {
        let outcomes = plan
            .actions
            .iter()
            .map(|a| {
                Outcome::new(
                    a.kind,
                    a.target.to_string(),
                    responder::outcome::Status::Skipped,
                    why,
                )
            })
            .collect();
        Reported {
            notification: plan.notification(),
            plan,
            outcomes,
            deliveries: Vec::new(),
            repeat: false,
        }
    }

    pub(crate) fn dry_run(plan: ResponsePlan) -> Reported {
        Reported {
            notification: plan.notification(),
            plan,
            outcomes: Vec::new(),
            deliveries: Vec::new(),
            repeat: false,
        }
    }
}

/// One non-finding event as listed in the JSON outputs.
#[derive(Serialize)]
struct NotAFinding<'a> {
    detail_type: &'a str,
    handled: &'static str,
}

pub struct Report<W: Write> {
    out: W,
    output: Output,
    executed: bool,
    /// JSON: whether `{"plans": [` is written, and whether a plan followed it.
    opened: bool,
    plans_written: bool,
    /// JSON: the non-finding events, written after the plans (they are few and small).
    not_findings: Vec<String>,
    /// The first write error (a closed pipe): nothing more is written.
    broken: bool,
}

impl<W: Write> Report<W> {
    pub fn new(out: W, output: Output, executed: bool) -> Report<W> {
        Report {
            out,
            output,
            executed,
            opened: false,
            plans_written: false,
            not_findings: Vec::new(),
            broken: false,
        }
    }

    pub fn plan(&mut self, r: &Reported) {
        let written = match self.output {
            Output::Json => self.json_plan(r),
            Output::Ndjson => serde_json::to_writer(&mut self.out, r)
                .map_err(std::io::Error::from)
                .and_then(|()| self.out.write_all(b"\n")),
            Output::Text => {
                let text = text_block(r, self.executed);
                self.out.write_all(text.as_bytes())
            }
        };
        self.broken |= written.is_err();
    }

    pub fn not_a_finding(&mut self, detail_type: String) {
        let written = match self.output {
            Output::Json => {
                self.open_json();
                self.not_findings.push(detail_type);
                Ok(())
            }
            Output::Ndjson => serde_json::to_writer(&mut self.out, &not_a_finding(&detail_type))
                .map_err(std::io::Error::from)
                .and_then(|()| self.out.write_all(b"\n")),
            // EBS's snapshot notification is the ec2 function's follow-up trigger for
            // forensic copies, acted on only in Lambda (docs/evidence.md).
            Output::Text if detail_type == SNAPSHOT_DETAIL_TYPE => writeln!(
                self.out,
                "Not a finding: an EBS {:?} event (the ec2 function's trigger for forensic snapshot copies; replay does not act on it)\n",
                ascii_line(&detail_type, 80)
            ),
            Output::Text => writeln!(
                self.out,
                "Not a finding: a GuardDuty {:?} event (nothing to do)\n",
                ascii_line(&detail_type, 80)
            ),
        };
        self.broken |= written.is_err();
    }

    /// Closes the JSON document. After an error with nothing shown, nothing is written, as
    /// before streaming (stderr has the error).
    pub fn finish(mut self, failed: bool) {
        if self.output == Output::Json && !self.broken && (self.opened || !failed) {
            self.open_json();
            let closed = self.close_json();
            self.broken |= closed.is_err();
        }
        if !self.broken {
            let _ = self.out.flush();
        }
    }

    fn open_json(&mut self) {
        if !self.opened && !self.broken {
            self.opened = true;
            self.broken |= self.out.write_all(b"{\n  \"plans\": [").is_err();
        }
    }

    /// A plan pretty-printed at its depth in the document (strings hold no raw newline, so
    /// indenting every line is exact).
    fn json_plan(&mut self, r: &Reported) -> std::io::Result<()> {
        self.open_json();
        let pretty = serde_json::to_vec_pretty(r)?;
        self.out.write_all(if self.plans_written {
            b",\n    "
        } else {
            b"\n    "
        })?;
        self.plans_written = true;
        indented(&mut self.out, &pretty)
    }

    fn close_json(&mut self) -> std::io::Result<()> {
        self.out.write_all(if self.plans_written {
            b"\n  ],\n"
        } else {
            b"],\n"
        })?;
        self.out.write_all(b"  \"not_findings\": [")?;
        for (i, d) in self.not_findings.iter().enumerate() {
            let pretty = serde_json::to_vec_pretty(&not_a_finding(d))?;
            self.out
                .write_all(if i > 0 { b",\n    " } else { b"\n    " })?;
            indented(&mut self.out, &pretty)?;
        }
        let end: &[u8] = if self.not_findings.is_empty() {
            b"]\n}\n"
        } else {
            b"\n  ]\n}\n"
        };
        self.out.write_all(end)
    }
}

fn not_a_finding(detail_type: &str) -> NotAFinding<'_> {
    NotAFinding {
        detail_type,
        handled: "not a finding",
    }
}

/// Writes `pretty` with every line after the first indented by two levels.
fn indented(out: &mut impl Write, pretty: &[u8]) -> std::io::Result<()> {
    let mut lines = pretty.split(|&b| b == b'\n');
    if let Some(first) = lines.next() {
        out.write_all(first)?;
    }
    for line in lines {
        out.write_all(b"\n    ")?;
        out.write_all(line)?;
    }
    Ok(())
}

/// One finding as text: subject, decision, actions (or what was done), notification.
fn text_block(r: &Reported, executed: bool) -> String {
    let p = &r.plan;
    let mut out = String::new();
    out.push_str(&format!("== {} ==\n", r.notification.subject));
    out.push_str(&format!(
        "decision: {} — {}\n",
        p.decision.as_str(),
        p.reason
    ));
    if executed {
        for o in &r.outcomes {
            out.push_str(&format!(
                "  {} {}: {} {}\n",
                o.kind.name(),
                neutralise(&o.target, 512),
                o.status.as_str(),
                neutralise(&o.detail, 1024)
            ));
        }
        for d in &r.deliveries {
            out.push_str(&format!(
                "  notification via {}: {} {}\n",
                d.channel,
                if d.ok { "sent" } else { "FAILED" },
                neutralise(&d.detail, 256)
            ));
        }
    } else {
        for a in &p.actions {
            out.push_str(&format!(
                "  would run {} on {}: {}\n",
                a.kind.name(),
                neutralise(&a.target.to_string(), 512),
                responder::action_catalog::describe(a.kind)
            ));
        }
    }
    if p.decision != Decision::Ignore {
        out.push_str(if executed {
            "-- notification --\n"
        } else {
            "-- notification (dry run: nothing sent) --\n"
        });
        out.push_str(&r.notification.text);
    }
    out.push('\n');
    out
}
