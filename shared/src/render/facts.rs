//! The finding's details every channel shows, gathered once, still raw.

use crate::finding::{Finding, Process};
use crate::sanitize::{FieldKind, neutralise};
use std::borrow::Cow;

/// A labelled, untrusted value and how long it may be shown; rendered only per channel.
pub struct Fact<'a> {
    pub label: &'static str,
    /// Neutralised and bounded once (borrowed from the finding when that changed nothing);
    /// each channel escapes from here.
    plain: Cow<'a, str>,
    kind: FieldKind,
}

impl<'a> Fact<'a> {
    pub(super) fn new(label: &'static str, raw: &'a str, kind: FieldKind) -> Fact<'a> {
        Fact {
            label,
            plain: neutralise(raw, kind.max_chars()),
            kind,
        }
    }
    /// For a value built here rather than read from the finding.
    pub(super) fn built(label: &'static str, raw: String, kind: FieldKind) -> Fact<'a> {
        let plain = match neutralise(&raw, kind.max_chars()) {
            Cow::Borrowed(_) => raw,
            Cow::Owned(changed) => changed,
        };
        Fact {
            label,
            plain: Cow::Owned(plain),
            kind,
        }
    }
    pub fn plain(&self) -> &str {
        &self.plain
    }
    pub fn is_command_line(&self) -> bool {
        self.kind == FieldKind::CommandLine
    }
    pub fn kind(&self) -> FieldKind {
        self.kind
    }
}

fn push<'a>(
    out: &mut Vec<Fact<'a>>,
    label: &'static str,
    value: Option<&'a crate::sanitize::Untrusted>,
    kind: FieldKind,
) {
    if let Some(v) = value.filter(|v| !v.is_empty()) {
        out.push(Fact::new(label, v.as_raw(), kind));
    }
}

/// Resource-identifying facts (account and region are trusted and rendered separately).
pub fn resource_facts(f: &Finding) -> Vec<Fact<'_>> {
    let mut out = Vec::with_capacity(8);
    let r = &f.resource;
    push(
        &mut out,
        "Resource type",
        Some(&r.resource_type),
        FieldKind::Name,
    );
    if let Some(i) = &r.instance_details {
        push(
            &mut out,
            "Instance",
            i.instance_id.as_ref(),
            FieldKind::Name,
        );
    }
    if let Some(e) = &r.ecs_cluster_details {
        push(&mut out, "ECS cluster", e.name.as_ref(), FieldKind::Name);
        if let Some(t) = &e.task_details {
            push(&mut out, "Task", t.arn.as_ref(), FieldKind::Path);
            push(
                &mut out,
                "Task definition",
                t.definition_arn.as_ref(),
                FieldKind::Path,
            );
        }
    }
    if let Some(e) = &r.eks_cluster_details {
        push(&mut out, "EKS cluster", e.name.as_ref(), FieldKind::Name);
    }
    if let Some(w) = f.workload() {
        push(&mut out, "Namespace", w.namespace.as_ref(), FieldKind::Name);
        push(&mut out, "Workload", w.name.as_ref(), FieldKind::Name);
    }
    if let Some(c) = &r.container_details {
        push(&mut out, "Container", c.name.as_ref(), FieldKind::Name);
        push(&mut out, "Image", c.image.as_ref(), FieldKind::Path);
    }
    out
}

/// What ran and what it touched. The indicators come first (title, domain, remote IP, the
/// head of the command line, the process and the file), so a channel that must cut shows
/// them before anything else.
pub fn activity_facts(f: &Finding) -> Vec<Fact<'_>> {
    let mut out = Vec::with_capacity(16);
    push(&mut out, "Title", f.title.as_ref(), FieldKind::Text);
    if let Some(a) = &f.service.action {
        push(
            &mut out,
            "Domain",
            a.dns_request_action
                .as_ref()
                .and_then(|d| d.domain.as_ref()),
            FieldKind::Path,
        );
        let remote = a
            .network_connection_action
            .as_ref()
            .and_then(|n| n.remote_ip_details.as_ref());
        push(
            &mut out,
            "Remote IP",
            remote.and_then(|r| r.ip_address_v4.as_ref().or(r.ip_address_v6.as_ref())),
            FieldKind::Name,
        );
    }
    let context = f.context();
    push(
        &mut out,
        "Command line",
        context.and_then(|c| c.command_line_example.as_ref()),
        FieldKind::CommandLine,
    );
    if let Some(p) = f.process() {
        process_facts(&mut out, "Process", p);
    }
    // The file the finding is about is an indicator too: before the process's details.
    if let Some(c) = context {
        for (label, value) in [("Threat file", &c.threat_file_path), ("File", &c.file_path)] {
            push(&mut out, label, value.as_ref(), FieldKind::Path);
        }
    }
    if let Some(p) = f.process() {
        push(&mut out, "User", p.user.as_ref(), FieldKind::Name);
        push(
            &mut out,
            "Working directory",
            p.pwd.as_ref(),
            FieldKind::Path,
        );
        if !p.lineage.is_empty() {
            let names: Vec<&str> = p
                .lineage
                .iter()
                .filter_map(|l| l.name.as_ref())
                .map(|n| n.as_raw())
                .take(16)
                .collect();
            out.push(Fact::built("Lineage", names.join(" < "), FieldKind::Path));
        }
    }
    if let Some(c) = context {
        let details = [
            ("Script", &c.script_path, FieldKind::Path),
            ("Library", &c.library_path, FieldKind::Path),
            ("LD_PRELOAD", &c.ld_preload_value, FieldKind::CommandLine),
            ("Socket", &c.socket_path, FieldKind::Path),
            ("runc binary", &c.runc_binary_path, FieldKind::Path),
            ("Release agent", &c.release_agent_path, FieldKind::Path),
            ("Mount source", &c.mount_source, FieldKind::Path),
            ("Mount target", &c.mount_target, FieldKind::Path),
            ("Kernel module", &c.module_name, FieldKind::Name),
            ("Module file", &c.module_file_path, FieldKind::Path),
            ("Tool", &c.tool_name, FieldKind::Name),
            ("Tool category", &c.tool_category, FieldKind::Name),
            ("Service", &c.service_name, FieldKind::Name),
        ];
        for (label, value, kind) in details {
            push(&mut out, label, value.as_ref(), kind);
        }
        if let Some(t) = &c.target_process {
            process_facts(&mut out, "Target process", t);
        }
        if let Some(m) = &c.modifying_process {
            process_facts(&mut out, "Modifying process", m);
        }
    }
    out
}

fn process_facts<'a>(out: &mut Vec<Fact<'a>>, label: &'static str, p: &'a Process) {
    let name = p.name.as_ref().map(|n| n.as_raw()).unwrap_or("?");
    out.push(match p.pid {
        Some(pid) => {
            let value = [name, " (pid ", itoa::Buffer::new().format(pid), ")"].concat();
            Fact::built(label, value, FieldKind::Name)
        }
        None => Fact::new(label, name, FieldKind::Name),
    });
    push(
        out,
        match label {
            "Process" => "Executable",
            "Target process" => "Target executable",
            _ => "Modifying executable",
        },
        p.executable_path.as_ref(),
        FieldKind::Path,
    );
}
