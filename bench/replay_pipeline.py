#!/usr/bin/env python3
"""The comparison for the replay throughput benchmark: a straightforward Python
implementation of the same pure pipeline as `responder replay --output json`, written the
way one would write it in Python (standard library only, no attempt to be slow or clever):

parse an `aws guardduty get-findings` export (PascalCase keys → camelCase), classify each
finding (threat family from the type, surface from the resource type, severity label),
decide with the default playbook and its guardrails (samples, archived, protected
namespaces), build the plan (actions per surface) and the notification in plain text,
Slack Block Kit and HTML, every attacker-controlled value neutralised (control, bidi,
zero-width and other invisible characters), bounded, and escaped per channel; then print
one JSON document {"plans": [...], "not_findings": []}.

    python3 bench/replay_pipeline.py export.json > plans.json
"""
import html
import json
import re
import sys

PROTECTED_NAMESPACES = {"kube-system", "amazon-guardduty"}
FAMILIES = {"Execution", "DefenseEvasion", "PrivilegeEscalation", "Persistence", "Impact",
            "Backdoor", "CryptoCurrency", "Trojan", "UnauthorizedAccess", "Discovery",
            "CredentialAccess", "Recon", "Policy", "Stealth", "PenTest"}
# C0/C1 controls, bidi controls, zero-width and other invisible format characters, tags.
INVISIBLE = re.compile("[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f"
                       "\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]")
