//! Session revocation of the workload's IAM role on every surface (the ECS task role is
//! tested in ecs_options.rs): the EC2 instance profile's role and the EKS pod's IRSA and
//! Pod Identity roles, against moto's IAM and EC2 and the local Kubernetes API. The
//! attacker's moves: a role outside the configured patterns, an IRSA annotation pointing
//! at another workload's role.

use integration_tests::eks_world::{self, EksWorld, PodToRelease, REGION as EKS_REGION, eks_world};
use integration_tests::proxy::Proxy;
use integration_tests::world::{self, Aws};
use responder::Config;
use responder::actions::ec2::Ec2Executor;
use responder::actions::ec2::release::ReleaseStep as Ec2ReleaseStep;
use responder::actions::eks::{self, EksExecutor, ReleaseStep as EksReleaseStep};
use responder::actions::revocation::IRSA_ROLE_ANNOTATION;
use responder::actions::tags::REVOKED_ROLE_KEY;
use responder::execute::Executor;
use responder::outcome::{Outcome, Status};
use responder::plan::ActionKind;
use responder::playbook::Guardrails;
use serde_json::{Value, json};

const REGION: &str = "eu-west-1";
const SAMPLE: &str = "ec2-defense-evasion-kernel-module.json";
const PATTERN: &str = "arn:aws:iam::*:role/workloads/*";

fn outcome(outcomes: &[Outcome], kind: ActionKind) -> &Outcome {
    outcomes
        .iter()
        .find(|o| o.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} outcome: {}", world::show(outcomes)))
}

/// Creates `name` under `path` trusting `trust`; returns its ARN.
async fn role(iam: &aws_sdk_iam::Client, path: &str, name: &str, trust: &Value) -> String {
    iam.create_role()
        .path(path)
        .role_name(name)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .expect("CreateRole")
        .role()
        .expect("role")
        .arn()
        .to_owned()
}

/// The revocation policy on `role`, if any, as JSON.
async fn revocation(iam: &aws_sdk_iam::Client, role: &str) -> Option<Value> {
    world::revocation_policy(iam, role).await
}

/// An instance running with an instance profile holding `role_name` (under `path`).
async fn instance_with_role(aws: &Aws, path: &str, role_name: &str) -> world::Instance {
    let net = world::network(aws).await;
    let instance = world::one_eni_instance(aws, &net).await;
    world::with_instance_role(aws, &instance.id, path, role_name).await;
    instance
}

