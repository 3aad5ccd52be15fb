use super::*;
use crate::classify::Surface;
use crate::inventory::RecordCheck;
use crate::render::Button;

const ID: &str = "0123456789abcdef0123456789abcdef";

fn now() -> DateTime<Utc> {
    "2026-11-30T12:00:00Z".parse().unwrap()
}

fn contained(resource: &str, at: &str, finding: Option<&str>) -> Contained {
    Contained {
        surface: Surface::Ec2,
        resource: resource.into(),
        cluster: None,
        account: "123456789012".into(),
        region: "eu-west-1".into(),
        finding_id: finding.map(str::to_owned),
        finding_type: Some("Execution:Runtime/ReverseShell".into()),
        status: "quarantined".into(),
        contained_at: Some(at.parse().unwrap()),
        record: RecordCheck::Verified,
        release_command: Some(format!(
            "responder release ec2 {resource} --region eu-west-1 --execute"
        )),
        notes: vec![],
    }
}

fn buttons(m: &SlackMessage) -> Vec<&Button> {
    m.all_blocks()
        .flat_map(|b| match b {
            Block::Actions { elements } => elements.iter().collect(),
            _ => vec![],
        })
        .collect()
}

const DAY: Duration = Duration::from_secs(86_400);

#[test]
fn only_old_quarantines_are_reminded_each_with_a_release_button() {
    let inv = Inventory {
        contained: vec![
            contained("i-0000000000000000a", "2026-11-20T12:00:00Z", Some(ID)),
            contained("i-0000000000000000b", "2026-11-30T11:00:00Z", Some("ab")),
        ],
        errors: vec![],
    };
    let n = reminder(&inv, DAY, now()).unwrap();
    assert!(
        n.subject.contains("1 quarantine older than 1d 0h"),
        "{}",
        n.subject
    );
    assert!(n.text.contains("i-0000000000000000a") && !n.text.contains("i-0000000000000000b"));
    assert!(n.text.contains("Contained for: 10d 0h"), "{}", n.text);
    let b = buttons(&n.slack);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].action_id, ButtonAction::Release.action_id());
    let r = Reference::parse(&b[0].value).unwrap();
    assert_eq!(
        (
            r.action,
            r.account.as_str(),
            r.region.as_str(),
            r.finding_id.as_str()
        ),
        (ButtonAction::Release, "123456789012", "eu-west-1", ID)
    );
    let slack = serde_json::to_value(&n.slack).unwrap();
    assert_eq!(slack["blocks"][3]["type"], "actions");
    assert_eq!(slack["blocks"][3]["elements"][0]["type"], "button");
    let doc = document(&inv, DAY, now(), &n.text);
    assert_eq!(doc["due"].as_array().unwrap().len(), 1);
}

#[test]
fn nothing_due_sends_nothing() {
    let young = contained("i-0000000000000000b", "2026-11-30T11:00:00Z", Some(ID));
    let inv = Inventory {
        contained: vec![young],
        errors: vec![],
    };
    assert_eq!(reminder(&inv, DAY, now()), None);
    assert_eq!(reminder(&Inventory::default(), DAY, now()), None);
}

#[test]
fn no_button_without_a_finding_and_hostile_text_stays_inert() {
    let lure = "<!channel> <https://evil.example|click> `x` *y*\u{202e}";
    let mut c = contained("i-0000000000000000a", "2026-11-20T12:00:00Z", None);
    c.resource = lure.into();
    c.release_command = Some(lure.into());
    let inv = Inventory {
        contained: vec![c],
        errors: vec![],
    };
    let n = reminder(&inv, DAY, now()).unwrap();
    assert!(buttons(&n.slack).is_empty());
    for t in n.slack.texts() {
        assert!(!t.contains("<!channel>") && !t.contains("<https://"), "{t}");
        assert!(!t.contains('\u{202e}'), "{t}");
    }
    assert!(!n.html.contains("<https://") && !n.html.contains("<!channel>"));
    assert!(!n.text.contains('\u{202e}'));
}

#[test]
fn many_quarantines_stay_within_slack_limits() {
    let contained: Vec<Contained> = (0..60)
        .map(|i| contained(&format!("i-{i:017x}"), "2026-11-01T00:00:00Z", Some(ID)))
        .collect();
    let inv = Inventory {
        contained,
        errors: vec![],
    };
    let n = reminder(&inv, DAY, now()).unwrap();
    assert!(n.slack.all_blocks().count() <= 50);
    assert_eq!(buttons(&n.slack).len(), MAX_LISTED);
    assert!(n.text.contains("and 40 more"), "{}", n.text);
}