K8S_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")
SLACK_SPECIAL = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def camel(value):
    if isinstance(value, dict):
        return {("sourceIPs" if k == "SourceIps" else k[:1].lower() + k[1:]): camel(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


def neutralise(value, limit):
    text = INVISIBLE.sub("\ufffd", str(value))
    return text if len(text) <= limit else text[:limit] + "…"


def classify(finding):
    ftype = finding.get("type", "")
    purpose = ftype.split(":", 1)[0]
    family = purpose if purpose in FAMILIES else f"Unknown({purpose})"
    resource_type = finding.get("resource", {}).get("resourceType", "")
    surface = {"Instance": "ec2", "ECSCluster": "ecs", "EKSCluster": "eks"}.get(resource_type, "unknown")
    if surface == "unknown" and resource_type == "Container":
        surface = "ec2"  # a standalone container: its host instance is contained
    severity = float(finding.get("severity", 0))
    label = ("Critical" if severity >= 9 else "High" if severity >= 7
             else "Medium" if severity >= 4 else "Low")
    return {
        "family": "AttackSequence" if ftype.startswith("AttackSequence:") else family,
        "surface": surface, "severity": severity, "severity_label": label,
        "runtime": ":Runtime/" in ftype, "sequence": ftype.startswith("AttackSequence:"),
    }


def service(finding):
    return finding.get("service", {}) or {}


def is_sample(finding):
    info = service(finding).get("additionalInfo", {}) or {}
    value = str(info.get("value", "")).replace(" ", "")
    return info.get("sample") is True or '"sample":true' in value


def decide(finding, c):
    if not c["runtime"] and not c["sequence"]:
        return "ignore", "not a Runtime Monitoring finding type (*:Runtime/*) or an attack sequence"
    if service(finding).get("archived"):
        return "ignore", "the finding is archived"
    if c["family"] in ("AttackSequence", "Discovery") or c["family"].startswith("Unknown"):
        return "notify", f"playbook rule ({c['severity_label']} {c['family']}, {c['surface']})"
    if c["severity"] < 7:
        return "notify", "no playbook rule matched; Runtime findings are notified by default"
    if is_sample(finding):
        return "notify", "SAMPLE finding: samples are never contained"
    if c["surface"] == "unknown":
        return "notify", "this resource type has no containment executor"
    workload = finding.get("resource", {}).get("kubernetesDetails", {}).get("kubernetesWorkloadDetails", {})
    if c["surface"] == "eks" and workload.get("namespace") in PROTECTED_NAMESPACES:
        return "notify", "the workload runs in a protected Kubernetes namespace"
    return "contain", f"playbook rule 4 ({c['severity_label']} {c['family']}, {c['surface']})"


def actions(finding, c):
    resource = finding.get("resource", {})
    if c["surface"] == "ec2":
        instance = resource.get("instanceDetails", {}).get("instanceId", "")
        return [{"kind": k, "target": {"instance_id": instance}} for k in
                ("ec2.tag_quarantine", "ec2.snapshot_volumes", "ec2.isolate_network", "ec2.detach_from_asg")]
    if c["surface"] == "ecs":
        task = resource.get("ecsClusterDetails", {}).get("taskDetails", {}).get("arn", "")
        return [{"kind": k, "target": {"task_arn": task}} for k in
                ("ecs.tag_task", "ecs.isolate_task", "ecs.deregister_targets")]
    if c["surface"] == "eks":
        workload = resource.get("kubernetesDetails", {}).get("kubernetesWorkloadDetails", {})
        target = {"cluster": resource.get("eksClusterDetails", {}).get("name", ""),
                  "namespace": workload.get("namespace", ""), "name": workload.get("name", "")}
        return [{"kind": k, "target": target} for k in ("eks.label_pod", "eks.isolate_pod", "eks.cordon_node")]
    return []


def facts(finding):
    runtime = service(finding).get("runtimeDetails", {}) or {}
    process = runtime.get("process", {}) or {}
    pairs = [("Finding", finding.get("type", "")), ("Account", finding.get("accountId", "")),
             ("Region", finding.get("region", "")), ("Title", finding.get("title", "")),
             ("Description", finding.get("description", "")),
             ("Process", process.get("name", "")), ("Executable", process.get("executablePath", "")),
             ("Command line", process.get("commandLine", "") or process.get("executableSha256", ""))]
    return [(k, neutralise(v, 1024)) for k, v in pairs if v]


def notification(finding, c, decision, reason, planned):
    subject = neutralise(f"[{c['severity_label']}] {decision}: {finding.get('type', '')} in "
                         f"{finding.get('accountId', '')}", 100)
    lines = facts(finding)
    text = "\n".join([subject, f"Decision: {decision} — {reason}"]
                     + [f"{k}: {v}" for k, v in lines]
                     + [f"Action: {a['kind']} on {json.dumps(a['target'])}" for a in planned]) + "\n"
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in lines)
    page = (f"<html><body><h1>{html.escape(subject)}</h1><p>{html.escape(decision)}: "
            f"{html.escape(reason)}</p><table>{rows}</table></body></html>")
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": subject[:150]}},
              {"type": "section", "text": {"type": "mrkdwn", "verbatim": True,
                                           "text": f"*{decision}*: {reason}".translate(SLACK_SPECIAL)}}]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "verbatim": True,
                                            "text": f"*{k}*: `{v.replace('`', 'ˋ').translate(SLACK_SPECIAL)}`"}}
               for k, v in lines]
    return {"subject": subject, "text": text, "html": page, "slack": {"text": subject, "blocks": blocks}}


def plan(finding):
    c = classify(finding)
    decision, reason = decide(finding, c)
    planned = actions(finding, c) if decision == "contain" else []
    invalid = [a for a in planned for k in ("namespace", "name")
               if k in a["target"] and not K8S_NAME.fullmatch(a["target"][k])]
    if invalid:
        decision, reason, planned = "notify", "cannot contain: the finding's workload name is not a valid identifier", []
    return {
        "finding_id": finding["id"], "finding_type": finding["type"], "family": c["family"],
        "surface": c["surface"], "severity": c["severity"], "severity_label": c["severity_label"],
        "account_id": finding["accountId"], "region": finding["region"],
        "sample": is_sample(finding), "decision": decision, "reason": reason, "actions": planned,
        "notification": notification(finding, c, decision, reason, planned),
        "outcomes": [], "deliveries": [], "repeat": False,
    }


def main():
    with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
        export = json.load(f)
    plans = [plan(camel(finding)) for finding in export["Findings"]]
    json.dump({"plans": plans, "not_findings": []}, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
