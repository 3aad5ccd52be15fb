use super::*;
use serde_json::json;

const VALUE: &str = "contain:123456789012:us-east-1:0123456789abcdef0123456789abcdef";

fn form(payload: &serde_json::Value) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish()
        .into_bytes()
}

fn clicked(action_id: &str, value: &str) -> serde_json::Value {
    json!({"type": "block_actions", "user": {"id": "U024BE7LH"},
        "response_url": "https://hooks.slack.com/actions/T1/2/x",
        "actions": [{"type": "button", "action_id": action_id, "value": value}]})
}

#[test]
fn a_click_yields_its_reference_user_and_response_url() {
    let got = incoming(&form(&clicked("responder_contain", VALUE))).unwrap();
    let Incoming::Click(c) = got else {
        panic!("{got:?}")
    };
    assert_eq!(c.user, "U024BE7LH");
    assert_eq!(c.reference.to_string(), VALUE);
    assert_eq!(c.response_url, "https://hooks.slack.com/actions/T1/2/x");
}

#[test]
fn hostile_clicks_are_refused() {
    let mut two = clicked("responder_contain", VALUE);
    two["actions"] = json!([two["actions"][0], two["actions"][0]]);
    let mut user = clicked("responder_contain", VALUE);
    user["user"]["id"] = json!("U1<!channel>");
    let mut no_url = clicked("responder_contain", VALUE);
    no_url.as_object_mut().unwrap().remove("response_url");
    let cases = [
        (two, BodyError::Actions),
        (user, BodyError::User),
        (no_url, BodyError::ResponseUrl),
        (clicked("responder_release", VALUE), BodyError::ActionId),
    ];
    for (payload, want) in cases {
        assert_eq!(incoming(&form(&payload)), Err(want));
    }
    let forged = clicked(
        "responder_contain",
        "contain:123456789012:us-east-1:../../x",
    );
    assert!(matches!(
        incoming(&form(&forged)),
        Err(BodyError::Reference(_))
    ));
    assert_eq!(incoming(b"payload=%7Bnot json"), Err(BodyError::Shape));
}

#[test]
fn url_verification_and_other_types() {
    let challenge = json!({"type": "url_verification", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"});
    assert_eq!(
        incoming(challenge.to_string().as_bytes()),
        Ok(Incoming::UrlVerification {
            challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P".into()
        })
    );
    let hostile = json!({"type": "url_verification", "challenge": "<script>"});
    assert_eq!(
        incoming(hostile.to_string().as_bytes()),
        Err(BodyError::Shape)
    );
    let other = json!({"type": "view_submission"});
    assert_eq!(
        incoming(&form(&other)),
        Ok(Incoming::Ignored("view_submission".into()))
    );
}

#[test]
fn a_job_is_never_taken_from_a_function_url() {
    let job = json!({JOB_KEY: {"reference": VALUE, "user": "U1", "response_url": "https://hooks.slack.com/x"}});
    assert!(matches!(invocation(&job), Ok(Invocation::Job(_))));
    // The same document as a function-URL body is a body, not a job.
    let url = json!({"requestContext": {"http": {"method": "POST"}}, "headers": {},
        "body": job.to_string(), "isBase64Encoded": false});
    assert!(matches!(invocation(&url), Ok(Invocation::Url(_))));
    let mut extra = job.clone();
    extra["requestContext"] = json!(null);
    assert!(!matches!(invocation(&extra), Ok(Invocation::Job(_))));
    let mut smuggled = job;
    smuggled["other"] = json!(1);
    assert!(invocation(&smuggled).is_err());
}