fn ec2_config() -> Config {
    let mut config = Config::default();
    config.ec2.revoke_role_sessions = true;
    config.revocation.role_arns = vec![PATTERN.into()];
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_instance_profile_role_is_revoked_and_kept_past_release_until_sessions_expire() {
    let aws = Aws::moto(REGION).await;
    let iam = aws_sdk_iam::Client::new(&aws.config);
    let name = format!("web-{}", &world::unique_finding_id()[..8]);
    let instance = instance_with_role(&aws, "/workloads/", &name).await;
    let config = ec2_config();
    let event = world::finding_event(SAMPLE, &world::unique_finding_id(), REGION, &instance, None);
    let plan = world::contain_plan(&event, &config);
    let ex = Ec2Executor::from_config(&aws.config, &config);
    let outcomes = ex.execute(&plan).await;
    let revoked = outcome(&outcomes, ActionKind::Ec2RevokeRoleSessions);
    assert_eq!(revoked.status, Status::Done, "{}", world::show(&outcomes));
    assert_eq!(
        outcome(&outcomes, ActionKind::Ec2IsolateNetwork).status,
        Status::Done
    );
    let doc = revocation(&iam, &name).await.expect("the deny policy");
    assert_eq!(doc["Statement"][0]["Effect"], "Deny", "{doc}");
    assert!(
        doc["Statement"][0]["Condition"]["DateLessThan"]["aws:TokenIssueTime"].is_string(),
        "{doc}"
    );
    assert_eq!(
        world::tags(&aws, &instance.id).await[REVOKED_ROLE_KEY],
        name
    );

    // Released within the session lifetime: the quarantine is undone, the revocation and
    // its record stay.
    let released = ex
        .release(&instance.id.parse().unwrap(), true)
        .await
        .expect("release");
    let step = |r: &responder::actions::ec2::release::Released, k: Ec2ReleaseStep| {
        r.outcomes
            .iter()
            .find(|o| o.kind == k)
            .map(|o| (o.status, o.detail.clone()))
            .unwrap_or_else(|| panic!("no {k:?} in {r:?}"))
    };
    let (status, detail) = step(&released, Ec2ReleaseStep::RemoveRoleRevocation);
    assert_eq!(status, Status::Skipped, "{released:?}");
    assert!(detail.contains("kept"), "{detail}");
    assert_eq!(
        step(&released, Ec2ReleaseStep::RemoveQuarantineTags).0,
        Status::Done
    );
    assert!(revocation(&iam, &name).await.is_some(), "still revoked");
    let tags = world::tags(&aws, &instance.id).await;
    let ours: Vec<&String> = tags
        .keys()
        .filter(|k| k.starts_with("guardduty-responder:"))
        .collect();
    assert_eq!(ours, vec![REVOKED_ROLE_KEY], "{tags:?}");

    // Once every denied session has expired, release again deletes it and its record.
    world::age_revocation(&iam, &name).await;
    let released = ex
        .release(&instance.id.parse().unwrap(), true)
        .await
        .expect("second release");
    assert_eq!(
        step(&released, Ec2ReleaseStep::RemoveRoleRevocation).0,
        Status::Done,
        "{released:?}"
    );
    assert!(revocation(&iam, &name).await.is_none(), "deleted");
    let tags = world::tags(&aws, &instance.id).await;
    assert!(
        !tags.keys().any(|k| k.starts_with("guardduty-responder:")),
        "{tags:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_outside_the_patterns_is_never_revoked_and_isolation_goes_on() {
    let aws = Aws::moto(REGION).await;
    let iam = aws_sdk_iam::Client::new(&aws.config);
    let name = format!("admin-{}", &world::unique_finding_id()[..8]);
    let instance = instance_with_role(&aws, "/admin/", &name).await;
    let config = ec2_config();
    let event = world::finding_event(SAMPLE, &world::unique_finding_id(), REGION, &instance, None);
    let plan = world::contain_plan(&event, &config);
    let outcomes = Ec2Executor::from_config(&aws.config, &config)
        .execute(&plan)
        .await;
    let revoked = outcome(&outcomes, ActionKind::Ec2RevokeRoleSessions);
    assert_eq!(revoked.status, Status::Skipped, "{revoked:?}");
    assert!(
        revoked
            .detail
            .contains("matches no revocable role ARN pattern"),
        "{}",
        revoked.detail
    );
    assert!(revocation(&iam, &name).await.is_none());
    assert!(
        !world::tags(&aws, &instance.id)
            .await
            .contains_key(REVOKED_ROLE_KEY)
    );
    assert_eq!(
        outcome(&outcomes, ActionKind::Ec2IsolateNetwork).status,
        Status::Done
    );
}

/// A pod of `w` running as ServiceAccount `sa` (annotated with `irsa`, if any).
fn pod_with_service_account(w: &EksWorld, ns: &str, sa: &str, irsa: Option<&str>) -> String {
    let mut account = json!({"apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": sa, "namespace": ns}});
    if let Some(arn) = irsa {
        account["metadata"]["annotations"] = json!({ IRSA_ROLE_ANNOTATION: arn });
    }
    w.api.put(account);
    let cid = eks_world::container_id();
    let mut pod = eks_world::pod_object(
        ns,
        &format!("{sa}-pod"),
        &w.node,
        &cid,
        json!({"app": sa}),
        None,
    );
    pod["spec"]["serviceAccountName"] = sa.into();
    w.api.put(pod);
    cid
}

fn irsa_trust(ns: &str, sa: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {
            "oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub": format!("system:serviceaccount:{ns}:{sa}"),
            "oidc.eks.eu-west-1.amazonaws.com/id/ABC:aud": "sts.amazonaws.com"}}}]})
}

/// The EKS executor with revocation on, its AWS calls through `proxy` (for Pod Identity).
async fn eks_executor(w: &EksWorld, proxy: &Proxy) -> EksExecutor {
    let proxied = world::sdk_config(&proxy.endpoint(), EKS_REGION).await;
    EksExecutor::with_clients(&proxied, &Guardrails::default(), w.clients(None))
        .with_revocation(vec![PATTERN.into()])
}

