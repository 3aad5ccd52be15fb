//! Envelopes that carry a finding event as a JSON string: an SNS notification (what an
//! SQS queue, an HTTPS endpoint or a saved e-mail subscribed to the topic receives), an
//! SQS message (a Lambda `Records` batch, or `aws sqs receive-message` output) and
//! EventBridge `Entries` (`aws events put-events` input, archive exports). Each is
//! unwrapped and what is inside is parsed as any other input, so the shapes compose.

use super::entry::{Context, Entry};
use super::error::ParseError;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

/// An SNS notification's `Message`: a JSON string holding the published document.
pub fn sns_message(
    message: &RawValue,
    at: &str,
    context: Context<'_>,
) -> Result<Vec<Entry>, ParseError> {
    let text: String = string_at(message, at)?;
    context.inner(at, text.as_bytes())
}

/// A Lambda `Records` batch: SQS records (`body`) or SNS records (`Sns.Message`).
pub fn records(records: &RawValue, context: Context<'_>) -> Result<Vec<Entry>, ParseError> {
    #[derive(Deserialize)]
    struct Record<'a> {
        #[serde(borrow)]
        body: Option<&'a RawValue>,
        #[serde(rename = "Sns", borrow)]
        sns: Option<SnsRecord<'a>>,
    }
    #[derive(Deserialize)]
    struct SnsRecord<'a> {
        #[serde(rename = "Message", borrow)]
        message: Option<&'a RawValue>,
    }
    let list: Vec<Record> = list_at(records, "Records")?;
    each(list, "Records", |record, at| {
        match (record.body, record.sns.and_then(|s| s.message)) {
            (Some(body), _) => sns_message(body, &format!("{at}.body"), context),
            (None, Some(message)) => sns_message(message, &format!("{at}.Sns.Message"), context),
            (None, None) => Err(ParseError::InvalidField {
                path: at.to_owned(),
                message: "neither an SQS record (body) nor an SNS record (Sns.Message)".into(),
            }),
        }
    })
}

/// `aws sqs receive-message` output: `{"Messages":[{"Body": …}]}`.
pub fn sqs_messages(messages: &RawValue, context: Context<'_>) -> Result<Vec<Entry>, ParseError> {
    #[derive(Deserialize)]
    struct Message<'a> {
        #[serde(rename = "Body", borrow)]
        body: &'a RawValue,
    }
    let list: Vec<Message> = list_at(messages, "Messages")?;
    each(list, "Messages", |m, at| {
        sns_message(m.body, &format!("{at}.Body"), context)
    })
}

/// `aws events put-events` input and archive exports: `{"Entries":[{"Source",
/// "DetailType", "Detail": "<JSON string>"}]}`, each read as the event it would become.
pub fn entries(entries: &RawValue, context: Context<'_>) -> Result<Vec<Entry>, ParseError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct PutEventsEntry<'a> {
        source: String,
        detail_type: String,
        #[serde(borrow)]
        detail: &'a RawValue,
    }
    let list: Vec<PutEventsEntry> = list_at(entries, "Entries")?;
    each(list, "Entries", |e, at| {
        let detail_at = format!("{at}.Detail");
        let detail: String = string_at(e.detail, &detail_at)?;
        serde_json::from_str::<&RawValue>(&detail)
            .map_err(|err| ParseError::NotJson(err.to_string()).within(&detail_at))?;
        let event = format!(
            r#"{{"detail-type":{},"source":{},"detail":{detail}}}"#,
            json_string(&e.detail_type),
            json_string(&e.source)
        );
        context.inner(at, event.as_bytes())
    })
}

/// Every element's entries, in order; the first error (with its index) rejects the input.
fn each<T>(
    list: Vec<T>,
    name: &str,
    mut one: impl FnMut(T, &str) -> Result<Vec<Entry>, ParseError>,
) -> Result<Vec<Entry>, ParseError> {
    if list.is_empty() {
        return Err(ParseError::InvalidField {
            path: name.to_owned(),
            message: "empty list".into(),
        });
    }
    let mut out = Vec::new();
    for (i, item) in list.into_iter().enumerate() {
        out.extend(one(item, &format!("{name}[{i}]"))?);
    }
    Ok(out)
}

fn list_at<'a, T: Deserialize<'a>>(raw: &'a RawValue, at: &str) -> Result<Vec<T>, ParseError> {
    let mut de = serde_json::Deserializer::from_str(raw.get());
    serde_path_to_error::deserialize(&mut de).map_err(|e| super::error::field_error(at, e))
}

