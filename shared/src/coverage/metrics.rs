//! The coverage function's EMF records (pure): unhealthy resources by type after each
//! audit, and each health change. The type is the only dimension besides the function: a
//! resource's name or id would make one metric per cluster or instance.

use super::audit::AuditReport;
use super::event::{Change, HealthEvent};
use super::resource::ResourceType;
use crate::metrics::{Record, Unit};
use std::time::SystemTime;

/// Unhealthy resources found by an audit, by `Function`, `ResourceType`.
pub const UNHEALTHY_RESOURCES: &str = "UnhealthyResources";
/// One per health-change event, by `Function`, `ResourceType`, `Change`.
pub const COVERAGE_CHANGES: &str = "CoverageChanges";

/// The three types always (0 included, so a graph or alarm sees recovery), `Other` when
/// GuardDuty reports a type this build does not know.
fn type_name(t: &ResourceType) -> &'static str {
    match t {
        ResourceType::Eks => "EKS",
        ResourceType::Ecs => "ECS",
        ResourceType::Ec2 => "EC2",
        ResourceType::Other(_) => "Other",
    }
}

pub fn audit_records(report: &AuditReport, function: &str, now: SystemTime) -> Vec<Record> {
    let count = |name: &str| {
        report
            .unhealthy
            .iter()
            .filter(|u| type_name(&u.resource.resource_type) == name)
            .count()
    };
    let others = count("Other");
    ["EKS", "ECS", "EC2"]
        .into_iter()
        .chain((others > 0).then_some("Other"))
        .map(|t| {
            Record::at(now)
                .dimension("Function", function)
                .dimension("ResourceType", t)
                .metric(UNHEALTHY_RESOURCES, Unit::Count, count(t) as f64)
        })
        .collect()
}

pub fn change_record(event: &HealthEvent, function: &str, now: SystemTime) -> Record {
    let change = match event.change {
        Change::Unhealthy => "unhealthy",
        Change::Healthy => "healthy",
    };
    Record::at(now)
        .dimension("Function", function)
        .dimension("ResourceType", type_name(&event.resource.resource_type))
        .dimension("Change", change)
        .metric(COVERAGE_CHANGES, Unit::Count, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::audit::AuditOptions;
    use crate::coverage::resource::CoveredResource;
    use crate::sanitize::Untrusted;
    use std::collections::BTreeMap;

    fn resource(t: ResourceType, name: &str) -> CoveredResource {
        CoveredResource {
            resource_type: t,
            name: Untrusted::new(name),
            resource_id: Untrusted::new(name),
            account_id: Untrusted::new("123456789012"),
            status: Untrusted::new("UNHEALTHY"),
            issues: vec![],
            details: vec![],
            updated_at: None,
        }
    }

    #[test]
    fn unhealthy_resources_are_counted_by_type_with_zeros_and_no_names() {
        let all = vec![
            resource(ResourceType::Ec2, "i-1"),
            resource(ResourceType::Ec2, "i-2"),
            resource(ResourceType::Eks, "prod"),
            resource(ResourceType::parse("LAMBDA"), "fn"),
        ];
        let opts = AuditOptions::default();
        let report = AuditReport::new(
            "d".into(),
            BTreeMap::new(),
            BTreeMap::new(),
            &opts,
            all,
            None,
        );
        let records = audit_records(&report, "fn-coverage", SystemTime::now());
        let by_type: BTreeMap<String, f64> = records
            .iter()
            .map(|r| {
                let t = r.dimension_value("ResourceType").unwrap().to_owned();
                (t, r.value_of(UNHEALTHY_RESOURCES).unwrap())
            })
            .collect();
        let expected: BTreeMap<String, f64> =
            [("EC2", 2.0), ("ECS", 0.0), ("EKS", 1.0), ("Other", 1.0)]
                .map(|(k, v)| (k.to_owned(), v))
                .into();
        assert_eq!(by_type, expected);
        let text: String = records
            .iter()
            .map(|r| r.to_json().unwrap().to_string())
            .collect();
        assert!(!text.contains("i-1") && !text.contains("prod") && !text.contains("LAMBDA"));
    }
}
