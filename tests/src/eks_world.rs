//! An EKS world for the EKS executor's tests: a cluster in moto (DescribeCluster), a node
//! instance in an Auto Scaling group in moto, and the cluster's objects in a local
//! [`KubeApi`]; an executor whose connection seam swaps moto's made-up endpoint and
//! random-bytes CA for the local server's.

use crate::kube_api::KubeApi;
use crate::world::{self, Aws, Instance};
use responder::actions::eks::release::Request as ReleaseRequest;
use responder::actions::eks::{ClusterClients, Connection, EksExecutor};
use responder::ids::{ClusterName, K8sName, Region};
use responder::playbook::Guardrails;
use responder::{Config, ResponsePlan};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const REGION: &str = "eu-west-1";

/// A lowercase unique suffix for names (cluster, group, pods).
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", &world::unique_finding_id()[8..24])
}

pub struct EksWorld {
    pub aws: Aws,
    pub api: KubeApi,
    pub cluster: String,
    pub node: String,
    pub instance: Instance,
    pub asg: String,
    /// What DescribeCluster returned for each client built (before the rewrite).
    pub described: Arc<Mutex<Vec<(String, Connection)>>>,
}

/// Creates the cluster in moto and the node's instance (in its own Auto Scaling group);
/// the node object and the `aws-node` DaemonSet with its pod (VPC CNI with network
/// policy on, if `policy_engine`) go into a fresh local API server.
pub async fn eks_world(policy_engine: bool) -> EksWorld {
    let aws = Aws::moto(REGION).await;
    let cluster = unique("eks");
    let eks = aws_sdk_eks::Client::new(&aws.config);
    let net = world::network(&aws).await;
    eks.create_cluster()
        .name(&cluster)
        .role_arn("arn:aws:iam::123456789012:role/eks-cluster")
        .resources_vpc_config(
            aws_sdk_eks::types::VpcConfigRequest::builder()
                .subnet_ids(&net.subnet_a)
                .subnet_ids(&net.subnet_b)
                .build(),
        )
        .send()
        .await
        .expect("CreateCluster");
    let asg = unique("eks-nodes");
    let instance = world::asg_member(&aws, &net, &asg).await;
    let api = KubeApi::start().await;
    let node = format!("ip-10-0-{}.{REGION}.compute.internal", &instance.id[2..8]);
    api.put(node_object(&node, &instance.id));
    if policy_engine {
        api.put(aws_node_pod(&node, true));
        api.put(aws_node_daemonset(true));
    }
    EksWorld {
        aws,
        api,
        cluster,
        node,
        instance,
        asg,
        described: Arc::new(Mutex::new(Vec::new())),
    }
}

impl EksWorld {
    /// The cluster clients: the production path (DescribeCluster against moto), with the
    /// endpoint and CA rewritten to the local server's.
    pub fn clients(&self, ttl: Option<Duration>) -> ClusterClients {
        let local = self.api.connection();
        let seen = self.described.clone();
        let clients = ClusterClients::new(&self.aws.config).with_connection_rewrite(Arc::new(
            move |cluster: &str, from_moto: Connection| {
                seen.lock().unwrap().push((cluster.to_owned(), from_moto));
                local.clone()
            },
        ));
        match ttl {
            Some(t) => clients.with_token_ttl(t),
            None => clients,
        }
    }

    pub fn executor(&self, guardrails: &Guardrails) -> EksExecutor {
        EksExecutor::with_clients(&self.aws.config, guardrails, self.clients(None))
    }

    /// A Deployment's pod on the world's node, running `container_id`.
    pub fn deployment_pod(
        &self,
        ns: &str,
        deployment: &str,
        suffix: &str,
        container_id: &str,
    ) -> Value {
        let rs = format!("{deployment}-7d4b9c8f5");
        self.api.put(pod_object(
            ns,
            &format!("{rs}-{suffix}"),
            &self.node,
            container_id,
            json!({"app": deployment, "tier": "frontend", "pod-template-hash": "7d4b9c8f5"}),
            Some(("ReplicaSet", &rs)),
        ))
    }

    /// A finding about `workload` (`type`: `pods`, `deployments`, …) in this world.
    pub fn finding(
        &self,
        finding_id: &str,
        ns: &str,
        workload: &str,
        workload_type: &str,
        container_id: &str,
    ) -> Vec<u8> {
        finding_event(
            finding_id,
            &self.cluster,
            ns,
            workload,
            workload_type,
            container_id,
            &self.instance.id,
        )
    }

    pub async fn termination_protected(&self) -> Option<bool> {
        world::instance_attribute_bool(&self.aws, &self.instance.id).await
    }

    pub async fn scale_in_protected(&self) -> Option<bool> {
        self.aws
            .asg
            .describe_auto_scaling_instances()
            .instance_ids(&self.instance.id)
            .send()
            .await
            .expect("DescribeAutoScalingInstances")
            .auto_scaling_instances()
            .first()
            .and_then(|i| i.protected_from_scale_in())
    }
}

pub fn node_object(name: &str, instance_id: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "eks.amazonaws.com/nodegroup": "general",
                "topology.kubernetes.io/zone": "eu-west-1a",
            },
        },
        "spec": { "providerID": format!("aws:///eu-west-1a/{instance_id}") },
        "status": { "conditions": [{ "type": "Ready", "status": "True" }] },
    })
}

