use super::*;
use crate::actions::ec2::observe::Volume;

const SNAP: &str = "snap-0123456789abcdef0";
const VOL: &str = "vol-0123456789abcdef0";
const INST: &str = "i-0123456789abcdef0";
const FINDING: &str = "5ebc1e4a0f5d2d6e8a3c9b7f1e2d3c4b";

fn facts(id: &str, started: i64) -> SnapshotFacts {
    SnapshotFacts {
        id: id.into(),
        volume_id: Some(VOL.into()),
        state: "completed".into(),
        started: Some(started),
        tags: BTreeMap::from([
            (FINDING_ID_KEY.into(), FINDING.into()),
            (SNAPSHOT_INSTANCE_KEY.into(), INST.into()),
            (SNAPSHOT_VOLUME_KEY.into(), VOL.into()),
        ]),
    }
}

fn view() -> InstanceView {
    InstanceView {
        id: INST.into(),
        state: "running".into(),
        spot: false,
        instance_store_root: false,
        asg_tag: None,
        instance_profile_arn: None,
        enis: vec![],
        volumes: vec![Volume {
            device_name: "/dev/xvda".into(),
            volume_id: VOL.into(),
            delete_on_termination: false,
        }],
        tags: BTreeMap::from([
            (
                "guardduty-responder:prior".into(),
                "v=1;termination-protection=false;shutdown-behavior=stop;elastic-ips=recorded"
                    .into(),
            ),
            (RECORD_FINDING_KEY.into(), FINDING.into()),
            (STATUS_KEY.into(), STATUS_QUARANTINED.into()),
            (FINDING_ID_KEY.into(), FINDING.into()),
        ]),
    }
}

fn judge(
    s: &SnapshotFacts,
    v: Option<&InstanceView>,
    mac: MacVerdict,
    siblings: &[SnapshotFacts],
    young: bool,
) -> Verdict {
    let c = match claim(s) {
        Ok(c) => c,
        Err(v) => return v,
    };
    bind(
        s,
        &c,
        &Bindings {
            instance: v,
            mac: &mac,
            siblings,
            young,
        },
    )
}

fn ours(s: &SnapshotFacts, v: &InstanceView, mac: MacVerdict) -> Verdict {
    judge(s, Some(v), mac, std::slice::from_ref(s), false)
}

#[test]
fn the_responders_snapshot_of_a_sealed_quarantine_is_ours() {
    assert_eq!(
        ours(&facts(SNAP, 100), &view(), MacVerdict::Valid),
        Verdict::Ours(None)
    );
    // Without a key the record is unverified: copied, with the warning release gives.
    assert!(matches!(
        ours(&facts(SNAP, 100), &view(), MacVerdict::NotConfigured),
        Verdict::Ours(Some(w)) if w.contains("unverified")
    ));
}

#[test]
fn a_snapshot_without_the_tags_or_a_copy_is_not_claimed() {
    let mut s = facts(SNAP, 100);
    s.tags.remove(SNAPSHOT_INSTANCE_KEY);
    assert!(matches!(
        ours(&s, &view(), MacVerdict::Valid),
        Verdict::NotClaimed(_)
    ));
    let mut s = facts(SNAP, 100);
    s.tags
        .insert(SNAPSHOT_COPY_OF_KEY.into(), "snap-0fffffffffffffff0".into());
    assert!(matches!(
        ours(&s, &view(), MacVerdict::Valid),
        Verdict::NotClaimed(_)
    ));
}

#[test]
fn forged_tags_are_refused() {
    // Another volume's snapshot tagged as this instance's.
    let mut s = facts(SNAP, 100);
    s.volume_id = Some("vol-0fffffffffffffff0".into());
    assert!(
        matches!(ours(&s, &view(), MacVerdict::Valid), Verdict::Refused(w) if w.contains("volume"))
    );
    // A volume tag naming a volume that is not the instance's.
    let mut s = facts(SNAP, 100);
    s.volume_id = Some("vol-0fffffffffffffff0".into());
    s.tags
        .insert(SNAPSHOT_VOLUME_KEY.into(), "vol-0fffffffffffffff0".into());
    assert!(
        matches!(ours(&s, &view(), MacVerdict::Valid), Verdict::Refused(w) if w.contains("not attached"))
    );
    // Hostile tag values.
    let mut s = facts(SNAP, 100);
    s.tags
        .insert(SNAPSHOT_INSTANCE_KEY.into(), "i-0123;rm".into());
    assert!(matches!(
        ours(&s, &view(), MacVerdict::Valid),
        Verdict::Refused(_)
    ));
    let mut s = facts(SNAP, 100);
    s.tags.insert(FINDING_ID_KEY.into(), "<!channel>".into());
    assert!(matches!(
        ours(&s, &view(), MacVerdict::Valid),
        Verdict::Refused(_)
    ));
    // Another finding than the instance was quarantined for.
    let mut s = facts(SNAP, 100);
    s.tags.insert(FINDING_ID_KEY.into(), "aaaa".into());
    assert!(
        matches!(ours(&s, &view(), MacVerdict::Valid), Verdict::Refused(w) if w.contains("finding"))
    );
    // The instance is gone.
    assert!(matches!(
        judge(&facts(SNAP, 100), None, MacVerdict::Valid, &[], false),
        Verdict::Refused(w) if w.contains("not found")
    ));
}

