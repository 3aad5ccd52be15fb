//! EKS evidence bundles (issue #19) against moto S3 and the local Kubernetes API: the
//! pod's bundle (the pod as read before any change, its owner chain, ServiceAccount,
//! Events, current and previous logs, node) verifies with the outcome's hash; a missing
//! previous instance is listed, not a failure; a log is cut at the byte limit; a hostile
//! log line is stored verbatim and never reaches the alert; RBAC refusing `pods/log` or
//! S3 refusing the put is an outcome while the pod is still isolated; and a pod whose
//! owner references loop or name a path neither hangs nor writes outside its prefix.

use integration_tests::eks_world::{self, EksWorld, eks_world};
use integration_tests::evidence_bucket::{
    HOSTILE, download_from, evidence_bucket, keys, outcome, reported_sha, s3_client,
};
use integration_tests::proxy::Proxy;
use integration_tests::world;
use responder::actions::eks::{EksExecutor, QUARANTINE_LABEL};
use responder::evidence::collect::ABSENT;
use responder::evidence::{MANIFEST_NAME, Manifest, verify_dir};
use responder::execute::Executor;
use responder::options::EvidenceOptions;
use responder::outcome::{Outcome, Status, any_failed};
use responder::plan::{ActionKind, ResponsePlan};
use responder::playbook::Guardrails;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;

/// moto creates a bucket without a location constraint only in us-east-1; the bundle is
/// written to the bucket's region whatever the cluster's (`evidence.bucket_region`).
const BUCKET_REGION: &str = "us-east-1";
const NS: &str = "shop";
const RS_UID: &str = "0e9d8c7b-0000-4000-8000-000000000001";
const DEPLOY_UID: &str = "0e9d8c7b-0000-4000-8000-0000000000d1";

struct Setup {
    w: EksWorld,
    s3: aws_sdk_s3::Client,
    bucket: String,
    key_arn: String,
}

async fn setup(name: &str) -> Setup {
    let w = eks_world(true).await;
    let config =
        world::sdk_config(&integration_tests::moto::shared().endpoint(), BUCKET_REGION).await;
    let (bucket, key_arn) = evidence_bucket(&config, name).await;
    Setup {
        w,
        s3: s3_client(&config),
        bucket,
        key_arn,
    }
}

fn options(s: &Setup) -> EvidenceOptions {
    EvidenceOptions {
        bucket: Some(s.bucket.clone()),
        bucket_region: Some(BUCKET_REGION.into()),
        kms_key_id: Some(s.key_arn.clone()),
        collector: "guardduty-responder-eks".into(),
        ..EvidenceOptions::default()
    }
}

/// A Deployment's pod (ReplicaSet → Deployment), its ServiceAccount, an Event about it and
/// one about a former pod of the same name. Returns the pod as stored and its container id.
fn deployment(w: &EksWorld) -> (Value, String) {
    let cid = eks_world::container_id();
    let pod = w.deployment_pod(NS, "web", "x2x9k", &cid);
    let name = pod["metadata"]["name"].as_str().unwrap();
    w.api.put(json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": { "name": "web-7d4b9c8f5", "namespace": NS, "uid": RS_UID,
            "ownerReferences": [{ "apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                "uid": DEPLOY_UID, "controller": true }] },
        "spec": { "replicas": 2, "selector": { "matchLabels": { "app": "web" } } },
    }));
    w.api.put(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": { "name": "web", "namespace": NS, "uid": DEPLOY_UID },
        "spec": { "replicas": 2, "selector": { "matchLabels": { "app": "web" } } },
    }));
    w.api.put(json!({
        "apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": { "name": "default", "namespace": NS },
    }));
    for (event, uid, reason) in [
        (
            "web-a.1",
            pod["metadata"]["uid"].as_str().unwrap(),
            "BackOff",
        ),
        ("web-b.1", "former-pod-uid", "FormerPod"),
    ] {
        w.api.put(json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": { "name": event, "namespace": NS },
            "involvedObject": { "kind": "Pod", "namespace": NS, "name": name, "uid": uid },
            "reason": reason, "message": "Back-off restarting failed container", "type": "Warning",
        }));
    }
    (pod, cid)
}

