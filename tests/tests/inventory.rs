//! `responder list`'s readers and the reminder against real containments: an EC2 instance
//! quarantined in moto, an ECS task isolated in moto, an EKS pod isolated through the local
//! Kubernetes API, each by its own executor. Each is listed with its finding, a fresh age
//! and a release command that, run, releases it (and the list no longer shows it). A
//! hostile tag or annotation is refused; a sealed record verifies and an edited one does
//! not; the reminder posts only old quarantines, with Release buttons whose values parse.

use integration_tests::ecs_world::{self, EcsAws};
use integration_tests::eks_world::{self, PodToRelease, eks_world};
use integration_tests::moto::Moto;
use integration_tests::webhook::Webhook;
use integration_tests::world::{self, Aws, Instance, Network, show};
use responder::Config;
use responder::actions::ec2::Ec2Executor;
use responder::actions::ecs::EcsExecutor;
use responder::actions::tags::{FINDING_TYPE_KEY, QUARANTINED_AT_KEY};
use responder::execute::Executor;
use responder::interaction::{ButtonAction, Reference};
use responder::inventory::function::ReminderFunction;
use responder::inventory::read_aws::AwsReader;
use responder::inventory::records::Place;
use responder::inventory::scope::Scope;
use responder::inventory::{Contained, Inventory, RecordCheck, read_eks, table};
use responder::lambda::accounts::Accounts;
use responder::notify::secret::SecretUrl;
use responder::notify::{Notifier, NotifySettings};
use responder::outcome::{ReleaseOutcome, Status, any_failed};
use responder::playbook::Guardrails;
use serde_json::{Value, json};
use std::time::Duration;

const SAMPLE: &str = "ec2-defense-evasion-kernel-module.json";
const REGION: &str = "us-east-1";
const ACCOUNT: &str = "123456789012";
const LURE: &str = "<!channel> *x* <https://evil.example|click> $(id)";

fn place(region: &str) -> Place {
    Place {
        account: ACCOUNT.into(),
        region: region.into(),
        partition: "aws".into(),
        now: chrono::Utc::now(),
    }
}

async fn quarantine(aws: &Aws, net: &Network, inst: &Instance, key: Option<&str>) -> String {
    let fid = world::unique_finding_id();
    let event = world::finding_event(SAMPLE, &fid, &net.region, inst, Some(&net.vpc_id));
    let plan = world::contain_plan(&event, &Config::default());
    let outcomes = Ec2Executor::new(&aws.config)
        .with_record_mac_key(key.map(str::to_owned))
        .execute(&plan)
        .await;
    assert!(!any_failed(&outcomes), "{}", show(&outcomes));
    fid
}

fn find<'a>(listed: &'a [Contained], fid: &str) -> Option<&'a Contained> {
    listed.iter().find(|c| c.finding_id.as_deref() == Some(fid))
}

/// Checks what every surface's entry shares and returns the command's words after
/// `responder release <surface>` and before `--region R --execute`.
fn command_args(c: &Contained, surface: &str, region: &str) -> Vec<String> {
    let age = c.age(chrono::Utc::now()).expect("a containment time");
    assert!(age < Duration::from_secs(600), "{age:?}");
    let cmd = c.release_command.as_deref().expect("a release command");
    let words: Vec<&str> = cmd.split(' ').collect();
    assert_eq!(words[..3], ["responder", "release", surface], "{cmd}");
    assert_eq!(
        words[words.len() - 3..],
        ["--region", region, "--execute"],
        "{cmd}"
    );
    words[3..words.len() - 3]
        .iter()
        .map(|w| w.to_string())
        .collect()
}

