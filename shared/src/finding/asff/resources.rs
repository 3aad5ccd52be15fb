//! ASFF `Resources[]` → the finding's `resource`: the instance, ECS cluster and task, EKS
//! cluster and container Security Hub lists, and whether the target is unambiguous.
//! Security Hub can list several resources of a kind; containment then has no single
//! target, and the finding is only notified with that reason.

use serde_json::{Map, Value, json};

/// The finding's `resource` (camelCase, as GuardDuty writes it) and, when its surface has
/// no single target in the ASFF, why.
pub struct Mapped {
    pub resource: Map<String, Value>,
    pub ambiguity: Option<String>,
}

/// Maps `Resources` onto `base` (the `resource` members GuardDuty flattened into
/// `ProductFields`, which know the workload). `None` when nothing names a resource type.
pub fn map(resources: &Value, mut base: Map<String, Value>) -> Option<Mapped> {
    let all: &[Value] = resources.as_array().map(Vec::as_slice).unwrap_or_default();
    let of = |kind: &str| -> Vec<&Value> {
        all.iter()
            .filter(|r| text(&r["Type"]) == Some(kind))
            .collect()
    };
    let (instances, clusters, tasks, eks, containers) = (
        of("AwsEc2Instance"),
        of("AwsEcsCluster"),
        of("AwsEcsTask"),
        of("AwsEksCluster"),
        of("Container"),
    );
    if let Some(i) = instances.first() {
        base.insert("instanceDetails".into(), instance(i));
    }
    if let Some(c) = containers.first() {
        base.insert("containerDetails".into(), container(c));
    }
    if !clusters.is_empty() || !tasks.is_empty() {
        let mut cluster = clusters.first().map(|c| ecs_cluster(c)).unwrap_or_default();
        if let Some(t) = tasks.first() {
            cluster.insert("taskDetails".into(), task(t));
        }
        base.insert("ecsClusterDetails".into(), Value::Object(cluster));
    }
    if let Some(c) = eks.first() {
        base.insert("eksClusterDetails".into(), eks_cluster(c));
    }
    let derived = [
        (!eks.is_empty(), "EKSCluster"),
        (!clusters.is_empty() || !tasks.is_empty(), "ECSCluster"),
        (!instances.is_empty(), "Instance"),
        (!containers.is_empty(), "Container"),
    ]
    .into_iter()
    .find_map(|(found, t)| found.then_some(t))
    .or_else(|| all.first().and_then(|r| text(&r["Type"])))?;
    if !base.get("resourceType").is_some_and(Value::is_string) {
        base.insert("resourceType".into(), derived.into());
    }
    let ambiguity = match base.get("resourceType").and_then(Value::as_str) {
        Some("Instance" | "Container") => several(&instances, "EC2 instances"),
        Some("ECSCluster") => {
            several(&tasks, "ECS tasks").or_else(|| several(&clusters, "ECS clusters"))
        }
        Some("EKSCluster") => several(&eks, "EKS clusters").or_else(|| unnamed_pod(&base)),
        _ => None,
    };
    Some(Mapped {
        resource: base,
        ambiguity,
    })
}

fn several(found: &[&Value], what: &str) -> Option<String> {
    (found.len() > 1).then(|| {
        format!(
            "the Security Hub finding lists {} {what}, so the target is ambiguous",
            found.len()
        )
    })
}

/// ASFF has no pod resource: only the workload GuardDuty flattened into `ProductFields`
/// names it, and without both its namespace and name no pod can be isolated.
fn unnamed_pod(resource: &Map<String, Value>) -> Option<String> {
    let w = &resource.get("kubernetesDetails").unwrap_or(&Value::Null)["kubernetesWorkloadDetails"];
    let named = text(&w["namespace"]).is_some() && text(&w["name"]).is_some();
    (!named).then(|| {
        "the Security Hub finding does not name the pod (namespace and name), so the target is ambiguous"
            .to_owned()
    })
}

fn instance(r: &Value) -> Value {
    let d = &r["Details"]["AwsEc2Instance"];
    let vpc = &d["VpcId"];
    let subnet = &d["SubnetId"];
    let enis: Vec<Value> = d["NetworkInterfaces"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|n| json!({"networkInterfaceId": n["NetworkInterfaceId"], "vpcId": vpc, "subnetId": subnet}))
        .collect();
    json!({
        "instanceId": id_tail(r, "instance/"),
        "instanceType": d["Type"],
        "imageId": d["ImageId"],
        "launchTime": d["LaunchedAt"],
        "networkInterfaces": enis,
        "tags": tags(r),
    })
}

fn ecs_cluster(r: &Value) -> Map<String, Value> {
    let d = &r["Details"]["AwsEcsCluster"];
    let name = text(&d["ClusterName"])
        .map(Value::from)
        .unwrap_or_else(|| id_tail(r, "cluster/"));
    let mut m = Map::new();
    m.insert("name".into(), name);
    m.insert("arn".into(), r["Id"].clone());
    m.insert("tags".into(), tags(r));
    m
}

fn task(r: &Value) -> Value {
    let d = &r["Details"]["AwsEcsTask"];
    json!({
        "arn": r["Id"],
        "definitionArn": d["TaskDefinitionArn"],
        "version": d["Version"],
        "startedBy": d["StartedBy"],
        "group": d["Group"],
        "createdAt": d["CreatedAt"],
        "startedAt": d["StartedAt"],
        "tags": tags(r),
    })
}

fn eks_cluster(r: &Value) -> Value {
    let d = &r["Details"]["AwsEksCluster"];
    let name = text(&d["Name"])
        .map(Value::from)
        .unwrap_or_else(|| id_tail(r, "cluster/"));
    json!({"name": name, "arn": r["Id"], "tags": tags(r)})
}

fn container(r: &Value) -> Value {
    let d = &r["Details"]["Container"];
    json!({"id": r["Id"], "name": d["Name"], "image": d["ImageName"]})
}

/// The id after `marker` in an ARN resource id (`…:instance/i-…`), or the id itself.
fn id_tail(r: &Value, marker: &str) -> Value {
    match text(&r["Id"]) {
        Some(id) => id.rsplit_once(marker).map_or(id, |(_, tail)| tail).into(),
        None => Value::Null,
    }
}

/// ASFF tags are a map; the model reads GuardDuty's `[{key, value}]`.
fn tags(r: &Value) -> Value {
    let pairs = r["Tags"].as_object().into_iter().flatten();
    Value::Array(pairs.map(|(k, v)| json!({"key": k, "value": v})).collect())
}

pub fn text(v: &Value) -> Option<&str> {
    v.as_str().filter(|s| !s.is_empty())
}