fn eks_plan(w: &EksWorld, ns: &str, sa: &str, cid: &str) -> responder::ResponsePlan {
    let mut config = Config::default();
    config.eks.revoke_role_sessions = true;
    config.revocation.role_arns = vec![PATTERN.into()];
    let event = w.finding(
        &world::unique_finding_id(),
        ns,
        &format!("{sa}-pod"),
        "pods",
        cid,
    );
    world::contain_plan(&event, &config)
}

fn no_pod_identity(proxy: &Proxy) {
    proxy.answer(
        "eks:ListPodIdentityAssociations",
        200,
        r#"{"associations":[]}"#,
        None,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pods_irsa_role_is_revoked_recorded_and_released_when_expired() {
    let w = eks_world(true).await;
    let proxy = Proxy::start(&integration_tests::moto::shared().endpoint()).await;
    no_pod_identity(&proxy);
    let iam = aws_sdk_iam::Client::new(&w.aws.config);
    let (ns, sa) = ("shop", "checkout");
    let name = format!("checkout-{}", &world::unique_finding_id()[..8]);
    let arn = role(&iam, "/workloads/", &name, &irsa_trust(ns, sa)).await;
    let cid = pod_with_service_account(&w, ns, sa, Some(&arn));
    let ex = eks_executor(&w, &proxy).await;
    let outcomes = ex.execute(&eks_plan(&w, ns, sa, &cid)).await;
    let revoked = outcome(&outcomes, ActionKind::EksRevokeRoleSessions);
    assert_eq!(revoked.status, Status::Done, "{}", world::show(&outcomes));
    assert!(revocation(&iam, &name).await.is_some());
    let pod = w.api.get("pods", ns, &format!("{sa}-pod")).unwrap();
    assert_eq!(
        pod["metadata"]["annotations"][eks::REVOKED_ROLES_ANNOTATION],
        json!(name)
    );

    let to_release = PodToRelease::new(EKS_REGION, &w.cluster, ns, &format!("{sa}-pod"));
    let request = to_release.request();
    let step = |r: &eks::Released| {
        r.outcomes
            .iter()
            .find(|o| o.kind == EksReleaseStep::RemoveRoleRevocation)
            .map(|o| (o.status, o.detail.clone()))
            .expect("a revocation step")
    };
    let released = ex.release(&request, true).await.expect("release");
    let (status, detail) = step(&released);
    assert_eq!(status, Status::Skipped, "{released:?}");
    assert!(detail.contains("kept"), "{detail}");
    assert!(revocation(&iam, &name).await.is_some(), "still revoked");
    let pod = w.api.get("pods", ns, &format!("{sa}-pod")).unwrap();
    assert_eq!(
        pod["metadata"]["annotations"][eks::REVOKED_ROLES_ANNOTATION],
        json!(name),
        "the record stays with the revocation"
    );

    world::age_revocation(&iam, &name).await;
    let released = ex.release(&request, true).await;
    // The quarantine itself is gone; what remains is the revocation.
    if let Ok(released) = released {
        assert_eq!(step(&released).0, Status::Done, "{released:?}");
    } else {
        panic!("second release: {released:?}");
    }
    assert!(revocation(&iam, &name).await.is_none(), "deleted");
    let pod = w.api.get("pods", ns, &format!("{sa}-pod")).unwrap();
    assert!(
        pod["metadata"]["annotations"]
            .get(eks::REVOKED_ROLES_ANNOTATION)
            .is_none(),
        "{pod}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_irsa_annotation_does_not_revoke_another_role() {
    let w = eks_world(true).await;
    let proxy = Proxy::start(&integration_tests::moto::shared().endpoint()).await;
    no_pod_identity(&proxy);
    let iam = aws_sdk_iam::Client::new(&w.aws.config);
    // The payments workload's role, within the patterns, trusting only payments/api.
    let victim = format!("payments-{}", &world::unique_finding_id()[..8]);
    let arn = role(&iam, "/workloads/", &victim, &irsa_trust("payments", "api")).await;
    // The compromised pod's ServiceAccount claims it.
    let (ns, sa) = ("shop", "cart");
    let cid = pod_with_service_account(&w, ns, sa, Some(&arn));
    let outcomes = eks_executor(&w, &proxy)
        .await
        .execute(&eks_plan(&w, ns, sa, &cid))
        .await;
    let revoked = outcome(&outcomes, ActionKind::EksRevokeRoleSessions);
    assert_eq!(revoked.status, Status::Skipped, "{revoked:?}");
    assert!(
        revoked
            .detail
            .contains(&format!("does not trust system:serviceaccount:{ns}:{sa}")),
        "{}",
        revoked.detail
    );
    assert!(
        revocation(&iam, &victim).await.is_none(),
        "the victim role is untouched"
    );
    assert_eq!(
        outcome(&outcomes, ActionKind::EksApplyDenyAllPolicy).status,
        Status::Done,
        "containment goes on"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pod_identity_role_is_revoked_from_the_clusters_association() {
    let w = eks_world(true).await;
    let proxy = Proxy::start(&integration_tests::moto::shared().endpoint()).await;
    let iam = aws_sdk_iam::Client::new(&w.aws.config);
    let (ns, sa) = ("shop", "search");
    let name = format!("search-{}", &world::unique_finding_id()[..8]);
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:TagSession"]}]});
    let arn = role(&iam, "/workloads/", &name, &trust).await;
    let association = "a-0123456789abcdef0";
    proxy.answer(
        "eks:ListPodIdentityAssociations",
        200,
        &json!({"associations": [{"clusterName": w.cluster, "namespace": ns,
            "serviceAccount": sa, "associationId": association}]})
        .to_string(),
        None,
    );
    proxy.answer(
        "eks:DescribePodIdentityAssociation",
        200,
        &json!({"association": {"clusterName": w.cluster, "namespace": ns,
            "serviceAccount": sa, "roleArn": arn, "associationId": association}})
        .to_string(),
        None,
    );
    let cid = pod_with_service_account(&w, ns, sa, None);
    let outcomes = eks_executor(&w, &proxy)
        .await
        .execute(&eks_plan(&w, ns, sa, &cid))
        .await;
    let revoked = outcome(&outcomes, ActionKind::EksRevokeRoleSessions);
    assert_eq!(revoked.status, Status::Done, "{}", world::show(&outcomes));
    assert!(revocation(&iam, &name).await.is_some());
    // The look-up named the pod's cluster, namespace and ServiceAccount.
    let listed = proxy
        .calls()
        .into_iter()
        .find(|c| c.action == "ListPodIdentityAssociations")
        .expect("the association was listed");
    assert_eq!(listed.service, "eks");
}

/// The contained instance tags itself with another role's name as "its" revocation record,
/// hoping release lifts that role's live revocation: release only ever deletes a
/// revocation whose every denied session has expired, so the other role stays revoked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_revocation_record_cannot_lift_another_roles_revocation() {
    let aws = Aws::moto(REGION).await;
    let iam = aws_sdk_iam::Client::new(&aws.config);
    // The victim workload's role, revoked by an earlier containment (cutoff: now).
    let victim = format!("victim-{}", &world::unique_finding_id()[..8]);
    let victim_instance = instance_with_role(&aws, "/workloads/", &victim).await;
    let config = ec2_config();
    let event = world::finding_event(
        SAMPLE,
        &world::unique_finding_id(),
        REGION,
        &victim_instance,
        None,
    );
    let ex = Ec2Executor::from_config(&aws.config, &config);
    ex.execute(&world::contain_plan(&event, &config)).await;
    assert!(revocation(&iam, &victim).await.is_some());

    // The attacker's instance, contained without revocation, forges the record.
    let net = world::network(&aws).await;
    let attacker = world::one_eni_instance(&aws, &net).await;
    let event = world::finding_event(SAMPLE, &world::unique_finding_id(), REGION, &attacker, None);
    let plain = Config::default();
    Ec2Executor::from_config(&aws.config, &plain)
        .execute(&world::contain_plan(&event, &plain))
        .await;
    world::set_tag(&aws, &attacker.id, REVOKED_ROLE_KEY, &victim).await;

    let released = ex
        .release(&attacker.id.parse().unwrap(), true)
        .await
        .expect("release");
    let step = released
        .outcomes
        .iter()
        .find(|o| o.kind == Ec2ReleaseStep::RemoveRoleRevocation)
        .expect("the forged record is read");
    assert_eq!(step.status, Status::Skipped, "{released:?}");
    assert!(step.detail.contains("kept"), "{}", step.detail);
    assert!(
        revocation(&iam, &victim).await.is_some(),
        "the victim role's live revocation stays"
    );
}
