//! GuardDuty's coverage operations: `GetCoverageStatistics` and `ListCoverage` (filtered,
//! `nextToken` pagination), and the `ListCoverage` records tests put in the world.

use super::{World, bad_request, reply};
use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;
use serde_json::{Value, json};

/// `filterCriteria.filterCriterion[]` with `equals` on COVERAGE_STATUS, RESOURCE_TYPE,
/// ACCOUNT_ID, INSTANCE_ID, ECS_CLUSTER_NAME, EKS_CLUSTER_NAME.
fn matches(resource: &Value, filter: &Value) -> bool {
    let Some(list) = filter["filterCriterion"].as_array() else {
        return true;
    };
    list.iter().all(|c| {
        let field = match c["criterionKey"].as_str() {
            Some("COVERAGE_STATUS") => &resource["coverageStatus"],
            Some("RESOURCE_TYPE") => &resource["resourceDetails"]["resourceType"],
            Some("ACCOUNT_ID") => &resource["accountId"],
            Some("INSTANCE_ID") => &resource["resourceDetails"]["ec2InstanceDetails"]["instanceId"],
            Some("ECS_CLUSTER_NAME") => {
                &resource["resourceDetails"]["ecsClusterDetails"]["clusterName"]
            }
            Some("EKS_CLUSTER_NAME") => {
                &resource["resourceDetails"]["eksClusterDetails"]["clusterName"]
            }
            _ => return true,
        };
        c["filterCondition"]["equals"]
            .as_array()
            .is_none_or(|eq| eq.iter().any(|v| v == field))
    })
}

/// `GetCoverageStatistics`: the matching resources counted by status and by type.
pub(super) fn statistics(world: &World, body: &Value) -> Response<Full<Bytes>> {
    let mut by_status = serde_json::Map::new();
    let mut by_type = serde_json::Map::new();
    for r in world
        .resources
        .iter()
        .filter(|r| matches(r, &body["filterCriteria"]))
    {
        for (map, key) in [
            (&mut by_status, r["coverageStatus"].as_str()),
            (&mut by_type, r["resourceDetails"]["resourceType"].as_str()),
        ] {
            if let Some(k) = key {
                let n = map.get(k).and_then(Value::as_i64).unwrap_or(0);
                map.insert(k.to_owned(), json!(n + 1));
            }
        }
    }
    let types: Vec<&str> = body["statisticsType"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut stats = serde_json::Map::new();
    if types.contains(&"COUNT_BY_COVERAGE_STATUS") {
        stats.insert("countByCoverageStatus".into(), Value::Object(by_status));
    }
    if types.contains(&"COUNT_BY_RESOURCE_TYPE") {
        stats.insert("countByResourceType".into(), Value::Object(by_type));
    }
    reply(200, json!({"coverageStatistics": stats}), None)
}

/// `ListCoverage`: the matching resources, a page at a time.
pub(super) fn list(world: &World, body: &Value) -> Response<Full<Bytes>> {
    let all: Vec<&Value> = world
        .resources
        .iter()
        .filter(|r| matches(r, &body["filterCriteria"]))
        .collect();
    let start: usize = match body["nextToken"].as_str() {
        None | Some("") => 0,
        Some(t) => match t.strip_prefix("page-").and_then(|n| n.parse().ok()) {
            Some(n) => n,
            None => return bad_request("invalid nextToken"),
        },
    };
    let size = body["maxResults"]
        .as_u64()
        .map(|m| m as usize)
        .unwrap_or(usize::MAX)
        .min(world.page_size.max(1));
    let end = (start + size).min(all.len());
    let page: Vec<&Value> = all.get(start..end).unwrap_or_default().to_vec();
    let mut out = json!({"resources": page});
    if end < all.len() {
        out["nextToken"] = json!(format!("page-{end}"));
    }
    reply(200, out, None)
}

/// A `ListCoverage` record for an EKS cluster.
pub fn eks(account: &str, cluster: &str, status: &str, issue: Option<&str>) -> Value {
    json!({
        "resourceId": cluster, "detectorId": "d", "accountId": account,
        "resourceDetails": {"resourceType": "EKS", "eksClusterDetails": {
            "clusterName": cluster, "coveredNodes": 1, "compatibleNodes": 3,
            "addonDetails": {"addonVersion": "v1.5.0-eksbuild.1", "addonStatus": "ACTIVE"},
            "managementType": "AUTO_MANAGED"}},
        "coverageStatus": status, "issue": issue, "updatedAt": 1716918911.123
    })
}

/// A `ListCoverage` record for an EC2 instance.
pub fn ec2(account: &str, instance: &str, status: &str, issue: Option<&str>) -> Value {
    json!({
        "resourceId": instance, "detectorId": "d", "accountId": account,
        "resourceDetails": {"resourceType": "EC2", "ec2InstanceDetails": {
            "instanceId": instance, "instanceType": "m6g.large", "managementType": "AUTO_MANAGED",
            "agentDetails": {"version": "1.6.0"}}},
        "coverageStatus": status, "issue": issue, "updatedAt": 1716918911
    })
}

/// A `ListCoverage` record for an ECS cluster on Fargate with `issues[]`.
pub fn ecs(account: &str, cluster: &str, status: &str, issues: &[&str]) -> Value {
    json!({
        "resourceId": cluster, "detectorId": "d", "accountId": account,
        "resourceDetails": {"resourceType": "ECS", "ecsClusterDetails": {
            "clusterName": cluster,
            "fargateDetails": {"issues": issues, "managementType": "AUTO_MANAGED"}}},
        "coverageStatus": status, "updatedAt": 1716918911
    })
}
