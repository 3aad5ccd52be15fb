//! The fault matrix's engine: fault classes, the verdict of one cell, the result table.
//!
//! A cell is (surface, one AWS call of its containment, one fault class). The calls are
//! read from the proxy's log of a clean containment, so a call a new action adds joins the
//! matrix by itself. Each cell contains a fresh world with the fault injected on every
//! matching call, judges what it finds, then clears the fault and checks that a re-delivery
//! converges and that release restores the world.

use crate::kube_api::KubeFault;
use crate::proxy::{Call, Fault};
use std::collections::BTreeSet;
use std::time::Duration;

/// How one AWS call fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultClass {
    /// Throttled twice, then answered: the SDK's backoff recovers.
    ThrottledThenOk,
    /// Throttled on every attempt: retries run out.
    ThrottledAlways,
    /// 503 on every attempt.
    ServerError,
    /// Processed by AWS, but answered after the client's attempt timeout, every attempt.
    Timeout,
    AccessDenied,
    NotFound,
    /// Processed by AWS, answered with half its body, once.
    Truncated,
}

impl FaultClass {
    pub const ALL: [FaultClass; 7] = [
        FaultClass::ThrottledThenOk,
        FaultClass::ThrottledAlways,
        FaultClass::ServerError,
        FaultClass::Timeout,
        FaultClass::AccessDenied,
        FaultClass::NotFound,
        FaultClass::Truncated,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FaultClass::ThrottledThenOk => "throttled, then ok",
            FaultClass::ThrottledAlways => "throttled always",
            FaultClass::ServerError => "5xx",
            FaultClass::Timeout => "timeout",
            FaultClass::AccessDenied => "AccessDenied",
            FaultClass::NotFound => "NotFound",
            FaultClass::Truncated => "truncated",
        }
    }

    /// A region of its own per class: the SDK's retry quota is shared per service and
    /// region, and the always-failing classes drain it.
    pub fn region(self) -> &'static str {
        match self {
            FaultClass::ThrottledThenOk => "us-west-2",
            FaultClass::ThrottledAlways => "eu-central-1",
            FaultClass::ServerError => "ap-southeast-2",
            FaultClass::Timeout => "ca-central-1",
            FaultClass::AccessDenied => "eu-north-1",
            FaultClass::NotFound => "eu-west-3",
            FaultClass::Truncated => "sa-east-1",
        }
    }

    /// The fault for `action` of `service` (the SigV4 signing name).
    pub fn fault(self, service: &str, action: &str) -> Fault {
        let ec2 = service == "ec2";
        let name = format!("{service}:{action}");
        match self {
            FaultClass::ThrottledThenOk | FaultClass::ThrottledAlways => {
                let code = if ec2 {
                    "RequestLimitExceeded"
                } else {
                    "ThrottlingException"
                };
                let times = (self == FaultClass::ThrottledThenOk).then_some(2);
                Fault::error(&name, 400, code, times)
            }
            FaultClass::ServerError => Fault::error(&name, 503, "ServiceUnavailable", None),
            FaultClass::Timeout => Fault {
                late: Some(LATE),
                ..Fault::error(&name, 200, "", None)
            },
            FaultClass::AccessDenied => {
                let code = if ec2 {
                    "UnauthorizedOperation"
                } else {
                    "AccessDeniedException"
                };
                Fault::error(&name, 403, code, None)
            }
            FaultClass::NotFound => {
                Fault::error(&name, 400, &not_found_code(service, action), None)
            }
            FaultClass::Truncated => Fault {
                truncate: true,
                ..Fault::error(&name, 200, "", Some(1))
            },
        }
    }
}

impl FaultClass {
    /// The fault for a Kubernetes API call (`"patch pods"`). A timeout is the API server's
    /// load balancer giving up after the server acted (504): the client's own read timeout
    /// (15 s) is too long for the matrix.
    pub fn kube_fault(self, call: &str) -> KubeFault {
        let fault = |status, times| KubeFault {
            call: call.into(),
            status,
            after: false,
            truncate: false,
            retry_after: false,
            times,
        };
        match self {
            FaultClass::ThrottledThenOk => KubeFault {
                retry_after: true,
                ..fault(429, Some(2))
            },
            FaultClass::ThrottledAlways => KubeFault {
                retry_after: true,
                ..fault(429, None)
            },
            FaultClass::ServerError => fault(503, None),
            FaultClass::Timeout => KubeFault {
                after: true,
                ..fault(504, None)
            },
            FaultClass::AccessDenied => fault(403, None),
            FaultClass::NotFound => fault(404, None),
            FaultClass::Truncated => KubeFault {
                after: true,
                truncate: true,
                ..fault(200, Some(1))
            },
        }
    }
}

