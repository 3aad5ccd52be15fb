//! Kubernetes API errors turned into outcome text that says what to fix.

use crate::sanitize::neutralise;
use std::fmt;

/// A failed Kubernetes call: what was attempted and what the API server said.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub code: Option<u16>,
    pub unauthorized: bool,
    message: String,
}

impl ApiError {
    /// `verb` and `resource` name the RBAC rule a 403 is about.
    pub fn new(e: &kube::Error, verb: &str, resource: &str) -> ApiError {
        match e {
            kube::Error::Api(s) => {
                let msg = neutralise(&s.message, 400);
                let message = match s.code {
                    401 => format!(
                        "401 Unauthorized: the API server rejected the token; check the EKS access entry for the responder's role ({msg})"
                    ),
                    403 => format!(
                        "403 Forbidden: RBAC does not allow {verb} on {resource}; the responder's ClusterRole needs it ({msg})"
                    ),
                    code => format!("{code} {}: {msg}", neutralise(&s.reason, 60)),
                };
                ApiError {
                    code: Some(s.code),
                    unauthorized: s.code == 401,
                    message,
                }
            }
            other => ApiError {
                code: None,
                unauthorized: false,
                message: format!("{verb} {resource}: {}", neutralise(&other.to_string(), 400)),
            },
        }
    }

    pub fn is(&self, code: u16) -> bool {
        self.code == Some(code)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The status code of a kube error, if the API server answered.
pub(crate) fn code(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}
