use super::*;
use crate::render::test_support::{HOSTILE, event, plan_of};
use proptest::prelude::*;
use serde_json::{Value, json};

fn labels(links: &[Link]) -> Vec<&'static str> {
    links.iter().map(|l| l.label).collect()
}

#[test]
fn each_surface_links_its_resource_and_the_logs() {
    let ecs = plan_of(&event("ecs-fargate-impact-cryptominer.json"));
    let l = links(&ecs);
    assert_eq!(
        labels(&l),
        [
            "GuardDuty finding",
            "ECS task",
            "Responder log (Logs Insights)"
        ]
    );
    assert!(l[1].url.ends_with(
        "/ecs/v2/clusters/payments/tasks/aba70dbaf5a217051a0640119db21c57/configuration?region=us-east-1"
    ));
    let eks = plan_of(&event("eks-execution-reverse-shell.json"));
    assert!(labels(&links(&eks)).contains(&"EKS cluster"));
    let ec2 = plan_of(&event("ec2-persistence-suspicious-command.json"));
    assert!(labels(&links(&ec2)).contains(&"EC2 instance"));
    for p in [&ecs, &eks, &ec2] {
        for link in links(p) {
            assert!(is_safe_url(&link.url), "{}", link.url);
        }
    }
}

#[test]
fn the_logs_query_is_the_finding_id_and_nothing_else() {
    let p = plan_of(&event("ec2-persistence-suspicious-command.json"));
    let url = logs_url(&p).expect("a logs link");
    let query = url.split("editorString~'").nth(1).unwrap();
    let decoded = query
        .trim_end_matches(')')
        .split('*')
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                return part.to_owned();
            }
            let byte = u8::from_str_radix(&part[..2], 16).unwrap();
            format!("{}{}", byte as char, &part[2..])
        })
        .collect::<String>();
    assert!(
        decoded.contains(&format!("filter finding_id = \"{}\"", p.finding_id)),
        "{decoded}"
    );
}

fn set(event: &mut Value, path: &[&str], value: &str) {
    let mut at = &mut event["detail"];
    for key in path {
        at = &mut at[*key];
    }
    *at = json!(value);
}

#[test]
fn a_hostile_part_drops_its_own_link_and_never_reaches_a_url() {
    let cases: [(&str, &[&str], &str); 6] = [
        (
            "ecs-fargate-impact-cryptominer.json",
            &["region"],
            "GuardDuty finding",
        ),
        (
            "ecs-fargate-impact-cryptominer.json",
            &["id"],
            "GuardDuty finding",
        ),
        (
            "ecs-fargate-impact-cryptominer.json",
            &["partition"],
            "GuardDuty finding",
        ),
        (
            "ecs-fargate-impact-cryptominer.json",
            &["resource", "ecsClusterDetails", "taskDetails", "arn"],
            "ECS task",
        ),
        (
            "eks-execution-reverse-shell.json",
            &["resource", "eksClusterDetails", "name"],
            "EKS cluster",
        ),
        (
            "ec2-persistence-suspicious-command.json",
            &["resource", "instanceDetails", "instanceId"],
            "EC2 instance",
        ),
    ];
    for (file, path, label) in cases {
        for lure in HOSTILE {
            let mut e = event(file);
            set(&mut e, path, lure);
            let p = plan_of(&e);
            let l = links(&p);
            assert!(
                !labels(&l).contains(&label),
                "{file} {path:?} {lure:?}: {l:?}"
            );
            for link in &l {
                assert!(is_safe_url(&link.url), "{lure:?}: {}", link.url);
                assert!(!link.url.contains(lure), "{lure:?}: {}", link.url);
            }
        }
    }
}

#[test]
fn only_known_partitions_and_wellformed_regions_are_linked() {
    assert_eq!(host("aws-iso"), None);
    for ok in ["us-east-1", "cn-north-1", "us-gov-west-1", "ap-southeast-4"] {
        assert!(is_region(ok), "{ok}");
    }
    for bad in [
        "",
        "us-east",
        "us--east-1",
        "US-EAST-1",
        "us-east-1/",
        "us-east-1#",
        "a-b-c".repeat(20).as_str(),
    ] {
        assert!(!is_region(bad), "{bad}");
    }
}

proptest! {
    #[test]
    fn any_region_id_or_resource_gives_only_safe_urls(
        region in ".{0,40}", id in ".{0,70}", instance in ".{0,30}", cluster in ".{0,30}",
    ) {
        let mut e = event("ec2-persistence-suspicious-command.json");
        set(&mut e, &["region"], &region);
        set(&mut e, &["id"], &id);
        set(&mut e, &["resource", "instanceDetails", "instanceId"], &instance);
        let mut k = event("eks-execution-reverse-shell.json");
        set(&mut k, &["region"], &region);
        set(&mut k, &["resource", "eksClusterDetails", "name"], &cluster);
        for e in [e, k] {
            // Some values are rejected as a whole (e.g. an empty id): nothing to link then.
            let Ok(handled) = crate::pipeline::plan_input(e.to_string().as_bytes(), &crate::Config::default()) else {
                continue;
            };
            for h in handled {
                let crate::pipeline::Handled::Plan(p) = h else { continue };
                for link in links(&p) {
                    prop_assert!(is_safe_url(&link.url), "{}", link.url);
                }
            }
        }
    }
}

#[test]
fn a_configured_runbook_url_links_the_familys_runbook_in_every_channel() {
    let base = "https://github.example/org/responder/blob/main/docs/runbooks";
    let config = crate::Config::from_document(&format!(r#"{{"runbook_url":"{base}"}}"#), "t")
        .expect("a configuration");
    let e = event("ecs-fargate-impact-cryptominer.json");
    let n = crate::render::test_support::plan_with(&e, &config).notification();
    let url = format!("{base}/impact.md");
    assert!(n.html.contains(&format!("href=\"{url}\"")), "html");
    let text = n.text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains(&format!("Runbook: {url}")), "text");
    let slack = serde_json::to_string(&n.slack).expect("JSON");
    assert!(
        slack.contains(&format!("<{url}|docs/runbooks/impact.md>")),
        "slack"
    );
    // Without it, the file is named and nothing is linked.
    let n = plan_of(&e).notification();
    assert!(
        n.text.contains("Runbook: docs/runbooks/impact.md") && !n.html.contains("/impact.md\"")
    );
}
