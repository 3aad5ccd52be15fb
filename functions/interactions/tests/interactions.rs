//! The real `responder-interactions` binary under the local Lambda Runtime API, with
//! function-URL (payload 2.0) events signed as Slack signs them: AWS calls go to moto,
//! GuardDuty to the local GuardDuty server, the self-invocation (`lambda:Invoke`, `Event`)
//! to a local recorder whose jobs the test hands back to the function as Lambda would, and
//! replies to a local `response_url` receiver. Every refusal is checked to change nothing.

mod common;

use common::{APPROVER, RELEASER, Rig, SECRET, click_body, groups, now, url_event};
use integration_tests::guardduty_api::{GuardDutyApi, World};
use integration_tests::securityhub_api::SecurityHubApi;
use integration_tests::world::{self, Aws};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn clicks_contain_and_release_and_every_forgery_changes_nothing() {
    let aws = Aws::moto("us-east-1").await;
    let net = world::network(&aws).await;
    let finding = integration_tests::function_env::Ec2Finding::new(&aws, &net).await;
    let event: Value = serde_json::from_slice(&finding.event).unwrap();
    let detail = event["detail"].clone();
    // A sample of the same finding, on another instance: the guardrail forbids containing it.
    let other = world::two_eni_instance(&aws, &net).await;
    let sample_id = world::unique_finding_id();
    let sample_event = world::finding_event(
        "ec2-defense-evasion-kernel-module.json",
        &sample_id,
        "us-east-1",
        &other,
        Some(&net.vpc_id),
    );
    let mut sample: Value = serde_json::from_slice(&sample_event).unwrap();
    sample["detail"]["service"]["additionalInfo"] = json!({"sample": true});
    const DETECTOR: &str = "12abc34d567e8fa901bc2d34e56789f0";
    const PRODUCT: &str = "arn:aws:securityhub:us-east-1::product/aws/guardduty";
    let finding_arn = format!(
        "arn:aws:guardduty:us-east-1:123456789012:detector/{DETECTOR}/finding/{}",
        finding.finding_id
    );
    let hub = SecurityHubApi::start(vec![(PRODUCT.to_owned(), finding_arn.clone())]).await;
    let gd = GuardDutyApi::start(World {
        detectors: vec![DETECTOR.into()],
        findings: vec![(0, detail), (0, sample["detail"].clone())],
        ..World::default()
    })
    .await;
    let mut rig = Rig::start(
        &aws,
        integration_tests::moto::shared().endpoint(),
        gd.endpoint(),
        &[
            ("AWS_ENDPOINT_URL_SECURITYHUB", hub.endpoint()),
            ("RESPONDER_SECURITYHUB_RESOLVE_ON_RELEASE", "on".into()),
            ("RESPONDER_GUARDDUTY_ARCHIVE_ON_RELEASE", "on".into()),
        ],
    )
    .await;
    let hook = rig.hook.clone();
    let id = &finding.finding_id;
    let contain = format!("contain:123456789012:us-east-1:{id}");
    let release = format!("release:123456789012:us-east-1:{id}");
    let before = groups(&aws, &finding.instance).await;

    // Slack checking the URL.
    let verify = json!({"type": "url_verification", "challenge": "abc123"}).to_string();
    let (status, body) = rig.request(url_event(&verify, now(), SECRET, &[])).await;
    assert_eq!((status, body["challenge"].as_str()), (200, Some("abc123")));

    // Refused before anything is dispatched: a bad signature, a stale timestamp.
    let good = click_body("contain", &contain, APPROVER, &hook);
    for (event, want) in [
        (url_event(&good, now(), "not the secret", &[]), 401),
        (url_event(&good, now() - 600, SECRET, &[]), 401),
    ] {
        assert_eq!(rig.request(event).await.0, want);
    }
    // An unknown user: told so, nothing dispatched.
    let stranger = click_body("contain", &contain, "USTRANGER", &hook);
    assert_eq!(
        rig.request(url_event(&stranger, now(), SECRET, &[]))
            .await
            .0,
        200
    );
    let last = rig.replies().pop().expect("a reply to the stranger");
    assert!(
        last["text"].as_str().unwrap().contains("not authorised"),
        "{last}"
    );
    assert_eq!(last["response_type"], "ephemeral");
    // A job sent through the URL, even signed, is only a body.
    let job = json!({"responder_interaction_job": {"reference": contain, "user": APPROVER, "response_url": hook}});
    assert_eq!(
        rig.request(url_event(&job.to_string(), now(), SECRET, &[]))
            .await
            .0,
        200
    );
    assert!(rig.jobs().is_empty(), "nothing may be dispatched yet");
    assert_eq!(
        groups(&aws, &finding.instance).await,
        before,
        "nothing changed"
    );

    // A forged finding id (well-formed, unknown to GuardDuty): accepted, then refused.
    let forged = format!(
        "contain:123456789012:us-east-1:{}",
        world::unique_finding_id()
    );
    let forged = click_body("contain", &forged, APPROVER, &hook);
    assert_eq!(
        rig.request(url_event(&forged, now(), SECRET, &[])).await.0,
        200
    );
    assert_eq!(rig.run_last_job().await, "not_found");
    let last = rig.replies().pop().unwrap();
    assert!(
        last["text"].as_str().unwrap().starts_with("No finding"),
        "{last}"
    );

    // The sample: the guardrail wins over the click.
    let on_sample = format!("contain:123456789012:us-east-1:{sample_id}");
    let on_sample = click_body("contain", &on_sample, APPROVER, &hook);
    let other_before = groups(&aws, &other).await;
    assert_eq!(
        rig.request(url_event(&on_sample, now(), SECRET, &[]))
            .await
            .0,
        200
    );
    assert_eq!(rig.run_last_job().await, "refused_by_guardrail");
    assert!(
        rig.replies().pop().unwrap()["text"]
            .as_str()
            .unwrap()
            .contains("SAMPLE")
    );
    assert_eq!(groups(&aws, &other).await, other_before);

    // The approver's Contain click contains, and the alert is replaced.
    let signed = url_event(&good, now(), SECRET, &[]);
    assert_eq!(rig.request(signed.clone()).await.0, 200);
    assert_eq!(rig.run_last_job().await, "contained");
    let contained = groups(&aws, &finding.instance).await;
    assert!(
        contained
            .iter()
            .zip(&before)
            .all(|(now, was)| now.len() == 1 && !was.contains(&now[0])),
        "every ENI isolated: {contained:?}"
    );
    let replaced = rig.replies().pop().unwrap();
    assert_eq!(replaced["replace_original"], true);
    let text = replaced.to_string();
    assert!(text.contains(&format!("by <@{APPROVER}>")), "{text}");
    assert!(
        text.contains("\"responder_release\""),
        "the alert now offers Release"
    );

    // Acknowledge: said in the channel, the alert stays.
    let ack = format!("acknowledge:123456789012:us-east-1:{id}");
    let ack = click_body("acknowledge", &ack, RELEASER, &hook);
    assert_eq!(
        rig.request(url_event(&ack, now(), SECRET, &[])).await.0,
        200
    );
    assert_eq!(rig.run_last_job().await, "acknowledged");
    let said = rig.replies().pop().unwrap();
    assert_eq!(
        (
            said["response_type"].as_str(),
            said["replace_original"].as_bool()
        ),
        (Some("in_channel"), Some(false))
    );
    assert!(
        said["text"]
            .as_str()
            .unwrap()
            .starts_with(&format!("*Acknowledged* by <@{RELEASER}>")),
        "{said}"
    );
    let dispatched = rig.jobs().len();

    // The same request again, and a Slack retry: neither acts.
    assert_eq!(rig.request(signed).await.0, 401);
    let retry = url_event(&good, now(), SECRET, &[("x-slack-retry-num", "1")]);
    assert_eq!(rig.request(retry).await.0, 200);
    assert_eq!(rig.jobs().len(), dispatched, "no second job");

    // Release: refused to the approver, carried out for the releaser.
    let by_approver = click_body("release", &release, APPROVER, &hook);
    assert_eq!(
        rig.request(url_event(&by_approver, now(), SECRET, &[]))
            .await
            .0,
        200
    );
    assert_eq!(rig.jobs().len(), dispatched);
    assert_eq!(groups(&aws, &finding.instance).await, contained);
    let by_releaser = click_body("release", &release, RELEASER, &hook);
    assert_eq!(
        rig.request(url_event(&by_releaser, now(), SECRET, &[]))
            .await
            .0,
        200
    );
    assert_eq!(rig.run_last_job().await, "released");
    assert_eq!(
        groups(&aws, &finding.instance).await,
        before,
        "groups restored"
    );
    let text = rig.replies().pop().unwrap().to_string();
    assert!(
        text.contains(&format!("*Released* by <@{RELEASER}>")),
        "{text}"
    );
    // Written back as `responder release` does: resolved in Security Hub by the clicking
    // user (the only update: containment's write-back is off here), archived in GuardDuty.
    let update = hub.the_one_update();
    assert_eq!(
        update["FindingIdentifiers"],
        json!([{"Id": finding_arn, "ProductArn": PRODUCT}])
    );
    assert_eq!(update["Workflow"]["Status"], "RESOLVED");
    let note = update["Note"]["Text"].as_str().unwrap();
    assert!(note.contains(RELEASER), "{note}");
    let archived: Vec<_> = gd
        .calls()
        .into_iter()
        .filter(|c| c.path.ends_with("/findings/archive"))
        .collect();
    assert_eq!(archived.len(), 1, "{archived:?}");
    assert_eq!(archived[0].body["findingIds"], json!([finding.finding_id]));
    assert!(text.contains("RESOLVED with a note"), "{text}");
    assert!(text.contains(": done archived"), "{text}");

    // One audit record per attempt, saying who did what to which finding and how it ended;
    // the signing secret never appears.
    let lines = rig
        .function
        .lines_after(|l| l.iter().any(|l| l.contains("\"released\"")))
        .await;
    let audits: Vec<Value> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["audit"] == true)
        .collect();
    let results: Vec<&str> = audits.iter().filter_map(|a| a["result"].as_str()).collect();
    for want in [
        "refused_signature",
        "refused_unauthorised",
        "not_found",
        "refused_by_guardrail",
        "contained",
        "acknowledged",
        "refused_replay",
        "ignored_retry",
        "released",
    ] {
        assert!(
            results.contains(&want),
            "no {want} audit record in {results:?}"
        );
    }
    let contained = audits.iter().find(|a| a["result"] == "contained").unwrap();
    assert_eq!(
        (
            contained["user"].as_str(),
            contained["action"].as_str(),
            contained["finding_id"].as_str()
        ),
        (Some(APPROVER), Some("contain"), Some(id.as_str()))
    );
    assert!(
        lines.iter().all(|l| !l.contains(SECRET)),
        "the signing secret was logged"
    );
}
