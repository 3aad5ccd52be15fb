//! The fault matrix: for each surface, every AWS call its containment makes × each fault
//! class (`integration_tests::fault_matrix`), injected through the proxy in front of moto.
//! Each cell must end contained, or failed so that Lambda retries it (then the DLQ) with
//! an alert that says FAILED; never silently lost, never half-open. After the fault is
//! cleared, a re-delivery must converge to contained and release must restore the world.
//!
//! The result table is printed; `RESPONDER_WRITE_RELIABILITY=1` also writes it into
//! docs/reliability.md, whose table must name every call of the matrix.

use futures::StreamExt;
use integration_tests::ecs_world::{self, EcsAws, EcsWorld};
use integration_tests::eks_world::{self, EksWorld, PodToRelease};
use integration_tests::fault_matrix::{
    ATTEMPT_TIMEOUT, FaultClass, OPERATION_TIMEOUT, Row, Seen, Verdict, calls_of, judge,
    kube_calls_of, table,
};
use integration_tests::proxy::Proxy;
use integration_tests::world::{self, Aws, Instance, Network};
use responder::Config;
use responder::actions::ec2::Ec2Executor;
use responder::actions::ec2::isolation_groups::{NO_RULES_GROUP_NAME, Role};
use responder::actions::ecs::EcsExecutor;
use responder::actions::eks::{ClusterClients, EksExecutor, QUARANTINE_LABEL};
use responder::notify::Notifier;
use responder::outcome::{Outcome, Status};
use responder::plan::{ActionKind, ResponsePlan};
use responder::playbook::Guardrails;
use responder::respond::{RepeatPolicy, respond};
use std::sync::atomic::{AtomicUsize, Ordering};

const SAMPLE: &str = "ec2-defense-evasion-kernel-module.json";
/// Longer than any cell needs (the slowest, throttled always, takes a few seconds).
const CELL_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);
/// Cells run at once (moto is one Python process; more only queue there).
const CONCURRENT: usize = 6;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Surface {
    Ec2,
    /// A Fargate task whose ENI's groups can be swapped.
    EcsSwap,
    /// A Fargate task isolated with network-ACL entries.
    EcsAcl,
    /// A Deployment's pod (DescribeCluster in moto, the cluster in the local API server).
    Eks,
}

impl Surface {
    fn name(self) -> &'static str {
        match self {
            Surface::Ec2 => "EC2 instance",
            Surface::EcsSwap => "ECS task (group swap)",
            Surface::EcsAcl => "ECS task (network ACL)",
            Surface::Eks => "EKS pod",
        }
    }
    fn isolation(self) -> ActionKind {
        match self {
            Surface::Ec2 => ActionKind::Ec2IsolateNetwork,
            Surface::Eks => ActionKind::EksApplyDenyAllPolicy,
            _ => ActionKind::EcsIsolateTaskNetwork,
        }
    }
    /// Where its world is (EKS: the EKS world's region; else one per fault class).
    fn region(self, class: FaultClass) -> &'static str {
        match self {
            Surface::Eks => eks_world::REGION,
            _ => class.region(),
        }
    }
}

/// A world to contain: the resource and what release restores.
enum World {
    Ec2 {
        net: Network,
        inst: Instance,
    },
    Ecs(EcsWorld),
    Eks {
        w: Box<EksWorld>,
        ns: &'static str,
        pod: String,
    },
}

/// Clients through the proxy with the matrix's short timeouts (`scale` 1), or longer ones.
async fn via(proxy: &Proxy, region: &str, scale: u32) -> aws_config::SdkConfig {
    world::sdk_config(&proxy.endpoint(), region)
        .await
        .into_builder()
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_attempt_timeout(ATTEMPT_TIMEOUT * scale)
                .operation_timeout(OPERATION_TIMEOUT * scale)
                .build(),
        )
        .build()
}

/// Once the fault is cleared, re-delivery and release run with timeouts this many times
/// longer: they check convergence, and on a loaded machine moto alone can take longer
/// than the fault classes' short timeouts (seen: a DescribeSnapshots over 2.5 s).
const CALM: u32 = 8;

