use super::*;

const ID: &str = "0123456789abcdef0123456789abcdef";
const DETECTOR: &str = "4cb6a1f0e2d3c5b79a8e1f20d3c4b5a6";
const BOTH: Settings = Settings {
    resolve_in_securityhub: true,
    archive_in_guardduty: true,
};

fn release(finding_id: Option<&str>, ended: Ended) -> Release<'_> {
    Release {
        finding_id,
        account: "123456789012",
        region: "eu-west-1",
        released: "instance i-0a1b2c3d4e5f60718",
        by: "arn:aws:sts::123456789012:assumed-role/oncall/alice",
        at: DateTime::parse_from_rfc3339("2026-11-30T23:40:00Z")
            .unwrap()
            .with_timezone(&Utc),
        ended,
    }
}

fn statuses(outcomes: &[AfterReleaseOutcome]) -> Vec<(&'static str, Status)> {
    outcomes.iter().map(|o| (o.kind.name(), o.status)).collect()
}

#[test]
fn settings_are_opt_in_each() {
    let none = Settings::from_env(|_| None);
    assert_eq!(none, Settings::default());
    assert_eq!(
        check(none, &release(Some(ID), Ended::Complete)),
        Err(vec![])
    );
    let resolve = Settings::from_env(|k| (k == RESOLVE_ENV).then(|| " ON ".to_owned()));
    assert!(resolve.resolve_in_securityhub && !resolve.archive_in_guardduty);
    let archive = Settings::from_env(|k| (k == ARCHIVE_ENV).then(|| "true".to_owned()));
    assert!(!archive.resolve_in_securityhub && archive.archive_in_guardduty);
    let off = Settings::from_env(|_| Some("off".to_owned()));
    assert_eq!(off, Settings::default());
}

#[test]
fn only_a_completed_release_is_written_back() {
    let dry = check(BOTH, &release(Some(ID), Ended::DryRun)).unwrap_err();
    assert_eq!(
        statuses(&dry),
        [
            ("securityhub.resolve_finding", Status::Skipped),
            ("guardduty.archive_finding", Status::Skipped)
        ]
    );
    assert!(dry.iter().all(|o| o.detail.starts_with("dry run: would")));
    let incomplete = check(BOTH, &release(Some(ID), Ended::Incomplete)).unwrap_err();
    assert!(
        incomplete
            .iter()
            .all(|o| o.status == Status::Skipped && o.detail.contains("did not complete"))
    );
    let unnamed = check(BOTH, &release(None, Ended::Complete)).unwrap_err();
    assert!(
        unnamed
            .iter()
            .all(|o| o.detail.contains("names no finding"))
    );
    assert_eq!(
        check(BOTH, &release(Some(ID), Ended::Complete)),
        Ok(Checked {
            partition: "aws",
            finding_id: ID.into()
        })
    );
}

#[test]
fn ended_follows_the_release_outcomes() {
    let o = |status| ReleaseOutcome::new("step", "i-1", status, "");
    assert_eq!(Ended::of(false, &[o(Status::Done)]), Ended::DryRun);
    assert_eq!(
        Ended::of(true, &[o(Status::Done), o(Status::Failed)]),
        Ended::Incomplete
    );
    assert_eq!(
        Ended::of(
            true,
            &[o(Status::Done), o(Status::AlreadyDone), o(Status::Skipped)]
        ),
        Ended::Complete
    );
}

/// A finding id rewritten in the release record cannot steer the ARN: to another
/// finding, detector, account, or out of the path.
#[test]
fn a_hostile_finding_id_from_the_record_steers_nothing() {
    for hostile in [
        "abc/../../detector/other/finding/def",
        "abc:123456789012:detector/x/finding/abc",
        "abc\nNote: resolved by admin",
        "ABCDEF?x=1",
        "",
        &"a".repeat(65),
    ] {
        let r = release(Some(hostile), Ended::Complete);
        let outcomes = check(BOTH, &r).unwrap_err();
        assert_eq!(outcomes.len(), 2, "{hostile:?}");
        for o in &outcomes {
            assert_eq!(o.status, Status::Failed, "{hostile:?}");
            assert!(o.target.chars().all(|c| (' '..='~').contains(&c)), "{o:?}");
        }
    }
    let bad_account = Release {
        account: "12345678901/",
        ..release(Some(ID), Ended::Complete)
    };
    assert!(check(BOTH, &bad_account).is_err());
    let bad_region = Release {
        region: "eu-west-1.evil.example",
        ..release(Some(ID), Ended::Complete)
    };
    assert!(check(BOTH, &bad_region).is_err());
}

#[test]
fn the_arn_is_the_guardduty_finding_arn_of_the_detector() {
    let r = release(Some(ID), Ended::Complete);
    let c = check(BOTH, &r).unwrap();
    assert_eq!(
        finding_arn(&c, &r, DETECTOR).unwrap(),
        format!("arn:aws:guardduty:eu-west-1:123456789012:detector/{DETECTOR}/finding/{ID}")
    );
    for bad in ["", "d/../x", "D1", "a:b"] {
        assert_eq!(finding_arn(&c, &r, bad), None, "{bad:?}");
    }
    assert_eq!(partition("cn-north-1"), "aws-cn");
    assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
}

#[test]
fn the_update_resolves_with_who_released_what_and_when() {
    let r = release(Some(ID), Ended::Complete);
    let c = check(BOTH, &r).unwrap();
    let arn = finding_arn(&c, &r, DETECTOR).unwrap();
    let u = resolve_update(&c, &r, &arn);
    assert_eq!(u.workflow, Workflow::Resolved);
    assert_eq!(u.id, arn);
    assert_eq!(
        u.product_arn,
        "arn:aws:securityhub:eu-west-1::product/aws/guardduty"
    );
    assert_eq!(u.region, "eu-west-1");
    assert_eq!(u.updated_by, r.by);
    for part in [r.by, r.released, "2026-11-30T23:40:00Z"] {
        assert!(u.note.contains(part), "{part}: {}", u.note);
    }
    assert_eq!(u.fields["guardduty-responder:outcome"], "released");
    assert_eq!(u.fields["guardduty-responder:released-by"], r.by);
    assert_eq!(
        u.fields["guardduty-responder:released-at"],
        "2026-11-30T23:40:00Z"
    );
}

#[test]
fn the_note_stays_within_the_api_limit_and_printable() {
    let by = format!(
        "arn:aws:iam::123456789012:user/{}\u{1b}[2J",
        "x".repeat(900)
    );
    let released = "y".repeat(900);
    let r = Release {
        by: &by,
        released: &released,
        ..release(Some(ID), Ended::Complete)
    };
    let c = check(BOTH, &r).unwrap();
    let u = resolve_update(&c, &r, "arn");
    assert!(u.note.chars().count() <= NOTE_MAX);
    assert!(u.updated_by.chars().count() <= NOTE_MAX && !u.updated_by.is_empty());
    assert!(!u.note.contains('\u{1b}') && !u.updated_by.contains('\u{1b}'));
    assert!(u.fields.values().all(|v| v.chars().count() <= 1024));
    let nobody = Release {
        by: " ",
        ..release(Some(ID), Ended::Complete)
    };
    assert_eq!(resolve_update(&c, &nobody, "arn").updated_by, "unknown");
}