fn plan_for(w: &EksWorld, workload: &str, kind: &str, cid: &str) -> ResponsePlan {
    let fid = world::unique_finding_id();
    eks_world::plan(&w.finding(&fid, NS, workload, kind, cid))
}

fn prefix(plan: &ResponsePlan, pod: &str) -> String {
    format!(
        "evidence/{}/{}/{NS}.{pod}/",
        plan.account_id, plan.finding_id
    )
}

async fn download(s: &Setup, prefix: &str, name: &str) -> PathBuf {
    download_from(&s.s3, &s.bucket, prefix, &format!("eks-{name}")).await
}

/// Every containment step done (the bundle is not one of them) and the deny-all applied.
fn pod_isolated(s: &Setup, outcomes: &[Outcome], pod: &str) {
    assert!(!any_failed(outcomes), "{outcomes:#?}");
    let policy = outcome(outcomes, ActionKind::EksApplyDenyAllPolicy);
    assert_eq!(policy.status, Status::Done, "{policy:?}");
    let stored = s.w.api.get("pods", NS, pod).expect("pod kept");
    assert!(
        stored["metadata"]["labels"][QUARANTINE_LABEL].is_string(),
        "{stored}"
    );
    assert!(
        s.w.api.list("networkpolicies").iter().any(|p| {
            eks_world::selected_pods(&s.w.api, p)
                .iter()
                .any(|n| n == pod)
        }),
        "a NetworkPolicy selects the pod"
    );
}