fn released<K: std::fmt::Debug>(outcomes: &[ReleaseOutcome<K>]) {
    assert!(!outcomes.is_empty());
    assert!(
        outcomes.iter().all(|o| o.status != Status::Failed),
        "{outcomes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_surface_is_listed_and_its_release_command_releases_it() {
    // EC2.
    let aws = Aws::moto(REGION).await;
    let net = world::network(&aws).await;
    let inst = world::two_eni_instance(&aws, &net).await;
    let ec2_fid = quarantine(&aws, &net, &inst, None).await;
    // ECS.
    let e = EcsAws::moto(REGION).await;
    ecs_world::freeze_task_states(&integration_tests::moto::shared().endpoint());
    let w = ecs_world::fargate_world(&e, "inventory").await;
    let (ecs_fid, event) = ecs_world::finding_event(&w);
    let config = Config::default();
    let ecs = EcsExecutor::new(&e.aws.config, config.ecs.clone());
    let outcomes = ecs.execute(&world::plan(&event, &config)).await;
    assert!(!any_failed(&outcomes), "{}", show(&outcomes));
    // EKS.
    let k = eks_world(true).await;
    let cid = eks_world::container_id();
    let pod = k.deployment_pod("shop", "web", "x2x9k", &cid);
    let pod_name = pod["metadata"]["name"].as_str().unwrap().to_owned();
    let eks_fid = world::unique_finding_id();
    let plan = eks_world::plan(&k.finding(&eks_fid, "shop", "web", "deployments", &cid));
    let eks = k.executor(&Guardrails::default());
    let outcomes = eks.execute(&plan).await;
    assert!(!any_failed(&outcomes), "{}", show(&outcomes));

    let reader = AwsReader::new(&aws.config, &aws.config, None);
    let clients = k.clients(None);
    let eks_place = place(eks_world::REGION);
    let listed_ec2 = reader.ec2(&place(REGION)).await.unwrap();
    let listed_ecs = reader.ecs(&place(REGION)).await.unwrap();
    let listed_eks = read_eks::read(&clients, &eks_place, &k.cluster)
        .await
        .unwrap();

    let c = find(&listed_ec2, &ec2_fid).expect("the instance is listed");
    assert_eq!(c.resource, inst.id);
    assert_eq!(
        c.finding_type.as_deref(),
        Some("DefenseEvasion:Runtime/KernelModuleLoaded")
    );
    assert!(
        matches!(c.record, RecordCheck::Unverified(_)),
        "{:?}",
        c.record
    );
    assert_eq!(command_args(c, "ec2", REGION), [inst.id.as_str()]);

    let c = find(&listed_ecs, &ecs_fid).expect("the task is listed");
    assert_eq!(c.cluster.as_deref(), Some(w.cluster.as_str()));
    let ecs_args = command_args(c, "ecs", REGION);
    assert_eq!(ecs_args, [w.cluster.clone(), w.task_arn.clone()]);

    let c = find(&listed_eks, &eks_fid).expect("the pod is listed");
    assert_eq!(
        c.finding_type.as_deref(),
        Some("Execution:Runtime/ReverseShell")
    );
    let eks_args = command_args(c, "eks", eks_world::REGION);
    assert_eq!(
        eks_args,
        [k.cluster.clone(), "shop".into(), pod_name.clone()]
    );

    // The table shows each with its command.
    let inv = Inventory {
        contained: [&listed_ec2, &listed_ecs, &listed_eks]
            .into_iter()
            .flatten()
            .filter(|c| {
                [&ec2_fid, &ecs_fid, &eks_fid].contains(&&c.finding_id.clone().unwrap_or_default())
            })
            .cloned()
            .collect(),
        errors: vec![],
    };
    let text = table::text(&inv, chrono::Utc::now());
    assert!(text.starts_with("3 contained resources"), "{text}");
    for cmd in inv
        .contained
        .iter()
        .filter_map(|c| c.release_command.as_deref())
    {
        assert!(text.contains(&format!("  release: {cmd}\n")), "{text}");
    }

    // Run each command (the words the CLI's release subcommands take).
    released(
        &Ec2Executor::new(&aws.config)
            .release(&inst.id.parse().unwrap(), true)
            .await
            .unwrap()
            .outcomes,
    );
    released(
        &ecs.release(
            &ecs_args[0].parse().unwrap(),
            &ecs_args[1].parse().unwrap(),
            true,
        )
        .await
        .unwrap()
        .outcomes,
    );
    let to_release = PodToRelease::new(eks_world::REGION, &eks_args[0], &eks_args[1], &eks_args[2]);
    released(
        &eks.release(&to_release.request(), true)
            .await
            .unwrap()
            .outcomes,
    );

    // Released: no longer listed.
    assert!(find(&reader.ec2(&place(REGION)).await.unwrap(), &ec2_fid).is_none());
    assert!(find(&reader.ecs(&place(REGION)).await.unwrap(), &ecs_fid).is_none());
    let after = read_eks::read(&clients, &eks_place, &k.cluster)
        .await
        .unwrap();
    assert!(find(&after, &eks_fid).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_records_are_refused_and_an_edited_seal_is_invalid() {
    let aws = Aws::moto(REGION).await;
    let key = world::hmac_key(&aws).await;
    let net = world::network(&aws).await;
    let inst = world::two_eni_instance(&aws, &net).await;
    let fid = quarantine(&aws, &net, &inst, Some(&key)).await;
    let reader = AwsReader::new(&aws.config, &aws.config, Some(key.clone()));
    let listed = reader.ec2(&place(REGION)).await.unwrap();
    let c = find(&listed, &fid).unwrap();
    assert_eq!(c.record, RecordCheck::Verified);

    // The workload (or its stolen credentials) rewrites the unsealed status tags.
    world::set_tag(&aws, &inst.id, FINDING_TYPE_KEY, LURE).await;
    world::set_tag(&aws, &inst.id, QUARANTINED_AT_KEY, "2099-01-01T00:00:00Z").await;
    let listed = reader.ec2(&place(REGION)).await.unwrap();
    let c = find(&listed, &fid).unwrap().clone();
    assert_eq!((c.finding_type.as_deref(), c.contained_at), (None, None));
    assert_eq!(c.notes.len(), 2, "{:?}", c.notes);
    let inv = Inventory {
        contained: vec![c],
        errors: vec![],
    };
    let now = chrono::Utc::now();
    let shown = format!("{}{}", table::text(&inv, now), table::json(&inv, now));
    assert!(
        !shown.contains("<!channel>") && !shown.contains("$(id)"),
        "{shown}"
    );
    // A forged future time does not take it out of the reminder.
    assert!(inv.contained[0].is_older_than(Duration::from_secs(86_400), now));

    // It edits the sealed record: the list says so.
    world::set_tag(&aws, &inst.id, "guardduty-responder:prior:asg", "other-asg").await;
    let listed = reader.ec2(&place(REGION)).await.unwrap();
    assert!(matches!(
        find(&listed, &fid).unwrap().record,
        RecordCheck::Invalid(_)
    ));

    // A pod labels itself with a hostile finding type before its quarantine is listed.
    let k = eks_world(true).await;
    let cid = eks_world::container_id();
    let pod = k.deployment_pod("shop", "api", "q8r7t", &cid);
    let eks_fid = world::unique_finding_id();
    let plan = eks_world::plan(&k.finding(&eks_fid, "shop", "api", "deployments", &cid));
    let outcomes = k.executor(&Guardrails::default()).execute(&plan).await;
    assert!(!any_failed(&outcomes), "{}", show(&outcomes));
    let name = pod["metadata"]["name"].as_str().unwrap();
    let mut p = k.api.get("pods", "shop", name).unwrap();
    p["metadata"]["annotations"]["guardduty-responder/finding-type"] = json!(LURE);
    k.api.put(p);
    let listed = read_eks::read(&k.clients(None), &place(eks_world::REGION), &k.cluster)
        .await
        .unwrap();
    let c = find(&listed, &eks_fid).unwrap();
    assert_eq!(c.finding_type, None);
    assert!(!serde_json::to_string(c).unwrap().contains("<!channel>"));
}

fn buttons(body: &Value) -> Vec<(String, String)> {
    body["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().unwrap().clone())
        .map(|e| {
            assert_eq!(e["type"], "button");
            (
                e["action_id"].as_str().unwrap().to_owned(),
                e["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reminder_posts_only_old_quarantines_each_with_a_release_button() {
    // A moto of its own: the reminder reads the whole account.
    let moto = Moto::start().unwrap();
    let region = "eu-central-1";
    let aws = Aws::at(&moto.endpoint(), region).await;
    let hook = Webhook::start(vec![]).await;
    let settings = NotifySettings {
        slack_webhook_url: Some(SecretUrl::new(hook.url())),
        ..NotifySettings::default()
    };
    let function = ReminderFunction {
        accounts: Accounts::new(aws.config.clone(), None, None),
        notifier: Notifier::new(&aws.config, &settings).await,
        scope: Scope {
            regions: vec![region.into()],
            partition: "aws".into(),
            ..Scope::default()
        },
        min_age: Duration::from_secs(24 * 3600),
    };

    // Nothing contained: nothing posted.
    let r = function.handle(ACCOUNT).await.unwrap();
    assert_eq!(
        (r["contained"].as_u64(), r["due"].as_u64()),
        (Some(0), Some(0))
    );
    let net = world::network(&aws).await;
    let young = world::two_eni_instance(&aws, &net).await;
    quarantine(&aws, &net, &young, None).await;
    // Only a young quarantine: still nothing.
    let r = function.handle(ACCOUNT).await.unwrap();
    assert_eq!(
        (r["contained"].as_u64(), r["due"].as_u64()),
        (Some(1), Some(0))
    );
    assert!(hook.received().is_empty());

    let old = world::two_eni_instance(&aws, &net).await;
    let old_fid = quarantine(&aws, &net, &old, None).await;
    let three_days_ago = (chrono::Utc::now() - chrono::Duration::days(3))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    world::set_tag(&aws, &old.id, QUARANTINED_AT_KEY, &three_days_ago).await;
    let r = function.handle(ACCOUNT).await.unwrap();
    assert_eq!(
        (r["contained"].as_u64(), r["due"].as_u64()),
        (Some(2), Some(1))
    );
    let received = hook.received();
    assert_eq!(received.len(), 1);
    let body: Value = serde_json::from_slice(&received[0].body).unwrap();
    let text = body.to_string();
    assert!(
        text.contains(&old.id) && !text.contains(&young.id),
        "{text}"
    );
    assert!(text.contains("3d 0h"), "{text}");
    assert!(
        text.contains(&format!(
            "responder release ec2 {} --region {region} --execute",
            old.id
        )),
        "{text}"
    );
    let b = buttons(&body);
    assert_eq!(b.len(), 1, "{text}");
    assert_eq!(b[0].0, ButtonAction::Release.action_id());
    let reference = Reference::parse(&b[0].1).unwrap();
    assert_eq!(
        reference,
        Reference::new(ButtonAction::Release, ACCOUNT, region, &old_fid).unwrap()
    );
}
