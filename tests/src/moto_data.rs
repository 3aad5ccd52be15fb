//! Reading moto's own record of what happened (`/moto-api/data.json`), e.g. the messages
//! published to an SNS topic, which no AWS API returns.

/// `(message, subject, message attributes)` published to `topic_arn`, oldest first.
pub async fn sns_published(topic_arn: &str) -> Vec<(String, Option<String>, serde_json::Value)> {
    let host = crate::moto::shared()
        .endpoint()
        .trim_start_matches("http://")
        .to_owned();
    let body = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&host).expect("connect to moto");
        write!(
            stream,
            "GET /moto-api/data.json HTTP/1.0\r\nHost: localhost\r\n\r\n"
        )
        .expect("request");
        let mut out = String::new();
        stream.read_to_string(&mut out).expect("response");
        out.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default()
    })
    .await
    .expect("reader thread");
    let data: serde_json::Value = serde_json::from_str(&body).expect("moto data is JSON");
    data["sns"]["Topic"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["arn"] == topic_arn)
        .flat_map(|t| {
            t["sent_notifications"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|n| {
            (
                n[1].as_str().unwrap_or_default().to_owned(),
                n[2].as_str().map(str::to_owned),
                n[3].clone(),
            )
        })
        .collect()
}