/// The Kubernetes calls a clean run made, as `k8s:<verb> <resource>`, in order.
pub fn kube_calls_of(log: &[crate::kube_api::Request]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    log.iter()
        .filter_map(|r| r.call())
        .map(|c| format!("k8s:{c}"))
        .filter(|k| seen.insert(k.clone()))
        .collect()
}

/// How late a [`FaultClass::Timeout`] answer comes.
pub const LATE: Duration = Duration::from_millis(900);
/// The executor's per-attempt timeout in the matrix (production: 5 s).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(300);
/// The executor's per-operation timeout in the matrix (production: 20 s).
pub const OPERATION_TIMEOUT: Duration = Duration::from_millis(2500);

/// The code AWS answers when the named resource does not exist.
fn not_found_code(service: &str, action: &str) -> String {
    if service != "ec2" {
        return "ResourceNotFoundException".into();
    }
    let noun = [
        ("NetworkInterface", "InvalidNetworkInterfaceID.NotFound"),
        ("NetworkAcl", "InvalidNetworkAclID.NotFound"),
        ("SecurityGroup", "InvalidGroup.NotFound"),
        ("VpcEndpoint", "InvalidVpcEndpointId.NotFound"),
        ("Snapshot", "InvalidVolume.NotFound"),
        ("Volume", "InvalidVolume.NotFound"),
        ("Subnet", "InvalidSubnetID.NotFound"),
    ];
    noun.iter()
        .find(|(n, _)| action.contains(n))
        .map(|(_, c)| (*c).to_owned())
        .unwrap_or_else(|| "InvalidInstanceID.NotFound".into())
}

/// The distinct `service:action` pairs a clean run called, in order of first call.
pub fn calls_of(log: &[Call]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    log.iter()
        .map(|c| format!("{}:{}", c.service, c.action))
        .filter(|k| seen.insert(k.clone()))
        .collect()
}

/// What a cell found right after the faulted containment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// Isolated, and the outcome says so.
    Contained,
    /// Isolated, but a step failed: the invocation fails, is retried, and the alert says
    /// FAILED; the retry finds it done.
    ContainedStepFailed,
    /// Not isolated; the invocation fails (retried, then the DLQ) and the alert says FAILED.
    FailedRetried,
    /// Not isolated because AWS said the resource is gone; the alert says so.
    SkippedGone,
    /// Isolated, but the undo record could not be written or sealed: the alert says FAILED
    /// and why, re-deliveries keep failing to the DLQ, and release refuses the record
    /// (changing nothing): a person restores from the first alert.
    UndoByHand,
}

impl Verdict {
    pub fn text(self) -> &'static str {
        match self {
            Verdict::Contained => "contained",
            Verdict::ContainedStepFailed => "contained; a step failed → retried",
            Verdict::FailedRetried => "failed → retried, DLQ, alert FAILED",
            Verdict::SkippedGone => "skipped: resource gone (alerted)",
            Verdict::UndoByHand => "contained; release refuses the record: undo by hand",
        }
    }
}

/// What was seen in a cell, for the verdict.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The world checked directly: the resource is isolated.
    pub isolated: bool,
    /// Something left between states (e.g. an ENI in the conversion group).
    pub half_open: Option<String>,
    /// The isolation outcome's status name.
    pub isolation_status: String,
    /// Any outcome failed (the handler then fails the invocation).
    pub any_failed: bool,
    /// The rendered alert marks the failure.
    pub alert_says_failed: bool,
}

