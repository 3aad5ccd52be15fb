use super::*;
use crate::ActionKind;
use crate::outcome::Status;

fn plan() -> ResponsePlan {
    crate::pipeline::sample_plan(include_bytes!(
        "../../../../events/ec2-defense-evasion-kernel-module.json"
    ))
}

fn arn_of(plan: &ResponsePlan) -> String {
    plan.finding.arn.as_ref().unwrap().as_raw().to_owned()
}

#[test]
fn the_counterpart_is_the_guardduty_product_and_the_finding_arn() {
    let p = plan();
    let arn = arn_of(&p);
    let outcomes = vec![
        Outcome::new(
            ActionKind::Ec2IsolateNetwork,
            "i-1",
            Status::Done,
            "error text <b>",
        ),
        Outcome::new(
            ActionKind::Ec2TagInstance,
            "i-1",
            Status::Failed,
            "AccessDenied",
        ),
    ];
    let u = update(&p, &outcomes, "fn-ec2", Workflow::Notified).unwrap();
    let region = arn.split(':').nth(3).unwrap();
    assert_eq!(u.id, arn);
    assert_eq!(
        u.product_arn,
        format!("arn:aws:securityhub:{region}::product/aws/guardduty")
    );
    assert_eq!(u.workflow.as_str(), "NOTIFIED");
    assert!(
        u.note.contains("contain") && u.note.contains("ec2.isolate_network done"),
        "{}",
        u.note
    );
    assert!(u.note.contains("ec2.tag_instance failed"), "{}", u.note);
    assert!(
        !u.note.contains("<b>"),
        "outcome details are not written: {}",
        u.note
    );
    assert_eq!(u.fields[FIELD_RESPONDER], "fn-ec2");
    assert_eq!(
        u.fields["guardduty-responder:outcome"],
        "containment_failed"
    );
    assert_eq!(u.updated_by, "fn-ec2");
}

#[test]
fn the_note_stays_within_the_api_limit() {
    let p = plan();
    let many: Vec<Outcome> = (0..200)
        .map(|i| {
            Outcome::new(
                ActionKind::Ec2SnapshotVolumes,
                format!("i-{i}"),
                Status::Done,
                "",
            )
        })
        .collect();
    let n = note(&p, &many);
    assert_eq!(n.chars().count(), NOTE_MAX);
    assert!(n.ends_with('…'));
}

#[test]
fn a_finding_without_its_own_guardduty_arn_has_no_counterpart() {
    let mut p = plan();
    let arn = arn_of(&p);
    let other = arn.replace(
        &format!("/finding/{}", p.finding_id),
        "/finding/someone-else",
    );
    p.finding.arn = Some(crate::sanitize::Untrusted::new(other));
    assert_eq!(
        update(&p, &[], "f", Workflow::Notified),
        Err(NoCounterpart::NotThisFinding)
    );
    p.finding.arn = Some(crate::sanitize::Untrusted::new(
        arn.replace(":guardduty:", ":s3:"),
    ));
    assert_eq!(
        update(&p, &[], "f", Workflow::Notified),
        Err(NoCounterpart::NotThisFinding)
    );
    p.finding.arn = None;
    assert_eq!(
        update(&p, &[], "f", Workflow::Notified),
        Err(NoCounterpart::NoArn)
    );
}