fn string_at<T: DeserializeOwned>(raw: &RawValue, at: &str) -> Result<T, ParseError> {
    serde_json::from_str(raw.get()).map_err(|_| ParseError::InvalidField {
        path: at.to_owned(),
        message: "expected a JSON document as a string".into(),
    })
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use crate::finding::{Entry, ParseError, parse_input};

    const EVENT: &str = r#"{"detail-type":"GuardDuty Finding","source":"aws.guardduty","detail":
        {"id":"abc","type":"Execution:Runtime/ReverseShell","severity":8,"accountId":"123456789012",
         "region":"us-east-1","resource":{"resourceType":"Instance"}}}"#;

    fn quoted(s: &str) -> String {
        serde_json::Value::String(s.to_owned()).to_string()
    }

    fn ids(input: &str) -> Vec<String> {
        parse_input(input.as_bytes())
            .unwrap()
            .into_iter()
            .map(|e| match e {
                Entry::Finding(f) => f.id.as_raw().to_owned(),
                Entry::NotAFinding { detail_type } => detail_type,
            })
            .collect()
    }

    fn sns(inner: &str) -> String {
        format!(
            r#"{{"Type":"Notification","MessageId":"m","TopicArn":"arn:aws:sns:us-east-1:1:t","Message":{}}}"#,
            quoted(inner)
        )
    }

    #[test]
    fn sns_sqs_and_entries_unwrap_to_the_same_finding() {
        let direct = ids(EVENT);
        let in_sns = sns(EVENT);
        let in_batch = format!(
            r#"{{"Records":[{{"messageId":"1","eventSource":"aws:sqs","body":{}}},{{"EventSource":"aws:sns","Sns":{}}}]}}"#,
            quoted(&in_sns),
            in_sns
        );
        let received = format!(
            r#"{{"Messages":[{{"MessageId":"1","Body":{}}}]}}"#,
            quoted(&in_sns)
        );
        let detail: serde_json::Value = serde_json::from_str(EVENT).unwrap();
        let put = format!(
            r#"{{"Entries":[{{"Source":"aws.guardduty","DetailType":"GuardDuty Finding","Detail":{}}}]}}"#,
            quoted(&detail["detail"].to_string())
        );
        assert_eq!(ids(&in_sns), direct);
        assert_eq!(ids(&in_batch), [direct.clone(), direct.clone()].concat());
        assert_eq!(ids(&received), direct);
        assert_eq!(ids(&put), direct);
    }

    #[test]
    fn errors_say_in_which_wrapper_they_are() {
        let broken = EVENT.replace(r#""id":"abc","#, "");
        let batch = format!(
            r#"{{"Records":[{{"body":{}}},{{"body":{}}}]}}"#,
            quoted(&sns(EVENT)),
            quoted(&sns(&broken))
        );
        let err = parse_input(batch.as_bytes()).unwrap_err().to_string();
        assert_eq!(
            err,
            "Records[1].body: Message: missing required field detail.id"
        );
        let not_a_string = r#"{"Type":"Notification","Message":{"a":1}}"#;
        assert!(matches!(
            parse_input(not_a_string.as_bytes()).unwrap_err(),
            ParseError::InvalidField { path, .. } if path == "Message"
        ));
        let bad_detail = r#"{"Entries":[{"Source":"aws.guardduty","DetailType":"GuardDuty Finding","Detail":"{nope"}]}"#;
        assert!(
            parse_input(bad_detail.as_bytes())
                .unwrap_err()
                .to_string()
                .starts_with("Entries[0].Detail: input is not valid JSON")
        );
        assert!(parse_input(br#"{"Records":[{"s3":{}}]}"#).is_err());
        assert!(parse_input(br#"{"Records":[]}"#).is_err());
    }

    fn wrapped(inner: &str, how: u8) -> String {
        match how {
            0 => sns(inner),
            1 => format!(
                r#"{{"Records":[{{"eventSource":"aws:sqs","body":{}}}]}}"#,
                quoted(inner)
            ),
            2 => format!(r#"{{"Messages":[{{"Body":{}}}]}}"#, quoted(inner)),
            _ => format!(
                r#"{{"Records":[{{"Sns":{{"Type":"Notification","Message":{}}}}}]}}"#,
                quoted(inner)
            ),
        }
    }

    proptest::proptest! {
        /// Any stack of up to three wrappers reads as the event itself, and any text where
        /// a wrapper expects a document is entries or an error, never a panic.
        #[test]
        fn any_stack_of_wrappers_reads_as_the_event(
            stack in proptest::collection::vec(0u8..4, 0..=3),
            junk in ".{0,64}",
            how in 0u8..4,
        ) {
            let mut doc = EVENT.to_owned();
            for how in stack {
                doc = wrapped(&doc, how);
            }
            proptest::prop_assert_eq!(ids(&doc), ids(EVENT));
            let _ = parse_input(wrapped(&junk, how).as_bytes());
        }
    }

    #[test]
    fn wrappers_cannot_nest_without_bound() {
        let mut doc = EVENT.to_owned();
        for _ in 0..6 {
            doc = sns(&doc);
        }
        let err = parse_input(doc.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("nested deeper than"), "{err}");
    }
}