fn manifest(dir: &std::path::Path) -> Manifest {
    Manifest::parse(&std::fs::read(dir.join(MANIFEST_NAME)).expect("manifest")).expect("parses")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pods_bundle_has_the_pod_before_any_change_its_owners_events_logs_and_node() {
    let s = setup("eks-bundle").await;
    let (pod, cid) = deployment(&s.w);
    let name = pod["metadata"]["name"].as_str().unwrap().to_owned();
    s.w.api
        .set_log(NS, &name, "web", false, &["GET /health 200", HOSTILE]);
    s.w.api.set_log(
        NS,
        &name,
        "web",
        true,
        &["connecting to 203.0.113.9:4444", "sh -i"],
    );
    let plan = plan_for(&s.w, "web", "deployments", &cid);
    let ex =
        s.w.executor(&Guardrails::default())
            .with_evidence(&options(&s));
    let outcomes = ex.execute(&plan).await;
    pod_isolated(&s, &outcomes, &name);
    let bundle = outcome(&outcomes, ActionKind::EvidenceWriteBundle);
    assert_eq!(bundle.status, Status::Done, "{bundle:?}");
    assert_eq!(bundle.target, format!("{}/{NS}/{name}", s.w.cluster));
    let sha = reported_sha(bundle);

    let prefix = prefix(&plan, &name);
    let dir = download(&s, &prefix, "ok").await;
    let report = verify_dir(&dir, Some(&sha)).expect("readable");
    assert!(report.is_ok(), "{report}");
    let m = manifest(&dir);
    let keys: Vec<&str> = m.objects.iter().map(|o| o.key.as_str()).collect();
    for want in [
        "finding.json",
        "describe/pod.json",
        "owners/1.replicaset.json",
        "owners/2.deployment.json",
        "describe/serviceaccount.json",
        "describe/events.json",
        "describe/node.json",
        "logs/web.log",
        "logs/web.previous.log",
    ] {
        assert!(keys.contains(&want), "{want} missing from {keys:?}");
    }
    assert!(!keys.contains(&"collection-gaps.json"), "{keys:?}");
    assert!(
        m.objects
            .iter()
            .all(|o| o.collector == "guardduty-responder-eks")
    );

    // The pod as read to find it: its labels before the quarantine.
    let described: Value =
        serde_json::from_slice(&std::fs::read(dir.join("describe/pod.json")).unwrap()).unwrap();
    assert_eq!(described["metadata"]["labels"], pod["metadata"]["labels"]);
    assert!(described["metadata"]["labels"][QUARANTINE_LABEL].is_null());
    let owner: Value =
        serde_json::from_slice(&std::fs::read(dir.join("owners/2.deployment.json")).unwrap())
            .unwrap();
    assert_eq!(owner["metadata"]["uid"], DEPLOY_UID);
    // Only this pod's Events, not a former pod's of the same name.
    let events = std::fs::read_to_string(dir.join("describe/events.json")).unwrap();
    assert!(
        events.contains("BackOff") && !events.contains("FormerPod"),
        "{events}"
    );

    // Logs: verbatim, each line with its time, the previous instance's too.
    let log = String::from_utf8(std::fs::read(dir.join("logs/web.log")).unwrap()).unwrap();
    assert!(log.contains(&format!(" {HOSTILE}\n")), "{log:?}");
    assert!(log.starts_with("20"), "timestamped: {log:?}");
    let previous = std::fs::read_to_string(dir.join("logs/web.previous.log")).unwrap();
    assert!(previous.contains("203.0.113.9:4444"), "{previous}");
    let n = responder::render::render(&plan, Some(&outcomes));
    let slack = serde_json::to_string(&n.slack).unwrap();
    for channel in [&n.text, &n.html, &slack] {
        assert!(!channel.contains("<script>alert(1)"));
        assert!(!channel.contains("<!channel>"));
        assert!(!channel.contains("203.0.113.9"));
    }
    assert!(n.text.contains(&sha), "the alert names the manifest hash");

    // Bounded reads: each log asked with the configured window, byte limit and timestamps.
    let log_reads: Vec<_> =
        s.w.api
            .requests()
            .into_iter()
            .filter(|r| r.call().as_deref() == Some("get pods/log"))
            .collect();
    assert_eq!(log_reads.len(), 2, "{log_reads:?}");
    for r in &log_reads {
        assert_eq!(
            r.query.get("limitBytes").map(String::as_str),
            Some("1048576")
        );
        assert_eq!(
            r.query.get("sinceSeconds").map(String::as_str),
            Some("1800")
        );
        assert_eq!(r.query.get("timestamps").map(String::as_str), Some("true"));
        assert_eq!(r.query.get("container").map(String::as_str), Some("web"));
    }

    // A re-run finds the bundle there and collects nothing again.
    let rerun = ex.execute(&plan).await;
    assert_eq!(
        outcome(&rerun, ActionKind::EvidenceWriteBundle).status,
        Status::AlreadyDone
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_previous_instance_is_listed_not_failed_and_a_long_log_is_cut_at_the_limit() {
    let s = setup("eks-cut").await;
    let (pod, cid) = deployment(&s.w);
    let name = pod["metadata"]["name"].as_str().unwrap().to_owned();
    let lines: Vec<String> = (0..200)
        .map(|i| format!("{i:04} {}", "A".repeat(100)))
        .collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    s.w.api.set_log(NS, &name, "web", false, &lines);
    let plan = plan_for(&s.w, &name, "pods", &cid);
    let opts = EvidenceOptions {
        log_max_bytes: 1000,
        ..options(&s)
    };
    let outcomes =
        s.w.executor(&Guardrails::default())
            .with_evidence(&opts)
            .execute(&plan)
            .await;
    pod_isolated(&s, &outcomes, &name);
    let bundle = outcome(&outcomes, ActionKind::EvidenceWriteBundle);
    assert_eq!(bundle.status, Status::Done, "{bundle:?}");
    let dir = download(&s, &prefix(&plan, &name), "cut").await;
    assert!(
        verify_dir(&dir, Some(&reported_sha(bundle)))
            .unwrap()
            .is_ok()
    );
    let log = std::fs::read(dir.join("logs/web.log")).unwrap();
    assert_eq!(log.len(), 1000);
    let m = manifest(&dir);
    let entry = m.objects.iter().find(|o| o.key == "logs/web.log").unwrap();
    assert!(entry.source_api.contains("cut at 1000 bytes"), "{entry:?}");
    assert!(!dir.join("logs/web.previous.log").exists());
    let gaps: Vec<String> =
        serde_json::from_slice(&std::fs::read(dir.join("collection-gaps.json")).unwrap()).unwrap();
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert!(
        gaps[0].starts_with(ABSENT) && gaps[0].contains("logs/web.previous.log"),
        "{gaps:?}"
    );
    assert!(
        gaps[0].contains("previous terminated container"),
        "{gaps:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rbac_refusing_logs_or_s3_refusing_the_put_is_an_outcome_and_the_pod_is_isolated() {
    let s = setup("eks-denied").await;
    let (pod, cid) = deployment(&s.w);
    let name = pod["metadata"]["name"].as_str().unwrap().to_owned();
    s.w.api.set_log(NS, &name, "web", false, &["x"]);
    s.w.api.forbid("get", "pods/log");
    let plan = plan_for(&s.w, &name, "pods", &cid);
    let outcomes =
        s.w.executor(&Guardrails::default())
            .with_evidence(&options(&s))
            .execute(&plan)
            .await;
    pod_isolated(&s, &outcomes, &name);
    let bundle = outcome(&outcomes, ActionKind::EvidenceWriteBundle);
    assert_eq!(bundle.status, Status::Failed, "{bundle:?}");
    assert!(
        bundle
            .detail
            .contains("403 Forbidden: RBAC does not allow get on pods/log"),
        "{}",
        bundle.detail
    );
    // The rest is written and verifies; the refusal is listed in the bundle.
    let dir = download(&s, &prefix(&plan, &name), "forbidden").await;
    assert!(
        verify_dir(&dir, Some(&reported_sha(bundle)))
            .unwrap()
            .is_ok()
    );
    assert!(dir.join("describe/pod.json").exists() && !dir.join("logs/web.log").exists());
    let gaps = std::fs::read_to_string(dir.join("collection-gaps.json")).unwrap();
    assert!(gaps.contains("logs/web.log: 403"), "{gaps}");
    let n = responder::render::render(&plan, Some(&outcomes));
    assert!(!n.subject.contains("[FAILED]"), "{}", n.subject);

    // S3 refuses every put (a missing grant, a bucket policy): the pod of a second
    // deployment is isolated all the same.
    let proxy = Proxy::start(&integration_tests::moto::shared().endpoint()).await;
    proxy.fail("s3:PutObject", 403, "AccessDenied", None);
    let proxied = world::sdk_config(&proxy.endpoint(), eks_world::REGION).await;
    let cid2 = eks_world::container_id();
    let pod2 = s.w.deployment_pod(NS, "api", "k3j4h", &cid2);
    let name2 = pod2["metadata"]["name"].as_str().unwrap().to_owned();
    let plan = plan_for(&s.w, &name2, "pods", &cid2);
    let outcomes = EksExecutor::with_clients(&proxied, &Guardrails::default(), s.w.clients(None))
        .with_evidence(&options(&s))
        .execute(&plan)
        .await;
    pod_isolated(&s, &outcomes, &name2);
    let bundle = outcome(&outcomes, ActionKind::EvidenceWriteBundle);
    assert_eq!(bundle.status, Status::Failed, "{bundle:?}");
    assert!(bundle.detail.contains("AccessDenied"), "{}", bundle.detail);
}

/// The attacker controls the pod's `ownerReferences`: a name that is a path, a loop of
/// two ReplicaSets, a reference to a real Deployment with another UID. Nothing hangs,
/// nothing is read outside the namespace's owners, nothing is written outside the prefix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_owner_references_neither_hang_nor_escape_the_bundle() {
    let s = setup("eks-owners").await;
    let (_, _) = deployment(&s.w);
    let cid = eks_world::container_id();
    let mut pod =
        eks_world::pod_object(NS, "rogue", &s.w.node, &cid, json!({"app": "rogue"}), None);
    let reference = |kind: &str, name: &str, uid: &str| json!({"apiVersion": "apps/v1", "kind": kind, "name": name, "uid": uid});
    pod["metadata"]["ownerReferences"] = json!([
        reference("ReplicaSet", "../../../../api/v1/nodes/x", "u-path"),
        reference("ReplicaSet", "loop-a", "u-a"),
        reference("Deployment", "web", "not-the-deployments-uid"),
        {"apiVersion": "evil.example/v1", "kind": "ReplicaSet", "name": "web-7d4b9c8f5", "uid": RS_UID},
    ]);
    s.w.api.put(pod);
    for (name, uid, owner, owner_uid) in [
        ("loop-a", "u-a", "loop-b", "u-b"),
        ("loop-b", "u-b", "loop-a", "u-a"),
    ] {
        s.w.api.put(json!({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": { "name": name, "namespace": NS, "uid": uid,
                "ownerReferences": [reference("ReplicaSet", owner, owner_uid)] },
        }));
    }
    let plan = plan_for(&s.w, "rogue", "pods", &cid);
    let ex =
        s.w.executor(&Guardrails::default())
            .with_evidence(&options(&s));
    let outcomes = tokio::time::timeout(Duration::from_secs(60), ex.execute(&plan))
        .await
        .expect("the containment ends");
    pod_isolated(&s, &outcomes, "rogue");
    let bundle = outcome(&outcomes, ActionKind::EvidenceWriteBundle);
    assert_eq!(bundle.status, Status::Failed, "{bundle:?}");

    let prefix = prefix(&plan, "rogue");
    let finding_keys = keys(
        &s.s3,
        &s.bucket,
        &format!("evidence/{}/{}/", plan.account_id, plan.finding_id),
    )
    .await;
    assert!(
        finding_keys.iter().all(|k| k.starts_with(&prefix)),
        "{finding_keys:?}"
    );
    let dir = download(&s, &prefix, "owners").await;
    assert!(
        verify_dir(&dir, Some(&reported_sha(bundle)))
            .unwrap()
            .is_ok()
    );
    let owners: Vec<String> = manifest(&dir)
        .objects
        .iter()
        .filter(|o| o.key.starts_with("owners/"))
        .map(|o| o.key.clone())
        .collect();
    assert_eq!(
        owners,
        ["owners/1.replicaset.json", "owners/2.replicaset.json"],
        "the loop, once"
    );
    let gaps = std::fs::read_to_string(dir.join("collection-gaps.json")).unwrap();
    assert!(gaps.contains("not a Kubernetes object name"), "{gaps}");
    assert!(gaps.contains("another object, not stored"), "{gaps}");
    assert!(gaps.contains("not a built-in workload kind"), "{gaps}");
    assert!(gaps.contains("referenced again"), "{gaps}");
    // No read left the namespace's owners: no path part `..`, no other resource.
    for r in s.w.api.requests() {
        assert!(!r.path.split('/').any(|p| p == ".."), "{}", r.line());
    }
    let owner_reads: Vec<String> =
        s.w.api
            .requests()
            .iter()
            .filter(|r| {
                r.path
                    .starts_with(&format!("/apis/apps/v1/namespaces/{NS}/"))
            })
            .map(|r| r.line())
            .collect();
    assert_eq!(owner_reads.len(), 3, "loop-a, loop-b, web: {owner_reads:?}");
}
