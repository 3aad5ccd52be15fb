use super::*;
use crate::render::test_support::{HOSTILE, event, plan_of};
use serde_json::{Value, json};

/// Every string under `v` made huge and hostile.
fn inflate(v: &mut Value, pad: &str) {
    match v {
        Value::String(s) => *s = format!("{s}{pad}"),
        Value::Array(a) => a.iter_mut().for_each(|x| inflate(x, pad)),
        Value::Object(o) => o.values_mut().for_each(|x| inflate(x, pad)),
        _ => {}
    }
}

/// What the workload can influence: the activity, the texts, the resource's details (its
/// type routes the finding and stays).
fn inflate_finding(detail: &mut Value, pad: &str) {
    for key in ["service", "title", "description"] {
        inflate(&mut detail[key], pad);
    }
    let resource = detail["resource"].as_object_mut().expect("a resource");
    for (_, value) in resource.iter_mut().filter(|(k, _)| *k != "resourceType") {
        inflate(value, pad);
    }
}

fn assert_within_block_kit(m: &SlackMessage, what: &str) {
    let blocks: Vec<&Block> = m.all_blocks().collect();
    assert!(
        blocks.len() <= MAX_BLOCKS,
        "{what}: {} blocks",
        blocks.len()
    );
    assert!(
        matches!(m.blocks[0], Block::Header { .. }),
        "{what}: header first"
    );
    assert!(m.text.chars().count() <= 3000, "{what}: fallback");
    for b in blocks {
        match b {
            Block::Header { text } => assert!(text.as_str().chars().count() <= 150, "{what}"),
            Block::Section { text, fields } => {
                assert!(fields.len() <= 10, "{what}: {} fields", fields.len());
                for f in fields {
                    assert!(f.as_str().chars().count() <= 2000, "{what}: field");
                }
                if let Some(t) = text {
                    assert!(t.as_str().chars().count() <= SECTION_MAX, "{what}: section");
                }
            }
            Block::Context { elements } => {
                assert!(elements.len() <= 10, "{what}");
                for e in elements {
                    assert!(e.as_str().chars().count() <= SECTION_MAX, "{what}: context");
                }
            }
            Block::Actions { elements } => assert!(elements.len() <= 25, "{what}"),
        }
    }
}

#[test]
fn a_huge_hostile_finding_stays_within_block_kit_limits() {
    for file in [
        "hostile-attack-sequence.json",
        "hostile-ampersand-padding.json",
        "hostile-large-command-line.json",
        "eks-privilege-escalation-runc-escape.json",
    ] {
        for pad in [
            "&".repeat(4000),
            "<!channel>`*_~".repeat(400),
            HOSTILE.concat().repeat(20),
        ] {
            let mut e = event(file);
            inflate_finding(&mut e["detail"], &pad);
            let m = plan_of(&e).notification().slack;
            assert_within_block_kit(&m, file);
            // The severity colour bar and the sections a reader acts on survive.
            let texts = m.texts().join("\n");
            for part in ["*What happened*", "*What to do next*", "*How to undo it*"] {
                assert!(texts.contains(part), "{file}: {part} pushed out");
            }
            assert_eq!(m.attachments.len(), 1);
            assert!(m.attachments[0].color.starts_with('#'));
        }
    }
}

#[test]
fn past_the_block_limit_the_last_activity_gives_way_to_a_count() {
    let sections: Vec<(String, usize)> = (0..60).map(|i| (format!("s{i}"), 2)).collect();
    let kept = within(sections.clone(), 40);
    assert_eq!(kept.len(), 40);
    assert_eq!(kept[38], "s38");
    assert_eq!(
        kept[39],
        "_42 more facts are in the e-mail and the text alert._"
    );
    assert_eq!(within(sections[..5].to_vec(), 40).len(), 5);
}

#[test]
fn the_colour_follows_the_severity_and_the_words_say_it() {
    let mut e = event("ec2-persistence-suspicious-command.json");
    let mut colours = Vec::new();
    for (severity, word) in [
        (2.0, "LOW"),
        (5.0, "MEDIUM"),
        (8.0, "HIGH"),
        (9.5, "CRITICAL"),
    ] {
        e["detail"]["severity"] = json!(severity);
        let m = plan_of(&e).notification().slack;
        let Block::Context { elements } = &m.attachments[0].blocks[0] else {
            panic!("the context line first")
        };
        assert!(
            elements[0]
                .as_str()
                .starts_with(&format!("*{word}* severity"))
        );
        colours.push(m.attachments[0].color.clone());
    }
    colours.dedup();
    assert_eq!(colours.len(), 4, "{colours:?}");
}

#[test]
fn the_fallback_reads_as_a_push_notification() {
    let m = plan_of(&event("ecs-fargate-impact-cryptominer.json"))
        .notification()
        .slack;
    let t = &m.text;
    let head = "GuardDuty High (8.0) Impact on ecs — CONTAIN: ";
    let one_line = !t.contains('\n') && !t.contains('<') && t.chars().count() < 200;
    assert!(
        t.starts_with(head) && t.contains("cryptocurrency miner") && one_line,
        "{t}"
    );
}
