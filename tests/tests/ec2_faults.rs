//! EC2 quarantine under faults, through the loopback proxy in front of moto: instance not
//! found or terminated, AccessDenied on one step, throttling; and the IAM actions the
//! executor and release really call, checked against the declared lists.

use integration_tests::proxy::Proxy;
use integration_tests::world::show;
use integration_tests::world::{self, Aws, Instance, Network};
use responder::Config;
use responder::actions::ec2::isolation_groups::{NO_RULES_GROUP_NAME, Role};
use responder::actions::ec2::{Ec2Executor, RELEASE_PERMISSIONS, REQUIRED_PERMISSIONS};
use responder::execute::Executor;
use responder::options::AsgMode;
use responder::outcome::{Outcome, Status, any_failed};
use responder::plan::{ActionKind, ResponsePlan};
use std::collections::BTreeSet;

const SAMPLE: &str = "ec2-defense-evasion-kernel-module.json";
/// The key forensic copies are encrypted with (moto does not check it exists).
const FORENSIC_KEY: &str =
    "arn:aws:kms:us-west-2:999988887777:key/0b4e2c1a-1111-2222-3333-444455556666";

/// Direct clients for setup and checks, and a proxy (with clients through it) for the
/// executor under test.
async fn setup(region: &str) -> (Aws, Proxy, Aws) {
    let direct = Aws::moto(region).await;
    let proxy = Proxy::start(&integration_tests::moto::shared().endpoint()).await;
    let via = Aws::at(&proxy.endpoint(), region).await;
    (direct, proxy, via)
}

fn plan_for(net: &Network, inst: &Instance, config: &Config) -> ResponsePlan {
    let fid = world::unique_finding_id();
    let event = world::finding_event(SAMPLE, &fid, &net.region, inst, Some(&net.vpc_id));
    world::plan(&event, config)
}

fn status(outcomes: &[Outcome], kind: ActionKind) -> Status {
    outcomes
        .iter()
        .find(|o| o.kind == kind)
        .map(|o| o.status)
        .unwrap_or_else(|| panic!("no outcome for {}", kind.name()))
}