async fn build(surface: Surface, region: &str, name: &str) -> (World, ResponsePlan) {
    let mut config = Config::default();
    match surface {
        Surface::Ec2 => {
            let aws = Aws::moto(region).await;
            let net = world::network(&aws).await;
            let inst = world::one_eni_instance(&aws, &net).await;
            let fid = world::unique_finding_id();
            let event = world::finding_event(SAMPLE, &fid, region, &inst, Some(&net.vpc_id));
            (
                World::Ec2 { net, inst },
                world::contain_plan(&event, &config),
            )
        }
        Surface::Eks => {
            let w = eks_world::eks_world(true).await;
            let cid = eks_world::container_id();
            let suffix = &eks_world::unique("p")[2..7];
            let pod = w.deployment_pod("pay", "checkout", suffix, &cid)["metadata"]["name"]
                .as_str()
                .expect("pod name")
                .to_owned();
            let event = w.finding(
                &world::unique_finding_id(),
                "pay",
                "checkout",
                "deployments",
                &cid,
            );
            let plan = world::contain_plan(&event, &config);
            let w = Box::new(w);
            (World::Eks { w, ns: "pay", pod }, plan)
        }
        Surface::EcsSwap | Surface::EcsAcl => {
            config.ecs.force_network_acl = surface == Surface::EcsAcl;
            let w = ecs_world::fargate_world(&EcsAws::moto(region).await, name).await;
            let (_, event) = ecs_world::finding_event(&w);
            let plan = world::contain_plan(&event, &config);
            (World::Ecs(w), plan)
        }
    }
}

/// Contains with the surface's executor as the Lambda handler does (no idempotency table).
async fn contain(
    surface: Surface,
    sdk: &aws_config::SdkConfig,
    key: &str,
    w: &World,
    plan: &ResponsePlan,
) -> responder::respond::Response {
    let notifier = Notifier::disabled();
    let key = Some(key.to_owned());
    if let World::Eks { w, .. } = w {
        let ex = eks_executor(sdk, w);
        return respond(plan.clone(), Some(&ex), &notifier, RepeatPolicy::Update).await;
    }
    match surface {
        Surface::Ec2 => {
            let ex = Ec2Executor::new(sdk).with_record_mac_key(key);
            respond(plan.clone(), Some(&ex), &notifier, RepeatPolicy::Update).await
        }
        _ => {
            let mut options = Config::default().ecs;
            options.force_network_acl = surface == Surface::EcsAcl;
            let ex = EcsExecutor::new(sdk, options).with_record_mac_key(key);
            respond(plan.clone(), Some(&ex), &notifier, RepeatPolicy::Update).await
        }
    }
}

/// The EKS executor with AWS through the proxy and the cluster at the local API server.
fn eks_executor(sdk: &aws_config::SdkConfig, w: &EksWorld) -> EksExecutor {
    let local = w.api.connection();
    let clients = ClusterClients::new(sdk)
        .with_connection_rewrite(std::sync::Arc::new(move |_: &str, _| local.clone()));
    EksExecutor::with_clients(sdk, &Guardrails::default(), clients)
}

/// The deny-all policies of `ns` that select `pod`.
fn policies_selecting(w: &EksWorld, ns: &str, pod: &str) -> usize {
    w.api
        .list("networkpolicies")
        .iter()
        .filter(|p| p["metadata"]["namespace"] == ns)
        .filter(|p| {
            p["spec"]["policyTypes"] == serde_json::json!(["Ingress", "Egress"])
                && p["spec"]["ingress"] == serde_json::json!([])
                && p["spec"]["egress"] == serde_json::json!([])
        })
        .filter(|p| eks_world::selected_pods(&w.api, p).iter().any(|n| n == pod))
        .count()
}

/// (isolated, half-open) as moto holds it.
async fn state(region: &str, w: &World) -> (bool, Option<String>) {
    let aws = Aws::moto(region).await;
    match w {
        World::Ec2 { net, inst } => {
            let no_rules = group_id(&aws, &net.vpc_id, NO_RULES_GROUP_NAME).await;
            let conversion = group_id(&aws, &net.vpc_id, Role::Conversion.group_name()).await;
            let mut isolated = true;
            for eni in &inst.enis {
                let groups = world::eni_groups(&aws, &eni.id).await;
                if conversion.as_ref().is_some_and(|c| groups.contains(c)) {
                    return (
                        false,
                        Some(format!("{} left in the conversion group", eni.id)),
                    );
                }
                isolated &= no_rules.as_ref().is_some_and(|g| groups == [g.clone()]);
            }
            (isolated, None)
        }
        World::Eks { w, ns, pod } => (policies_selecting(w, ns, pod) > 0, None),
        // A failed swap falls back to the network-ACL method: either isolates.
        World::Ecs(w) => {
            let groups = world::eni_groups(&aws, &w.eni_id).await;
            let conversion = group_id(&aws, &w.vpc_id, Role::Conversion.group_name()).await;
            if conversion.as_ref().is_some_and(|c| groups.contains(c)) {
                return (
                    false,
                    Some(format!("{} left in the conversion group", w.eni_id)),
                );
            }
            let no_rules = group_id(&aws, &w.vpc_id, NO_RULES_GROUP_NAME).await;
            let swapped = no_rules.is_some_and(|g| groups == [g]);
            (swapped || acl_denied_everywhere(&aws, w).await, None)
        }
    }
}