pub fn pod_object(
    ns: &str,
    name: &str,
    node: &str,
    container_id: &str,
    labels: Value,
    owner: Option<(&str, &str)>,
) -> Value {
    let owners: Vec<Value> = owner
        .into_iter()
        .map(|(kind, n)| {
            json!({"apiVersion": "apps/v1", "kind": kind, "name": n, "uid": "0e9d8c7b-0000-4000-8000-000000000001", "controller": true})
        })
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": labels,
            "annotations": { "kubernetes.io/psp": "eks.privileged" },
            "ownerReferences": owners,
        },
        "spec": {
            "nodeName": node,
            "containers": [{ "name": "web", "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.42.0" }],
        },
        "status": {
            "phase": "Running",
            "containerStatuses": [{
                "name": "web",
                "containerID": format!("containerd://{container_id}"),
                "image": "web:1.42.0",
                "imageID": "sha256:0",
                "ready": true,
                "restartCount": 0,
            }],
        },
    })
}

/// The VPC CNI's pod; its node agent enforces NetworkPolicies when the flag is on.
pub fn aws_node_pod(node: &str, network_policy: bool) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": format!("aws-node-{}", &node[..8]),
            "namespace": "kube-system",
            "labels": { "k8s-app": "aws-node" },
        },
        "spec": {
            "nodeName": node,
            "containers": [
                { "name": "aws-node", "image": "amazon-k8s-cni:v1.19.0" },
                { "name": "aws-eks-nodeagent", "image": "aws-network-policy-agent:v1.1.5",
                  "args": ["--enable-ipv6=false", format!("--enable-network-policy={network_policy}")] },
            ],
        },
        "status": { "phase": "Running" },
    })
}

/// The VPC CNI's DaemonSet in `kube-system`, with one ready pod; its node agent enforces
/// NetworkPolicies when the flag is on.
pub fn aws_node_daemonset(network_policy: bool) -> Value {
    daemonset(
        "kube-system",
        "aws-node",
        json!({ "k8s-app": "aws-node" }),
        json!([
            { "name": "aws-node", "image": "amazon-k8s-cni:v1.19.0" },
            { "name": "aws-eks-nodeagent", "image": "aws-network-policy-agent:v1.1.5",
              "args": ["--enable-ipv6=false", format!("--enable-network-policy={network_policy}")] },
        ]),
    )
}

/// A DaemonSet with one ready pod.
pub fn daemonset(ns: &str, name: &str, labels: Value, containers: Value) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": { "name": name, "namespace": ns, "labels": labels },
        "spec": {
            "selector": { "matchLabels": labels },
            "template": {
                "metadata": { "labels": labels },
                "spec": { "containers": containers },
            },
        },
        "status": {
            "currentNumberScheduled": 1, "desiredNumberScheduled": 1,
            "numberMisscheduled": 0, "numberReady": 1,
        },
    })
}

/// A 64-hex container id unique to this process and call.
pub fn container_id() -> String {
    let a = world::unique_finding_id();
    let b = world::unique_finding_id();
    format!("{a}{b}")
}

/// `events/eks-execution-reverse-shell.json` rewritten to the world.
pub fn finding_event(
    finding_id: &str,
    cluster: &str,
    ns: &str,
    workload: &str,
    workload_type: &str,
    container_id: &str,
    instance_id: &str,
) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events/eks-execution-reverse-shell.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let mut event: Value = serde_json::from_str(&text).expect("sample is JSON");
    event["region"] = REGION.into();
    let d = &mut event["detail"];
    d["id"] = finding_id.into();
    d["region"] = REGION.into();
    d["arn"] = format!("arn:aws:guardduty:{REGION}:123456789012:detector/4cb6a1f0e2d3c5b79a8e1f20d3c4b5a6/finding/{finding_id}").into();
    let r = &mut d["resource"];
    r["eksClusterDetails"]["name"] = cluster.into();
    r["eksClusterDetails"]["arn"] =
        format!("arn:aws:eks:{REGION}:123456789012:cluster/{cluster}").into();
    let w = &mut r["kubernetesDetails"]["kubernetesWorkloadDetails"];
    w["name"] = workload.into();
    w["type"] = workload_type.into();
    w["namespace"] = ns.into();
    w["containers"][0]["id"] = container_id.into();
    r["containerDetails"]["id"] = container_id.into();
    r["instanceDetails"]["instanceId"] = instance_id.into();
    serde_json::to_vec(&event).expect("serialises")
}

pub fn plan(event: &[u8]) -> ResponsePlan {
    world::plan(event, &Config::default())
}

/// The pods of `ns` a policy's `podSelector.matchLabels` selects, by name.
pub fn selected_pods(api: &KubeApi, policy: &Value) -> Vec<String> {
    let want = policy["spec"]["podSelector"]["matchLabels"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let ns = policy["metadata"]["namespace"].as_str().unwrap_or_default();
    api.list("pods")
        .into_iter()
        .filter(|p| p["metadata"]["namespace"] == ns)
        .filter(|p| want.iter().all(|(k, v)| &p["metadata"]["labels"][k] == v))
        .map(|p| {
            p["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

/// A pod to release, its identifiers parsed as `responder release eks` parses its
/// arguments; [`PodToRelease::request`] borrows them as release takes them.
pub struct PodToRelease {
    region: Region,
    cluster: ClusterName,
    namespace: K8sName,
    pod: K8sName,
}

impl PodToRelease {
    /// Panics on a malformed identifier: a test names its pods.
    pub fn new(region: &str, cluster: &str, namespace: &str, pod: &str) -> PodToRelease {
        PodToRelease {
            region: region.parse().expect("a region"),
            cluster: cluster.parse().expect("a cluster name"),
            namespace: namespace.parse().expect("a namespace"),
            pod: pod.parse().expect("a pod name"),
        }
    }

    pub fn request(&self) -> ReleaseRequest<'_> {
        ReleaseRequest {
            region: &self.region,
            partition: "aws",
            cluster: &self.cluster,
            namespace: &self.namespace,
            pod: &self.pod,
        }
    }
}
