//! The metrics of a real run: `responder-ec2` under the local Lambda Runtime API contains
//! an instance in moto; every EMF line it prints is checked against the specification
//! (`integration_tests::emf`), and the values against what the invocation answered.

use integration_tests::emf::{self, Datum};
use integration_tests::function_env::{Ec2Finding, FunctionEnv};
use integration_tests::runtime_api::{self, RuntimeApi};
use integration_tests::world::{self, Aws};
use std::collections::BTreeMap;

const FUNCTION: &str = "guardduty-responder-ec2";

/// The data of `metric` whose dimension keys are exactly `keys`.
fn of<'a>(data: &'a [Datum], metric: &str, keys: &[&str]) -> Vec<&'a Datum> {
    data.iter()
        .filter(|d| d.name == metric && d.keys() == keys)
        .collect()
}

/// `(action, status) → count` of the answer's outcomes, in the metrics' spelling.
fn answered(answer: &runtime_api::Answer) -> BTreeMap<(String, String), f64> {
    let mut counts = BTreeMap::new();
    for (kind, status) in runtime_api::outcomes(answer, 0) {
        *counts.entry((kind, status)).or_insert(0.0) += 1.0;
    }
    counts
}

fn measured(data: &[Datum]) -> BTreeMap<(String, String), f64> {
    of(
        data,
        "Actions",
        &["Function", "Surface", "Action", "Status"],
    )
    .into_iter()
    .map(|d| {
        let key = (
            d.dimension("Action").unwrap().to_owned(),
            d.dimension("Status").unwrap().to_owned(),
        );
        (key, d.sum())
    })
    .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_containment_writes_valid_emf_that_matches_what_happened() {
    let aws = Aws::moto("us-east-1").await;
    let net = world::network(&aws).await;
    let f = Ec2Finding::new(&aws, &net).await;
    let (instance, finding_id, event) = (&f.instance, &f.finding_id, f.event.clone());
    let updated_at = f
        .detail("updatedAt")
        .parse::<chrono::DateTime<chrono::Utc>>()
        .unwrap();
    let fx = FunctionEnv::start(&aws.config, "responder-emf").await;
    let api = RuntimeApi::start().await;
    let function = api.run(env!("CARGO_BIN_EXE_responder-ec2"), FUNCTION, &fx.env(&[]));

    let sent = chrono::Utc::now();
    let first = api.call("req-1", event.clone()).await;
    let answered_at = chrono::Utc::now();
    assert!(first.ok, "{:?}", first.body);
    let lines = function
        .lines_after(|l| emf::data(l).iter().any(|d| d.name == "Deliveries"))
        .await;
    let data = emf::data(&lines);
    assert!(data.iter().all(|d| d.namespace == "GuardDutyResponder"));
    assert!(
        data.iter()
            .all(|d| d.dimension("Function") == Some(FUNCTION)),
        "every metric is by function"
    );
    let text = lines.join("\n");
    // Low cardinality: no finding, instance or account id is a dimension value.
    for d in &data {
        for (_, v) in &d.dimensions {
            assert!(
                ![finding_id.as_str(), instance.id.as_str(), "123456789012"].contains(&v.as_str()),
                "{d:?}"
            );
        }
    }
    assert!(
        text.contains(finding_id.as_str()),
        "the log record still names the finding"
    );

    let findings = of(
        &data,
        "Findings",
        &["Function", "Decision", "Family", "Surface"],
    );
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(
        (
            findings[0].dimension("Decision"),
            findings[0].dimension("Family"),
            findings[0].dimension("Surface")
        ),
        (Some("contain"), Some("DefenseEvasion"), Some("ec2"))
    );
    assert_eq!(
        of(&data, "Findings", &["Function", "Decision"])[0].sum(),
        1.0
    );

    let expected = answered(&first);
    assert!(expected.contains_key(&("ec2.isolate_network".into(), "done".into())));
    assert_eq!(
        measured(&data),
        expected,
        "Actions by kind × status are the answer's outcomes"
    );

    let run = of(&data, "ContainmentFailures", &["Function"]);
    assert_eq!((run.len(), run[0].sum()), (1, 0.0));
    let tti = of(&data, "TimeToIsolation", &["Function"]);
    let rti = of(&data, "ReceiptToIsolation", &["Function"]);
    assert_eq!((tti.len(), rti.len()), (1, 1));
    assert_eq!(tti[0].unit.as_deref(), Some("Milliseconds"));
    // Isolation came after the finding was updated and after the event was sent, and
    // before the answer came back.
    let lower = (sent - updated_at).num_milliseconds() as f64;
    let upper = (answered_at - updated_at).num_milliseconds() as f64;
    assert!(
        (lower..=upper).contains(&tti[0].sum()),
        "{} not in {lower}..={upper}",
        tti[0].sum()
    );
    let within = (answered_at - sent).num_milliseconds() as f64;
    assert!(
        (0.0..=within).contains(&rti[0].sum()),
        "{} not in 0..={within}",
        rti[0].sum()
    );

    let deliveries: BTreeMap<(String, String), f64> =
        of(&data, "Deliveries", &["Function", "Channel", "Status"])
            .into_iter()
            .map(|d| {
                (
                    (
                        d.dimension("Channel").unwrap().to_owned(),
                        d.dimension("Status").unwrap().to_owned(),
                    ),
                    d.sum(),
                )
            })
            .collect();
    let mut expected_deliveries = BTreeMap::new();
    for d in first.body["handled"][0]["deliveries"].as_array().unwrap() {
        let status = if d["ok"] == true { "ok" } else { "failed" };
        *expected_deliveries
            .entry((d["channel"].as_str().unwrap().to_owned(), status.to_owned()))
            .or_insert(0.0) += 1.0;
    }
    assert_eq!(deliveries, expected_deliveries);
    assert!(deliveries.contains_key(&("slack".into(), "ok".into())));

    // A re-delivery: every action already done, no new isolation to time.
    let seen = lines.len();
    let second = api.call("req-2", event).await;
    assert!(second.ok, "{:?}", second.body);
    let lines = function
        .lines_after(|l| emf::data(&l[seen..]).iter().any(|d| d.name == "Deliveries"))
        .await;
    let data = emf::data(&lines[seen..]);
    assert_eq!(measured(&data), answered(&second));
    assert!(measured(&data).keys().any(|(_, s)| s == "already_done"));
    assert!(of(&data, "TimeToIsolation", &["Function"]).is_empty());
    assert_eq!(
        of(&data, "ContainmentFailures", &["Function"])[0].sum(),
        0.0
    );
}