async fn assert_isolated(aws: &Aws, net: &Network, inst: &Instance) {
    let g = world::groups_named(aws, &net.vpc_id, NO_RULES_GROUP_NAME).await;
    let no_rules = g
        .first()
        .and_then(|g| g.group_id())
        .expect("no-rules group")
        .to_owned();
    for eni in &inst.enis {
        assert_eq!(
            world::eni_groups(aws, &eni.id).await,
            std::slice::from_ref(&no_rules)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_terminated_instance_is_skipped_not_failed() {
    let (direct, _proxy, via) = setup("us-east-1").await;
    let net = world::network(&direct).await;
    let ghost = Instance {
        id: "i-0123456789abcdef0".into(),
        enis: vec![],
    };
    let gone = world::two_eni_instance(&direct, &net).await;
    direct
        .ec2
        .terminate_instances()
        .instance_ids(&gone.id)
        .send()
        .await
        .expect("TerminateInstances");
    for inst in [&ghost, &gone] {
        let plan = plan_for(&net, inst, &Config::default());
        assert!(!plan.actions.is_empty());
        let outcomes = Ec2Executor::new(&via.config).execute(&plan).await;
        assert_eq!(outcomes.len(), plan.actions.len());
        for o in &outcomes {
            assert_eq!(o.status, Status::Skipped, "{}", show(&outcomes));
            assert!(o.detail.starts_with("not found"), "{}", o.detail);
        }
        assert!(!any_failed(&outcomes));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_denied_on_protection_fails_that_step_only_and_a_retry_converges() {
    let (direct, proxy, via) = setup("us-east-1").await;
    let net = world::network(&direct).await;
    let inst = world::two_eni_instance(&direct, &net).await;
    let plan = plan_for(&net, &inst, &Config::default());
    let exec = Ec2Executor::new(&via.config);

    proxy.fail(
        "ModifyInstanceAttribute",
        403,
        "UnauthorizedOperation",
        None,
    );
    let outcomes = exec.execute(&plan).await;
    let text = show(&outcomes);
    assert_eq!(
        status(&outcomes, ActionKind::Ec2ProtectInstance),
        Status::Failed,
        "{text}"
    );
    let protect = outcomes
        .iter()
        .find(|o| o.kind == ActionKind::Ec2ProtectInstance)
        .map(|o| o.detail.clone())
        .unwrap_or_default();
    assert!(protect.contains("UnauthorizedOperation"), "{protect}");
    for kind in [
        ActionKind::Ec2RecordPriorState,
        ActionKind::Ec2IsolateNetwork,
        ActionKind::Ec2SnapshotVolumes,
        ActionKind::Ec2TagInstance,
    ] {
        assert_eq!(
            status(&outcomes, kind),
            Status::Done,
            "{}: {text}",
            kind.name()
        );
    }
    assert!(
        any_failed(&outcomes),
        "the Lambda must see an error and be retried"
    );
    assert_isolated(&direct, &net, &inst).await;
    let tags = world::tags(&direct, &inst.id).await;
    assert_eq!(tags["guardduty-responder:status"], "quarantine-incomplete");

    // The retry (EventBridge re-delivery) with the permission fixed.
    proxy.clear_faults();
    let again = exec.execute(&plan).await;
    let text = show(&again);
    assert_eq!(
        status(&again, ActionKind::Ec2ProtectInstance),
        Status::Done,
        "{text}"
    );
    assert_eq!(
        status(&again, ActionKind::Ec2IsolateNetwork),
        Status::AlreadyDone,
        "{text}"
    );
    assert_eq!(
        status(&again, ActionKind::Ec2SnapshotVolumes),
        Status::AlreadyDone,
        "{text}"
    );
    assert_eq!(
        status(&again, ActionKind::Ec2TagInstance),
        Status::Done,
        "{text}"
    );
    assert!(!any_failed(&again), "{text}");
    assert_eq!(
        world::tags(&direct, &inst.id).await["guardduty-responder:status"],
        "quarantined"
    );
    assert_eq!(
        world::instance_attribute_bool(&direct, &inst.id).await,
        Some(true)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_denied_on_auto_scaling_detach_still_isolates() {
    let (direct, proxy, via) = setup("us-east-1").await;
    let net = world::network(&direct).await;
    let name = format!("denied-asg-{}", &world::unique_finding_id()[..12]);
    let inst = world::asg_member(&direct, &net, &name).await;
    let plan = plan_for(&net, &inst, &Config::default());
    proxy.fail("DetachInstances", 403, "AccessDenied", None);
    let outcomes = Ec2Executor::new(&via.config).execute(&plan).await;
    let text = show(&outcomes);
    assert_eq!(
        status(&outcomes, ActionKind::Ec2DetachFromAutoScaling),
        Status::Failed,
        "{text}"
    );
    assert_eq!(
        status(&outcomes, ActionKind::Ec2IsolateNetwork),
        Status::Done,
        "{text}"
    );
    assert_eq!(
        status(&outcomes, ActionKind::Ec2ProtectInstance),
        Status::Done,
        "{text}"
    );
    assert!(any_failed(&outcomes));
    assert!(
        world::asg_instances(&direct, &name)
            .await
            .iter()
            .any(|(i, _)| i == &inst.id),
        "still a member"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_denied_on_recording_still_contains_and_keeps_the_state_in_the_outcome() {
    let (direct, proxy, via) = setup("us-east-1").await;
    let net = world::network(&direct).await;
    let inst = world::two_eni_instance(&direct, &net).await;
    let plan = plan_for(&net, &inst, &Config::default());
    proxy.fail("CreateTags", 403, "UnauthorizedOperation", None);
    let outcomes = Ec2Executor::new(&via.config).execute(&plan).await;
    let text = show(&outcomes);
    let record = outcomes
        .iter()
        .find(|o| o.kind == ActionKind::Ec2RecordPriorState)
        .expect("record outcome");
    assert_eq!(record.status, Status::Failed, "{text}");
    let evidence = record.evidence.as_ref().expect("prior state in evidence");
    assert!(
        evidence["network_interfaces"]
            .as_object()
            .is_some_and(|m| m.len() == 2),
        "{evidence}"
    );
    // Containment beats a tidy release: isolation and protection still happen.
    assert_eq!(
        status(&outcomes, ActionKind::Ec2IsolateNetwork),
        Status::Done,
        "{text}"
    );
    assert_eq!(
        status(&outcomes, ActionKind::Ec2ProtectInstance),
        Status::Done,
        "{text}"
    );
    assert_eq!(
        status(&outcomes, ActionKind::Ec2TagInstance),
        Status::Failed,
        "{text}"
    );
    assert_isolated(&direct, &net, &inst).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_calls_succeed_on_retry() {
    // Its own region: the SDK's adaptive rate limiter is per service and region, so the
    // throttling here does not slow the other tests of this binary.
    let (direct, proxy, via) = setup("eu-west-1").await;
    let net = world::network(&direct).await;
    let inst = world::two_eni_instance(&direct, &net).await;
    let name = format!("throttled-asg-{}", &world::unique_finding_id()[..12]);
    let member = world::asg_member(&direct, &net, &name).await;
    proxy.fail("DescribeInstances", 400, "Throttling", Some(1));
    proxy.fail(
        "ModifyNetworkInterfaceAttribute",
        400,
        "RequestLimitExceeded",
        Some(2),
    );
    proxy.fail("DescribeAutoScalingInstances", 400, "Throttling", Some(1));
    proxy.fail("DetachInstances", 400, "Throttling", Some(1));
    let exec = Ec2Executor::new(&via.config);
    for i in [&inst, &member] {
        let outcomes = exec.execute(&plan_for(&net, i, &Config::default())).await;
        assert!(
            !any_failed(&outcomes),
            "{}\n{:#?}",
            show(&outcomes),
            proxy.calls()
        );
        assert_eq!(
            status(&outcomes, ActionKind::Ec2IsolateNetwork),
            Status::Done
        );
    }
    // (Not checked on the Auto Scaling member: moto reports the launch configuration's
    // groups on its ENI whatever the ENI's own groups are.)
    assert_isolated(&direct, &net, &inst).await;
    let calls = proxy.calls();
    let injected: Vec<&str> = calls
        .iter()
        .filter(|c| c.injected)
        .map(|c| c.action.as_str())
        .collect();
    assert_eq!(injected.len(), 5, "{injected:?}");
    assert!(
        calls
            .iter()
            .any(|c| c.action == "DetachInstances" && c.status == 200),
        "the throttled detach was retried"
    );
    assert!(
        !world::asg_instances(&direct, &name)
            .await
            .iter()
            .any(|(i, _)| i == &member.id)
    );
}

/// Every IAM action the executor calls is in REQUIRED_PERMISSIONS and, over scenarios
/// that exercise every branch, every declared action is called; release calls only
/// REQUIRED ∪ RELEASE_PERMISSIONS and exercises all of RELEASE_PERMISSIONS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iam_actions_called_are_exactly_the_declared_ones() {
    let (direct, proxy, via) = setup("us-west-2").await;
    let net = world::network(&direct).await;
    // A detector, so the coverage check lists coverage.
    aws_sdk_guardduty::Client::new(&direct.config)
        .create_detector()
        .enable(true)
        .send()
        .await
        .expect("CreateDetector");
    // A GuardDuty endpoint, so isolation reads its ENIs' addresses.
    direct
        .ec2
        .create_vpc_endpoint()
        .vpc_id(&net.vpc_id)
        .service_name("com.amazonaws.us-west-2.guardduty-data")
        .vpc_endpoint_type(aws_sdk_ec2::types::VpcEndpointType::Interface)
        .subnet_ids(&net.subnet_b)
        .send()
        .await
        .expect("CreateVpcEndpoint");
    // A tampered no-rules group (somebody added an SSH rule): quarantine must repair it.
    let tampered = direct
        .ec2
        .create_security_group()
        .group_name(Role::NoRules.group_name())
        .description("tampered")
        .vpc_id(&net.vpc_id)
        .send()
        .await
        .expect("CreateSecurityGroup")
        .group_id()
        .expect("id")
        .to_owned();
    direct
        .ec2
        .authorize_security_group_ingress()
        .group_id(&tampered)
        .ip_protocol("tcp")
        .from_port(22)
        .to_port(22)
        .cidr_ip("0.0.0.0/0")
        .send()
        .await
        .expect("AuthorizeSecurityGroupIngress");
    let asg_a = format!("iam-detach-{}", &world::unique_finding_id()[..12]);
    let asg_b = format!("iam-standby-{}", &world::unique_finding_id()[..12]);
    let detach = world::asg_member(&direct, &net, &asg_a).await;
    let standby = world::asg_member(&direct, &net, &asg_b).await;
    let (eip, _) = world::eip_instance(&direct, &net).await;
    // Its role's sessions are revoked too (iam:GetInstanceProfile, iam:PutRolePolicy).
    let role = format!("faults-{}", &world::unique_finding_id()[..12]);
    world::with_instance_role(&direct, &eip.id, "/workloads/", &role).await;
    let patterns = vec!["arn:aws:iam::*:role/workloads/*".to_owned()];
    let forensic = responder::options::ForensicSnapshots {
        account_id: "999988887777".into(),
        kms_key_arn: FORENSIC_KEY.into(),
        wait_seconds: 10,
    };
    let capture = responder::options::VolatileCapture {
        enabled: true,
        timeout_seconds: 10,
        max_pids: 4,
    };
    // The capture writes to the evidence bucket (its puts are the bundle writer's
    // permissions, not the executor's: left out of the comparison below).
    let (bucket, bucket_key) = integration_tests::evidence_bucket::evidence_bucket(
        &Aws::moto("us-east-1").await.config,
        "faults-iam",
    )
    .await;
    let evidence = responder::options::EvidenceOptions {
        bucket: Some(bucket),
        bucket_region: Some("us-east-1".into()),
        kms_key_id: Some(bucket_key),
        ..Default::default()
    };
    let cfg = |asg: AsgMode, eips: bool| {
        let mut c = Config::default();
        c.ec2.asg = asg;
        c.ec2.disassociate_eips = eips;
        c.ec2.revoke_role_sessions = true;
        c.revocation.role_arns = patterns.clone();
        // Snapshots copied and shared: CopySnapshot, ModifySnapshotAttribute, and on the
        // re-delivery DescribeSnapshotAttribute.
        c.ec2.forensic_snapshots = Some(forensic.clone());
        // The volatile capture: SendCommand, GetCommandInvocation.
        c.ec2.volatile_capture = capture.clone();
        c.isolation.keep_ssm_endpoints = true;
        c
    };
    // A stale record (an ENI the instance no longer has) is replaced: its keys are deleted.
    direct
        .ec2
        .create_tags()
        .resources(&eip.id)
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key("guardduty-responder:prior")
                .value(
                    "v=1;termination-protection=false;shutdown-behavior=stop;elastic-ips=recorded",
                )
                .build(),
        )
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key("guardduty-responder:prior:eni:eni-0123456789abcdef0")
                .value(&net.ssh_sg)
                .build(),
        )
        .send()
        .await
        .expect("CreateTags");
    // With the record MAC key, so that GenerateMac and VerifyMac are among the calls.
    let key = world::hmac_key(&direct).await;
    let exec = Ec2Executor::new(&via.config)
        .with_record_mac_key(Some(key))
        .with_revocation(patterns.clone())
        .with_forensic_snapshots(Some(forensic.clone()))
        .with_evidence(&evidence)
        .with_volatile_capture(capture.clone());
    for (inst, config) in [
        (&detach, cfg(AsgMode::Detach, false)),
        (&standby, cfg(AsgMode::Standby, false)),
        (&eip, cfg(AsgMode::Detach, true)),
    ] {
        let plan = plan_for(&net, inst, &config);
        let outcomes = exec.execute(&plan).await;
        assert!(!any_failed(&outcomes), "{}", show(&outcomes));
        // A re-delivery judges the record it finds (VerifyMac).
        let outcomes = exec.execute(&plan).await;
        assert!(!any_failed(&outcomes), "{}", show(&outcomes));
    }
    let called = |calls: Vec<integration_tests::proxy::Call>| -> BTreeSet<String> {
        calls
            .iter()
            .map(|c| format!("{}:{}", c.service, c.action))
            .collect()
    };
    let mut quarantine_calls = called(proxy.calls());
    quarantine_calls.retain(|c| !c.starts_with("s3:"));
    let required: BTreeSet<String> = REQUIRED_PERMISSIONS.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        quarantine_calls, required,
        "called vs declared REQUIRED_PERMISSIONS"
    );

    // Every session the revocation denies has expired (cutoff 13 h ago): release deletes it.
    world::age_revocation(&aws_sdk_iam::Client::new(&direct.config), &role).await;
    proxy.clear_log();
    for inst in [&detach, &standby, &eip] {
        let r = exec
            .release(&inst.id.parse().unwrap(), true)
            .await
            .expect("release");
        assert!(
            r.outcomes.iter().all(|o| o.status != Status::Failed),
            "{:#?}",
            r.outcomes
        );
    }
    let release_calls = called(proxy.calls());
    let release: BTreeSet<String> = RELEASE_PERMISSIONS.iter().map(|s| s.to_string()).collect();
    let allowed: BTreeSet<String> = required.union(&release).cloned().collect();
    assert!(
        release_calls.is_subset(&allowed),
        "undeclared: {:?}",
        release_calls.difference(&allowed).collect::<Vec<_>>()
    );
    assert!(
        release.is_subset(&release_calls),
        "declared but not called: {:?}",
        release.difference(&release_calls).collect::<Vec<_>>()
    );
}

/// The VPC's conversion group (all traffic) and the ENIs in it.
async fn in_conversion_group(aws: &Aws, net: &Network) -> Vec<String> {
    let g = world::groups_named(aws, &net.vpc_id, Role::Conversion.group_name()).await;
    let id = g
        .first()
        .and_then(|g| g.group_id())
        .expect("conversion group");
    world::enis_in_group(aws, id).await
}

fn isolate_detail(outcomes: &[Outcome]) -> String {
    outcomes
        .iter()
        .find(|o| o.kind == ActionKind::Ec2IsolateNetwork)
        .map(|o| o.detail.clone())
        .unwrap_or_default()
}

const SWAP: &str = "ModifyNetworkInterfaceAttribute";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_no_rules_swap_is_retried_and_isolates() {
    let (direct, proxy, via) = setup("us-east-1").await;
    let net = world::network(&direct).await;
    let inst = world::one_eni_instance(&direct, &net).await;
    let plan = plan_for(&net, &inst, &Config::default());
    // The second swap (conversion → no rules) fails once.
    proxy.fail_after(SWAP, 1, 403, "UnauthorizedOperation", Some(1));
    let outcomes = Ec2Executor::new(&via.config).execute(&plan).await;
    let text = show(&outcomes);
    assert_eq!(
        status(&outcomes, ActionKind::Ec2IsolateNetwork),
        Status::Done,
        "{text}"
    );
    assert_isolated(&direct, &net, &inst).await;
    assert!(in_conversion_group(&direct, &net).await.is_empty());
    let swaps: Vec<bool> = proxy
        .calls()
        .iter()
        .filter(|c| c.action == SWAP)
        .map(|c| c.injected)
        .collect();
    assert_eq!(swaps, [false, true, false], "conversion, failed, retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_no_rules_swap_failing_twice_restores_the_prior_groups_and_fails() {
    let (direct, proxy, via) = setup("us-east-1").await;
    let net = world::network(&direct).await;
    let inst = world::one_eni_instance(&direct, &net).await;
    let eni = &inst.enis[0].id;
    let before = world::eni_groups(&direct, eni).await;
    let plan = plan_for(&net, &inst, &Config::default());
    proxy.fail_after(SWAP, 1, 403, "UnauthorizedOperation", Some(2));
    let outcomes = Ec2Executor::new(&via.config).execute(&plan).await;
    let text = show(&outcomes);
    assert_eq!(
        status(&outcomes, ActionKind::Ec2IsolateNetwork),
        Status::Failed,
        "{text}"
    );
    assert!(any_failed(&outcomes), "the Lambda must retry");
    assert!(isolate_detail(&outcomes).contains("prior groups"), "{text}");
    assert_eq!(world::eni_groups(&direct, eni).await, before);
    assert!(in_conversion_group(&direct, &net).await.is_empty());
    assert_eq!(
        world::tags(&direct, &inst.id).await["guardduty-responder:status"],
        "quarantine-incomplete"
    );
}

/// The worst case: the swap stopped with the ENI in the conversion group (as if the function
/// died between the two steps). The re-delivery must not trust the observed (all-traffic)
/// groups as "prior": when its own no-rules swap keeps failing it restores the recorded ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eni_left_in_the_conversion_group_falls_back_to_the_recorded_groups() {
    let (direct, proxy, via) = setup("us-east-1").await;
    let net = world::network(&direct).await;
    let inst = world::one_eni_instance(&direct, &net).await;
    let eni = &inst.enis[0].id;
    let before = world::eni_groups(&direct, eni).await;
    let plan = plan_for(&net, &inst, &Config::default());
    let exec = Ec2Executor::new(&via.config);
    // Run 1: every swap after the conversion fails, the fallback too.
    proxy.fail_after(SWAP, 1, 403, "UnauthorizedOperation", Some(3));
    let first = exec.execute(&plan).await;
    assert!(
        isolate_detail(&first).contains("conversion group"),
        "the alert says the ENI may be open: {}",
        show(&first)
    );
    assert_eq!(
        in_conversion_group(&direct, &net).await,
        std::slice::from_ref(eni)
    );
    // Run 2 (the re-delivery): both no-rules attempts fail again.
    proxy.clear_faults();
    proxy.fail(SWAP, 403, "UnauthorizedOperation", Some(2));
    let second = exec.execute(&plan).await;
    let text = show(&second);
    assert_eq!(
        status(&second, ActionKind::Ec2IsolateNetwork),
        Status::Failed,
        "{text}"
    );
    assert_eq!(world::eni_groups(&direct, eni).await, before, "{text}");
    assert!(in_conversion_group(&direct, &net).await.is_empty());
    // Run 3: the swap works again and finishes the isolation.
    proxy.clear_faults();
    let third = exec.execute(&plan).await;
    assert!(!any_failed(&third), "{}", show(&third));
    assert_isolated(&direct, &net, &inst).await;
}