#[test]
fn a_record_the_responder_did_not_seal_is_refused() {
    assert!(matches!(
        ours(&facts(SNAP, 100), &view(), MacVerdict::Invalid),
        Verdict::Refused(w) if w.contains("MAC")
    ));
    let mut v = view();
    v.tags.remove("guardduty-responder:prior");
    assert!(matches!(
        ours(&facts(SNAP, 100), &v, MacVerdict::NotConfigured),
        Verdict::Refused(_)
    ));
    // Written before the snapshot starts: a young snapshot does not wait for it.
    let s = facts(SNAP, 100);
    assert!(matches!(
        judge(&s, Some(&v), MacVerdict::NotConfigured, std::slice::from_ref(&s), true),
        Verdict::Refused(w) if w.contains("no prior-state record")
    ));
    // Tags alone, on an instance the responder never quarantined.
    let mut v = view();
    v.tags.remove(STATUS_KEY);
    assert!(matches!(
        ours(&facts(SNAP, 100), &v, MacVerdict::NotConfigured),
        Verdict::Refused(_)
    ));
}

#[test]
fn a_snapshot_tagged_alike_after_the_responders_is_refused() {
    let first = facts(SNAP, 100);
    let later = facts("snap-0fffffffffffffff0", 160);
    let both = [first.clone(), later.clone()];
    assert_eq!(
        judge(&first, Some(&view()), MacVerdict::Valid, &both, false),
        Verdict::Ours(None)
    );
    assert!(matches!(
        judge(&later, Some(&view()), MacVerdict::Valid, &both, false),
        Verdict::Refused(w) if w.contains(SNAP)
    ));
    // A tie is not guessed.
    let twin = facts("snap-0fffffffffffffff0", 100);
    assert!(matches!(
        judge(&first, Some(&view()), MacVerdict::Valid, &[first.clone(), twin], false),
        Verdict::Refused(w) if w.contains("same time")
    ));
    // Another volume's snapshots do not compete.
    let mut other = facts("snap-0eeeeeeeeeeeeeee0", 50);
    other.volume_id = Some("vol-0eeeeeeeeeeeeeee0".into());
    assert_eq!(
        judge(
            &first,
            Some(&view()),
            MacVerdict::Valid,
            &[other, first.clone()],
            false
        ),
        Verdict::Ours(None)
    );
}

#[test]
fn an_unfinished_quarantine_is_retried_while_young_then_refused() {
    let mut v = view();
    v.tags.remove(STATUS_KEY);
    let s = facts(SNAP, 100);
    assert!(matches!(
        judge(
            &s,
            Some(&v),
            MacVerdict::Absent,
            std::slice::from_ref(&s),
            true
        ),
        Verdict::NotYet(_)
    ));
    assert!(matches!(
        judge(
            &s,
            Some(&v),
            MacVerdict::Absent,
            std::slice::from_ref(&s),
            false
        ),
        Verdict::Refused(_)
    ));
    assert!(matches!(
        judge(
            &s,
            Some(&view()),
            MacVerdict::Unverifiable("throttled".into()),
            std::slice::from_ref(&s),
            true
        ),
        Verdict::NotYet(_)
    ));
    // An invalid MAC is never waited for.
    assert!(matches!(
        judge(
            &s,
            Some(&view()),
            MacVerdict::Invalid,
            std::slice::from_ref(&s),
            true
        ),
        Verdict::Refused(_)
    ));
    let mut pending = s.clone();
    pending.state = "pending".into();
    assert!(matches!(
        ours(&pending, &view(), MacVerdict::Valid),
        Verdict::NotYet(_)
    ));
}

#[test]
fn a_later_finding_on_a_quarantined_instance_binds_by_its_status_tag() {
    let mut v = view();
    v.tags.insert(FINDING_ID_KEY.into(), "bbbb".into());
    let mut s = facts(SNAP, 100);
    s.tags.insert(FINDING_ID_KEY.into(), "bbbb".into());
    assert_eq!(ours(&s, &v, MacVerdict::Valid), Verdict::Ours(None));
}
