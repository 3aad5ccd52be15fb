//! `ec2.share_snapshots` against moto: each evidence snapshot copied, re-encrypted with
//! the forensic key, tagged as a copy, and only the copy shared with the forensic account;
//! a re-delivery changes nothing; a refused copy is that step's outcome, never a failed
//! containment.

use integration_tests::proxy::Proxy;
use integration_tests::world::{self, Aws, show};
use responder::actions::ec2::Ec2Executor;
use responder::execute::Executor;
use responder::options::ForensicSnapshots;
use responder::outcome::{Status, any_failed};
use responder::plan::ActionKind;
use std::collections::BTreeSet;

const SAMPLE: &str = "ec2-defense-evasion-kernel-module.json";
const FORENSIC_ACCOUNT: &str = "999988887777";
const KEY: &str = "arn:aws:kms:eu-west-1:999988887777:key/0b4e2c1a-1111-2222-3333-444455556666";

fn forensic() -> ForensicSnapshots {
    ForensicSnapshots {
        account_id: FORENSIC_ACCOUNT.into(),
        kms_key_arn: KEY.into(),
        wait_seconds: 10,
    }
}

fn config() -> responder::Config {
    let mut c = responder::Config::default();
    c.ec2.forensic_snapshots = Some(forensic());
    c
}

fn step(outcomes: &[responder::outcome::Outcome], kind: ActionKind) -> (Status, String) {
    outcomes
        .iter()
        .find(|o| o.kind == kind)
        .map(|o| (o.status, o.detail.clone()))
        .unwrap_or_else(|| panic!("no {}: {}", kind.name(), show(outcomes)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_snapshots_are_copied_re_encrypted_and_only_the_copies_shared() {
    let aws = Aws::moto("eu-west-1").await;
    let net = world::network(&aws).await;
    let inst = world::two_eni_instance(&aws, &net).await;
    let fid = world::unique_finding_id();
    let event = world::finding_event(SAMPLE, &fid, &net.region, &inst, Some(&net.vpc_id));
    let plan = world::contain_plan(&event, &config());
    assert!(
        plan.actions
            .iter()
            .any(|a| a.kind == ActionKind::Ec2ShareSnapshots),
        "planned with a forensic account"
    );
    let exec = Ec2Executor::new(&aws.config).with_forensic_snapshots(Some(forensic()));
    let outcomes = exec.execute(&plan).await;
    assert!(!any_failed(&outcomes), "{}", show(&outcomes));
    let (status, detail) = step(&outcomes, ActionKind::Ec2ShareSnapshots);
    assert_eq!(status, Status::Done, "{detail}");

    let snaps = world::evidence_snapshots(&aws, &fid).await;
    let (copies, sources): (Vec<_>, Vec<_>) = snaps
        .iter()
        .partition(|s| world::snapshot_tag(s, "guardduty-responder:copy-of").is_some());
    assert!(!sources.is_empty());
    assert_eq!(copies.len(), sources.len(), "one copy per snapshot");
    for copy in &copies {
        let source = world::snapshot_tag(copy, "guardduty-responder:copy-of").unwrap();
        assert!(sources.iter().any(|s| s.snapshot_id() == Some(source)));
        assert_eq!(
            copy.kms_key_id(),
            Some(KEY),
            "re-encrypted with the forensic key"
        );
        assert_eq!(
            world::snapshot_tag(copy, "guardduty-responder:instance-id"),
            None,
            "a copy is no evidence snapshot of a volume"
        );
        let id = copy.snapshot_id().unwrap();
        assert_eq!(
            world::shared_with(&aws, id).await,
            BTreeSet::from([FORENSIC_ACCOUNT.to_owned()])
        );
        assert!(detail.contains(id), "{detail}");
    }
    for source in &sources {
        assert!(
            world::shared_with(&aws, source.snapshot_id().unwrap())
                .await
                .is_empty(),
            "the original is never shared"
        );
    }

    // A re-delivery: no second snapshot, no second copy, the share is already there.
    let again = exec.execute(&plan).await;
    assert!(!any_failed(&again), "{}", show(&again));
    let (status, detail) = step(&again, ActionKind::Ec2ShareSnapshots);
    assert_eq!(status, Status::AlreadyDone, "{detail}");
    assert_eq!(
        world::evidence_snapshots(&aws, &fid).await.len(),
        snaps.len()
    );
}

/// The workload cannot make the copy fail the containment: a refused CopySnapshot (say a
/// key policy that does not admit the role) is the share step's failure, the instance is
/// isolated and tagged quarantined all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_copy_is_an_outcome_not_a_failed_containment() {
    let direct = Aws::moto("eu-west-1").await;
    let proxy = Proxy::start(&integration_tests::moto::shared().endpoint()).await;
    let via = Aws::at(&proxy.endpoint(), "eu-west-1").await;
    let net = world::network(&direct).await;
    let inst = world::two_eni_instance(&direct, &net).await;
    let fid = world::unique_finding_id();
    let event = world::finding_event(SAMPLE, &fid, &net.region, &inst, Some(&net.vpc_id));
    let plan = world::contain_plan(&event, &config());
    proxy.fail("CopySnapshot", 400, "KMS.DisabledException", None);
    let exec = Ec2Executor::new(&via.config).with_forensic_snapshots(Some(forensic()));
    let outcomes = exec.execute(&plan).await;
    let (status, detail) = step(&outcomes, ActionKind::Ec2ShareSnapshots);
    assert_eq!(status, Status::Failed, "{detail}");
    assert!(detail.contains("CopySnapshot"), "{detail}");
    assert!(!any_failed(&outcomes), "{}", show(&outcomes));
    for kind in [
        ActionKind::Ec2IsolateNetwork,
        ActionKind::Ec2SnapshotVolumes,
        ActionKind::Ec2TagInstance,
    ] {
        assert_eq!(step(&outcomes, kind).0, Status::Done, "{}", show(&outcomes));
    }
    assert_eq!(
        world::tags(&direct, &inst.id).await["guardduty-responder:status"],
        "quarantined"
    );
}
