//! The JSON webhook channel of a real run: `responder-ec2` under the local Lambda Runtime
//! API contains an instance in moto and notifies a real local receiver, which checks the
//! HMAC-SHA256 signature (computed here with the `hmac` crate, independently of the
//! responder's code); every payload is validated against `docs/webhook.schema.json` with
//! Python's `jsonschema`; a 5xx is retried as for Slack.

use hmac::{KeyInit, Mac};
use integration_tests::function_env::{Ec2Finding, FunctionEnv};
use integration_tests::runtime_api::{self, RuntimeApi};
use integration_tests::webhook::{Received, Reply, Webhook};
use integration_tests::world::{self, Aws};
use serde_json::Value;
use std::process::Command;

const KEY: &str = "test-signing-key-0123456789";

/// The receiver's check: timestamp header, `sha256=<hex>` over `<timestamp>.<body>`.
fn verify(r: &Received) -> Result<(), String> {
    let ts = r.header("x-responder-timestamp").ok_or("no timestamp")?;
    let sig = r.header("x-responder-signature").ok_or("no signature")?;
    let hex_sig = sig.strip_prefix("sha256=").ok_or("not sha256=")?;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(KEY.as_bytes()).unwrap();
    mac.update(format!("{ts}.").as_bytes());
    mac.update(&r.body);
    mac.verify_slice(&hex::decode(hex_sig).map_err(|e| e.to_string())?)
        .map_err(|_| "signature mismatch".to_string())?;
    let age = chrono::Utc::now().timestamp() - ts.parse::<i64>().map_err(|e| e.to_string())?;
    (0..300)
        .contains(&age)
        .then_some(())
        .ok_or(format!("timestamp {age} s old"))
}

/// `Ok` when `document` validates against docs/webhook.schema.json (Python jsonschema, from
/// the test venv: `pip install -r requirements-test.txt`).
fn schema_check(document: &Value) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("webhook-schema-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{}.json", world::unique_finding_id()));
    std::fs::write(&path, document.to_string()).unwrap();
    let schema = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/webhook.schema.json"
    );
    let out = Command::new("python3")
        .args([
            "-c",
            "import json, sys, jsonschema\n\
             schema = json.load(open(sys.argv[1]))\n\
             jsonschema.Draft202012Validator.check_schema(schema)\n\
             jsonschema.validate(json.load(open(sys.argv[2])), schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)",
            schema,
            path.to_str().unwrap(),
        ])
        .output()
        .expect("python3 on PATH (the test venv first)");
    let _ = std::fs::remove_file(&path);
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn responses_reach_a_verifying_receiver_signed_retried_and_as_the_schema_says() {
    let aws = Aws::moto("us-east-1").await;
    let net = world::network(&aws).await;
    let event = Ec2Finding::new(&aws, &net).await.event;
    let receiver = Webhook::start(vec![Reply::status(503)]).await;
    let fx = FunctionEnv::start(&aws.config, "responder-webhook").await;
    let api = RuntimeApi::start().await;
    let _function = api.run(
        env!("CARGO_BIN_EXE_responder-ec2"),
        "guardduty-responder-ec2",
        &fx.env(&[
            ("RESPONDER_WEBHOOK_URL", receiver.url()),
            ("RESPONDER_WEBHOOK_SIGNING_KEY", KEY.into()),
        ]),
    );

    let answer = api.call("req-1", event).await;
    assert!(answer.ok, "{:?}", answer.body);
    let delivery: Vec<&Value> = answer.body["handled"][0]["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["channel"] == "webhook")
        .collect();
    assert_eq!(delivery.len(), 1);
    assert_eq!(delivery[0]["ok"], true, "{delivery:?}");
    assert!(
        delivery[0]["detail"]
            .as_str()
            .unwrap()
            .contains("2 attempt"),
        "{delivery:?}"
    );

    let received = receiver.received();
    assert_eq!(received.len(), 2, "one 503, then the retry");
    assert_eq!(
        received[0].body, received[1].body,
        "the retry sends the same document"
    );
    for r in &received {
        verify(r).unwrap();
        assert_eq!(r.content_type, "application/json");
    }
    let doc: Value = serde_json::from_slice(&received[1].body).unwrap();
    schema_check(&doc).unwrap();
    assert_eq!(doc["decision"], "contain");
    assert_eq!(
        doc["finding"]["id"],
        answer.body["handled"][0]["finding_id"]
    );
    let outcomes: Vec<(String, String)> = doc["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["kind"].as_str().unwrap().to_owned(),
                o["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(outcomes, runtime_api::outcomes(&answer, 0));

    // A tampered body fails the receiver's check; a document missing a member fails the schema.
    let mut tampered = received[1].clone();
    tampered.body = String::from_utf8_lossy(&tampered.body)
        .replace("\"contain\"", "\"notify\"")
        .into_bytes();
    assert!(verify(&tampered).is_err());
    let mut incomplete = doc.clone();
    incomplete.as_object_mut().unwrap().remove("decision");
    assert!(schema_check(&incomplete).is_err());

    // A notify-only response (an EKS finding: this function has no EKS executor).
    let eks = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/eks-execution-reverse-shell.json"
    ))
    .unwrap();
    let answer = api.call("req-2", eks).await;
    assert!(answer.ok, "{:?}", answer.body);
    let last = receiver.received().pop().unwrap();
    verify(&last).unwrap();
    let doc: Value = serde_json::from_slice(&last.body).unwrap();
    schema_check(&doc).unwrap();
    assert_eq!(
        (
            doc["decision"].as_str(),
            doc["outcomes"].as_array().map(Vec::len)
        ),
        (Some("notify"), Some(0))
    );
}
