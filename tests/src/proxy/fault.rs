//! What the proxy answers instead of AWS for a chosen action: an error, a canned body, a
//! late or truncated answer after forwarding.

use std::time::Duration;

/// Answer `action` with an error instead of forwarding it.
#[derive(Debug, Clone)]
pub struct Fault {
    /// The AWS action, e.g. `ModifyInstanceAttribute`, or `<service>:<action>` (the
    /// SigV4 signing name, e.g. `ecs:TagResource`) where several services share a name.
    pub action: String,
    pub status: u16,
    /// The error code, e.g. `UnauthorizedOperation`, `AccessDenied`, `Throttling`.
    pub code: String,
    /// How many calls to fail; `None` fails every call.
    pub times: Option<usize>,
    /// Answer with this body instead of an error document built from `code`.
    pub body: Option<String>,
    /// How many matching calls to forward before failing (e.g. 1: fail from the second).
    pub skip: usize,
    /// Forward the call, then answer only after this long (the client's timeout fires
    /// while AWS has already acted).
    pub late: Option<Duration>,
    /// Forward the call, then answer with only the first half of AWS's body.
    pub truncate: bool,
}

impl Fault {
    /// An error answer for `action` (the call is not forwarded).
    pub fn error(action: &str, status: u16, code: &str, times: Option<usize>) -> Fault {
        Fault {
            action: action.into(),
            status,
            code: code.into(),
            times,
            body: None,
            skip: 0,
            late: None,
            truncate: false,
        }
    }
}

impl Fault {
    pub(super) fn matches(&self, service: &str, action: &str) -> bool {
        !action.is_empty()
            && (self.action == action || self.action.split_once(':') == Some((service, action)))
            && self.times != Some(0)
    }
}