async fn group_id(aws: &Aws, vpc: &str, name: &str) -> Option<String> {
    world::groups_named(aws, vpc, name)
        .await
        .first()
        .and_then(|g| g.group_id().map(str::to_owned))
}

/// The task's address is denied both ways in every network ACL of its VPC.
async fn acl_denied_everywhere(aws: &Aws, w: &EcsWorld) -> bool {
    task_acl_entries(aws, w)
        .await
        .iter()
        .all(|(_, denies)| *denies == 2)
}

/// Per ACL of the VPC: how many DENY entries name the task's address.
async fn task_acl_entries(aws: &Aws, w: &EcsWorld) -> Vec<(String, usize)> {
    let cidr = format!("{}/32", w.task_ip);
    let acls = aws
        .ec2
        .describe_network_acls()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(&w.vpc_id)
                .build(),
        )
        .send()
        .await
        .expect("DescribeNetworkAcls");
    acls.network_acls()
        .iter()
        .map(|a| {
            let n = a
                .entries()
                .iter()
                .filter(|e| e.cidr_block() == Some(cidr.as_str()))
                .count();
            (a.network_acl_id().unwrap_or_default().to_owned(), n)
        })
        .collect()
}

/// What release did.
enum Release {
    /// The world is as it was before containment.
    Restored,
    /// Release refused the record, or a step failed (the record is kept for another try).
    Refused(String),
}

/// Release, then the world checked against what it was before containment.
async fn release(
    surface: Surface,
    sdk: &aws_config::SdkConfig,
    key: &str,
    region: &str,
    w: &World,
) -> Result<Release, String> {
    let aws = Aws::moto(region).await;
    let key = Some(key.to_owned());
    match w {
        World::Eks { w, ns, pod } => {
            let to_release = PodToRelease::new(region, &w.cluster, ns, pod);
            let r = match eks_executor(sdk, w)
                .release(&to_release.request(), true)
                .await
            {
                Ok(r) => r,
                Err(e) => return Ok(Release::Refused(format!("{e:?}"))),
            };
            if let Some(o) = r.outcomes.iter().find(|o| o.status == Status::Failed) {
                return Ok(Release::Refused(format!("a step failed: {}", o.detail)));
            }
            let labels = w
                .api
                .get("pods", ns, pod)
                .map(|p| p["metadata"]["labels"].clone())
                .unwrap_or_default();
            if policies_selecting(w, ns, pod) > 0 || labels.get(QUARANTINE_LABEL).is_some() {
                return Err(format!("{pod} still quarantined after release: {labels}"));
            }
            let node = w.api.get("nodes", "", &w.node).unwrap_or_default();
            if node["spec"]["unschedulable"] == serde_json::json!(true) {
                return Err(format!("{} still cordoned after release", w.node));
            }
        }
        World::Ec2 { inst, .. } => {
            let r = Ec2Executor::new(sdk)
                .with_record_mac_key(key)
                .release(&inst.id.parse().unwrap(), true)
                .await;
            let r = match r {
                Ok(r) => r,
                Err(e) => return Ok(Release::Refused(format!("{e:?}"))),
            };
            if let Some(o) = r.outcomes.iter().find(|o| o.status == Status::Failed) {
                return Ok(Release::Refused(format!("a step failed: {}", o.detail)));
            }
            for eni in &inst.enis {
                let groups = world::eni_groups(&aws, &eni.id).await;
                if groups != eni.groups {
                    return Err(format!("{} has {groups:?}, not {:?}", eni.id, eni.groups));
                }
            }
        }
        World::Ecs(w) => {
            let mut options = Config::default().ecs;
            options.force_network_acl = surface == Surface::EcsAcl;
            let r = EcsExecutor::new(sdk, options)
                .with_record_mac_key(key)
                .release(
                    &w.cluster.parse().unwrap(),
                    &w.task_arn.parse().unwrap(),
                    true,
                )
                .await;
            let r = match r {
                Ok(r) => r,
                Err(e) => return Ok(Release::Refused(format!("{e:?}"))),
            };
            if let Some(o) = r.outcomes.iter().find(|o| o.status == Status::Failed) {
                return Ok(Release::Refused(format!("a step failed: {}", o.detail)));
            }
            let groups = world::eni_groups(&aws, &w.eni_id).await;
            if surface == Surface::EcsSwap && groups != [w.task_sg.clone()] {
                return Err(format!("{} has {groups:?}", w.eni_id));
            }
            if let Some((acl, n)) = task_acl_entries(&aws, w)
                .await
                .into_iter()
                .find(|(_, n)| *n > 0)
            {
                return Err(format!("{n} entries for the task left in {acl}"));
            }
        }
    }
    Ok(Release::Restored)
}

