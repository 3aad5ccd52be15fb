//! `responder evidence verify s3://BUCKET/PREFIX` (feature `aws`): every object under the
//! bundle's prefix is read (`ListObjectsV2`, `GetObject`, with the investigator's own
//! credentials: the responder's roles cannot read the bucket) and checked against the
//! manifest as a downloaded directory would be.

use std::collections::BTreeMap;

use responder::evidence::{Digest, MANIFEST_NAME, Report, verify_found};

/// `s3://bucket/prefix` → `(bucket, prefix/)`.
fn parse(location: &str) -> Result<(String, String), String> {
    let rest = location
        .strip_prefix("s3://")
        .ok_or_else(|| format!("{location}: not an s3:// location"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() || prefix.trim_matches('/').is_empty() {
        return Err(format!(
            "{location}: expected s3://BUCKET/evidence/ACCOUNT/FINDING/RESOURCE/"
        ));
    }
    Ok((
        bucket.to_owned(),
        format!("{}/", prefix.trim_end_matches('/')),
    ))
}

pub async fn verify_s3(location: &str, expected: Option<&str>) -> Result<Report, String> {
    let (bucket, prefix) = parse(location)?;
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into());
    let sdk = responder::execute::aws::sdk_config(&region).await;
    let conf = aws_sdk_s3::config::Builder::from(&sdk)
        .force_path_style(sdk.endpoint_url().is_some())
        .build();
    let s3 = aws_sdk_s3::Client::from_conf(conf);
    let mut keys = Vec::new();
    let mut pages = s3
        .list_objects_v2()
        .bucket(&bucket)
        .prefix(&prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("ListObjectsV2 {location}: {e:?}"))?;
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
    }
    let mut manifest = None;
    let mut found = BTreeMap::new();
    for key in keys {
        let got = s3
            .get_object()
            .bucket(&bucket)
            .key(&key)
            .send()
            .await
            .map_err(|e| format!("GetObject {key}: {e:?}"))?;
        let bytes = got
            .body
            .collect()
            .await
            .map_err(|e| format!("GetObject {key}: {e}"))?
            .into_bytes();
        let relative = key.strip_prefix(&prefix).unwrap_or(&key).to_owned();
        if relative == MANIFEST_NAME {
            manifest = Some(bytes.to_vec());
        } else {
            found.insert(relative, Digest::of(&bytes));
        }
    }
    verify_found(manifest.as_deref(), &found, expected).map_err(|e| format!("{location}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn a_location_is_a_bucket_and_a_prefix_ending_in_a_slash() {
        assert_eq!(
            parse("s3://b/evidence/1/f/r").unwrap(),
            ("b".to_owned(), "evidence/1/f/r/".to_owned())
        );
        assert_eq!(
            parse("s3://b/evidence/1/f/r/").unwrap().1,
            "evidence/1/f/r/"
        );
        for bad in ["s3://", "s3://b", "s3://b/", "s3:///x", "b/x"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
