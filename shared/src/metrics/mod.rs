//! The responder's own metrics, as CloudWatch Embedded Metric Format records in the
//! function's log: what it decided, what it did and how fast, where its messages went, and
//! what GuardDuty cannot see. [`emf`] builds one record; [`response`] and the coverage
//! function say which; [`emit`] writes them to stdout, where Lambda collects the log.
//! Terraform's dashboard and alarms (`infra/modules/responder/dashboard.tf`, `alarms.tf`)
//! read these names.

pub mod emf;
#[cfg(feature = "notify")]
pub mod response;

pub use emf::{NAMESPACE, Record, Unit};

/// Writes each record as one line on stdout. A record the specification would refuse is
/// logged instead of written (a metric is never worth a panic), as is a failed write.
pub fn emit(records: &[Record]) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for r in records {
        match r.to_json() {
            Ok(v) => {
                let _ = writeln!(out, "{v}");
            }
            Err(e) => tracing::warn!(error = %e, "metric record not written"),
        }
    }
}