fn isolation_status(outcomes: &[Outcome], kind: ActionKind) -> String {
    outcomes
        .iter()
        .find(|o| o.kind == kind)
        .map(|o| o.status.as_str().to_owned())
        .unwrap_or_else(|| "missing".into())
}

static CELL: AtomicUsize = AtomicUsize::new(0);

/// One cell: contain under the fault, judge, clear it, converge, release.
async fn cell(surface: Surface, call: String, class: FaultClass) -> Row {
    let region = surface.region(class);
    let name = format!("fm{}", CELL.fetch_add(1, Ordering::Relaxed));
    let proxy = Proxy::start(&integration_tests::moto::shared().endpoint()).await;
    let sdk = via(&proxy, region, 1).await;
    let key = world::hmac_key(&Aws::moto(region).await).await;
    let (w, plan) = build(surface, region, &name).await;
    let (service, action) = call.split_once(':').expect("service:action");
    match &w {
        World::Eks { w, .. } if service == "k8s" => w.api.inject(class.kube_fault(action)),
        _ => proxy.inject(class.fault(service, action)),
    }
    let r = contain(surface, &sdk, &key, &w, &plan).await;
    let (isolated, half_open) = state(region, &w).await;
    let seen = Seen {
        isolated,
        half_open,
        isolation_status: isolation_status(&r.outcomes, surface.isolation()),
        any_failed: r.containment_failed(),
        alert_says_failed: r
            .notification
            .as_ref()
            .is_some_and(|n| n.subject.contains("FAILED")),
    };
    let first = judge(class, &seen).map_err(|e| format!("{e}\n{}", world::show(&r.outcomes)));
    let result = match first {
        Ok(verdict) => {
            proxy.clear_faults();
            if let World::Eks { w, .. } = &w {
                w.api.clear_faults();
            }
            let calm = via(&proxy, region, CALM).await;
            converge(surface, &calm, &key, region, &w, &plan, &r, verdict).await
        }
        Err(e) => Err(e),
    };
    Row {
        surface: surface.name(),
        call,
        class,
        result,
    }
}

/// After the fault: a re-delivery must isolate (and fail only where the undo record is
/// lost), and release must restore the world, or refuse and change nothing.
#[allow(clippy::too_many_arguments)]
async fn converge(
    surface: Surface,
    sdk: &aws_config::SdkConfig,
    key: &str,
    region: &str,
    w: &World,
    plan: &ResponsePlan,
    first: &responder::respond::Response,
    verdict: Verdict,
) -> Result<Verdict, String> {
    let runs = || format!("\nfirst run:\n{}", world::show(&first.outcomes));
    let again = contain(surface, sdk, key, w, plan).await;
    let (isolated, half_open) = state(region, w).await;
    if !isolated || half_open.is_some() {
        return Err(format!(
            "the re-delivery did not isolate ({half_open:?}):\n{}{}",
            world::show(&again.outcomes),
            runs()
        ));
    }
    match release(surface, sdk, key, region, w).await? {
        Release::Restored if !again.containment_failed() => Ok(verdict),
        Release::Restored => Err(format!(
            "the re-delivery failed, yet release restored:\n{}{}",
            world::show(&again.outcomes),
            runs()
        )),
        Release::Refused(why) => {
            let (still, _) = state(region, w).await;
            if first.containment_failed() && still {
                Ok(Verdict::UndoByHand)
            } else {
                Err(format!(
                    "release refused ({why}) after a run that reported no failure, or changed the world{}",
                    runs()
                ))
            }
        }
    }
}