/// The verdict, or why the cell breaks the guarantee (never silently lost, never
/// half-open, never claiming what is not so).
pub fn judge(class: FaultClass, s: &Seen) -> Result<Verdict, String> {
    if let Some(h) = &s.half_open {
        return Err(format!("left half-open: {h}"));
    }
    if s.any_failed && !s.alert_says_failed {
        return Err("a step failed but the alert does not say FAILED".into());
    }
    let claims = matches!(s.isolation_status.as_str(), "done" | "already_done");
    match (s.isolated, claims, s.any_failed) {
        (true, _, false) => Ok(Verdict::Contained),
        (true, _, true) => Ok(Verdict::ContainedStepFailed),
        (false, true, _) => Err(format!(
            "the outcome says {} but the resource is not isolated",
            s.isolation_status
        )),
        (false, false, true) => Ok(Verdict::FailedRetried),
        (false, false, false)
            if class == FaultClass::NotFound && s.isolation_status == "skipped" =>
        {
            Ok(Verdict::SkippedGone)
        }
        (false, false, false) => Err(format!(
            "not isolated, and nothing failed (isolation {}): the finding would be lost",
            s.isolation_status
        )),
    }
}

/// One row of the result table.
#[derive(Debug, Clone)]
pub struct Row {
    pub surface: &'static str,
    pub call: String,
    pub class: FaultClass,
    pub result: Result<Verdict, String>,
}

/// The result table in Markdown: one row per call, one column per fault class.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from("| surface | AWS call |");
    for c in FaultClass::ALL {
        out.push_str(&format!(" {} |", c.name()));
    }
    out.push_str("\n|---|---|");
    out.push_str(&"---|".repeat(FaultClass::ALL.len()));
    out.push('\n');
    let mut keys: Vec<(&str, &str)> = rows.iter().map(|r| (r.surface, r.call.as_str())).collect();
    keys.dedup();
    for (surface, call) in keys {
        out.push_str(&format!("| {surface} | `{call}` |"));
        for c in FaultClass::ALL {
            let cell = rows
                .iter()
                .find(|r| r.surface == surface && r.call == call && r.class == c)
                .map(|r| match &r.result {
                    Ok(v) => short(*v).to_owned(),
                    Err(e) => format!("**BROKEN**: {e}"),
                })
                .unwrap_or_default();
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    out
}

/// The table's cell text (the legend in docs/reliability.md explains them).
fn short(v: Verdict) -> &'static str {
    match v {
        Verdict::Contained => "contained",
        Verdict::ContainedStepFailed => "contained, retried",
        Verdict::FailedRetried => "retried → DLQ",
        Verdict::SkippedGone => "skipped (gone)",
        Verdict::UndoByHand => "contained, undo by hand",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(isolated: bool, status: &str, failed: bool) -> Seen {
        Seen {
            isolated,
            half_open: None,
            isolation_status: status.into(),
            any_failed: failed,
            alert_says_failed: failed,
        }
    }

    #[test]
    fn verdicts_and_broken_guarantees() {
        let c = FaultClass::AccessDenied;
        assert_eq!(judge(c, &seen(true, "done", false)), Ok(Verdict::Contained));
        assert_eq!(
            judge(c, &seen(true, "failed", true)),
            Ok(Verdict::ContainedStepFailed)
        );
        assert_eq!(
            judge(c, &seen(false, "failed", true)),
            Ok(Verdict::FailedRetried)
        );
        assert!(judge(c, &seen(false, "done", false)).is_err(), "a lie");
        assert!(judge(c, &seen(false, "skipped", false)).is_err(), "lost");
        assert_eq!(
            judge(FaultClass::NotFound, &seen(false, "skipped", false)),
            Ok(Verdict::SkippedGone)
        );
        let mut silent = seen(false, "failed", true);
        silent.alert_says_failed = false;
        assert!(judge(c, &silent).is_err());
        let mut half = seen(true, "done", false);
        half.half_open = Some("eni-1 in the conversion group".into());
        assert!(judge(c, &half).is_err());
    }

    #[test]
    fn faults_name_their_service() {
        let f = FaultClass::AccessDenied.fault("ecs", "TagResource");
        assert_eq!(
            (f.action.as_str(), f.status, f.code.as_str()),
            ("ecs:TagResource", 403, "AccessDeniedException")
        );
        let f = FaultClass::NotFound.fault("ec2", "DescribeNetworkAcls");
        assert_eq!(f.code, "InvalidNetworkAclID.NotFound");
        assert_eq!(FaultClass::ThrottledThenOk.fault("ec2", "X").times, Some(2));
        assert!(FaultClass::Timeout.fault("ec2", "X").late.is_some());
        let regions: BTreeSet<&str> = FaultClass::ALL.iter().map(|c| c.region()).collect();
        assert_eq!(regions.len(), FaultClass::ALL.len());
    }
}