/// The calls of a clean containment of `surface`, through a proxy.
async fn calls(surface: Surface) -> Vec<String> {
    let region = surface.region(FaultClass::ThrottledThenOk);
    let proxy = Proxy::start(&integration_tests::moto::shared().endpoint()).await;
    let sdk = via(&proxy, region, 1).await;
    let key = world::hmac_key(&Aws::moto(region).await).await;
    let name = format!("fm-clean-{}", CELL.fetch_add(1, Ordering::Relaxed));
    let (w, plan) = build(surface, region, &name).await;
    let r = contain(surface, &sdk, &key, &w, &plan).await;
    assert!(!r.containment_failed(), "{}", world::show(&r.outcomes));
    let log = proxy.calls();
    let mut calls: Vec<String> = calls_of(&log)
        .into_iter()
        .filter(|c| !c.ends_with(':'))
        .collect();
    if let World::Eks { w, .. } = &w {
        calls.extend(kube_calls_of(&w.api.requests()));
    }
    calls
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_of_every_surface_under_every_fault_class() {
    ecs_world::freeze_task_states(&integration_tests::moto::shared().endpoint());
    let mut cells = Vec::new();
    for surface in [
        Surface::Ec2,
        Surface::EcsSwap,
        Surface::EcsAcl,
        Surface::Eks,
    ] {
        let calls = calls(surface).await;
        assert!(calls.len() >= 5, "{surface:?}: {calls:?}");
        for call in calls {
            for class in FaultClass::ALL {
                cells.push((surface, call.clone(), class));
            }
        }
    }
    // RESPONDER_FAULT_MATRIX_CALLS=kms:GenerateMac,… runs only those calls' rows.
    if let Ok(only) = std::env::var("RESPONDER_FAULT_MATRIX_CALLS") {
        cells.retain(|(_, c, _)| only.split(',').any(|o| o == c));
    }
    // RESPONDER_FAULT_MATRIX_SURFACES=EKS,… runs only the surfaces whose name starts so.
    if let Ok(only) = std::env::var("RESPONDER_FAULT_MATRIX_SURFACES") {
        cells.retain(|(s, _, _)| only.split(',').any(|o| s.name().starts_with(o)));
    }
    let started = std::time::Instant::now();
    let total = cells.len();
    let mut rows: Vec<Row> = futures::stream::iter(cells)
        .map(|(s, c, f)| async move {
            // A containment that hangs would hit the Lambda timeout: a broken cell.
            match tokio::time::timeout(CELL_LIMIT, cell(s, c.clone(), f)).await {
                Ok(row) => row,
                Err(_) => Row {
                    surface: s.name(),
                    call: c,
                    class: f,
                    result: Err(format!("still running after {CELL_LIMIT:?}")),
                },
            }
        })
        .buffer_unordered(CONCURRENT)
        .collect()
        .await;
    rows.sort_by(|a, b| (a.surface, &a.call, a.class).cmp(&(b.surface, &b.call, b.class)));
    let table = table(&rows);
    println!("{total} cells in {:?}\n{table}", started.elapsed());
    if std::env::var("RESPONDER_WRITE_RELIABILITY").is_ok_and(|v| v == "1") {
        write_table(&table);
    }
    let broken: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            r.result
                .as_ref()
                .err()
                .map(|e| format!("{} / {} / {}: {e}", r.surface, r.call, r.class.name()))
        })
        .collect();
    assert!(broken.is_empty(), "{}", broken.join("\n\n"));
    let doc = std::fs::read_to_string(doc_path()).expect("docs/reliability.md");
    for r in &rows {
        assert!(
            doc.contains(&format!("| {} | `{}` |", r.surface, r.call)),
            "docs/reliability.md has no row for {} {}: rerun with RESPONDER_WRITE_RELIABILITY=1",
            r.surface,
            r.call
        );
    }
}

fn doc_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/reliability.md")
}

const BEGIN: &str = "<!-- fault-matrix:begin -->";
const END: &str = "<!-- fault-matrix:end -->";

/// Replaces the generated table between the markers of docs/reliability.md.
fn write_table(table: &str) {
    let path = doc_path();
    let doc = std::fs::read_to_string(&path).expect("docs/reliability.md");
    let (head, rest) = doc.split_once(BEGIN).expect("the begin marker");
    let (_, tail) = rest.split_once(END).expect("the end marker");
    std::fs::write(&path, format!("{head}{BEGIN}\n{table}{END}{tail}")).expect("write");
}
