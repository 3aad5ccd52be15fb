//! The EKS bearer token, minted in-process (there is no SDK call for it).
//!
//! `k8s-aws-v1.` + base64url-without-padding of a SigV4-presigned
//! `GET https://sts.<region>.<suffix>/?Action=GetCallerIdentity&Version=2011-06-15`
//! whose signed headers include `x-k8s-aws-id: <cluster>`. The API server's authenticator
//! replays the URL against STS to learn who is calling; binding the cluster name into the
//! signature stops a token minted for one cluster from being replayed against another.
//! EKS accepts a token for about 15 minutes after `X-Amz-Date` whatever `X-Amz-Expires`
//! says; we sign with 60 s (as `aws eks get-token` does) and re-mint after [`TOKEN_TTL`].

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::time::{Duration, SystemTime};

pub const TOKEN_PREFIX: &str = "k8s-aws-v1.";
/// The header that binds a token to one cluster.
pub const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";
/// `X-Amz-Expires` of the presigned URL.
pub const PRESIGN_EXPIRES: Duration = Duration::from_secs(60);
/// How long a minted token is reused: well inside the ~15 minutes EKS accepts it.
pub const TOKEN_TTL: Duration = Duration::from_secs(10 * 60);

#[derive(Debug, thiserror::Error)]
#[error("cannot mint the EKS token: {0}")]
pub struct TokenError(pub String);

/// The STS endpoint the token is presigned for, by partition.
pub fn sts_url(region: &str, partition: &str) -> String {
    let suffix = match partition {
        "aws-cn" => "amazonaws.com.cn",
        _ => "amazonaws.com",
    };
    format!("https://sts.{region}.{suffix}/?Action=GetCallerIdentity&Version=2011-06-15")
}

/// The presigned STS URL (before base64), signed at `now`.
pub fn presigned_url(
    credentials: &Credentials,
    region: &str,
    partition: &str,
    cluster: &str,
    now: SystemTime,
) -> Result<String, TokenError> {
    let identity = credentials.clone().into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(PRESIGN_EXPIRES);
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| TokenError(e.to_string()))?
        .into();
    let url = sts_url(region, partition);
    let signable = SignableRequest::new(
        "GET",
        url.as_str(),
        [(CLUSTER_ID_HEADER, cluster)].into_iter(),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| TokenError(e.to_string()))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| TokenError(e.to_string()))?
        .into_parts();
    let mut request = http::Request::builder()
        .method("GET")
        .uri(url.as_str())
        .header(CLUSTER_ID_HEADER, cluster)
        .body(())
        .map_err(|e| TokenError(e.to_string()))?;
    instructions.apply_to_request_http1x(&mut request);
    Ok(request.uri().to_string())
}

/// The bearer token for `cluster`, signed at `now`.
pub fn mint(
    credentials: &Credentials,
    region: &str,
    partition: &str,
    cluster: &str,
    now: SystemTime,
) -> Result<String, TokenError> {
    let url = presigned_url(credentials, region, partition, cluster, now)?;
    Ok(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(url)))
}

/// The presigned URL inside a token, for tests and diagnostics.
pub fn decode(token: &str) -> Option<String> {
    let b64 = token.strip_prefix(TOKEN_PREFIX)?;
    let bytes = URL_SAFE_NO_PAD.decode(b64).ok()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(url: &str) -> Vec<(String, String)> {
        url.split_once('?')
            .unwrap()
            .1
            .split('&')
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                (k.to_owned(), v.to_owned())
            })
            .collect()
    }

    #[test]
    fn token_is_a_presigned_sts_url_bound_to_the_cluster() {
        let creds = Credentials::new("AKIDEXAMPLE", "secret", Some("session".into()), None, "t");
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let token = mint(&creds, "eu-west-1", "aws", "prod", now).unwrap();
        assert!(token.starts_with(TOKEN_PREFIX));
        assert!(!token.contains('=') && !token.contains('+') && !token.contains('/'));
        let url = decode(&token).unwrap();
        assert!(
            url.starts_with(
                "https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&"
            ),
            "{url}"
        );
        let q = query(&url);
        let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("X-Amz-Expires"), Some("60"));
        assert_eq!(get("X-Amz-Algorithm"), Some("AWS4-HMAC-SHA256"));
        assert_eq!(get("X-Amz-Date"), Some("20231114T221320Z"));
        assert_eq!(get("X-Amz-Security-Token"), Some("session"));
        let signed = get("X-Amz-SignedHeaders").unwrap();
        assert!(signed.split("%3B").any(|h| h == "x-k8s-aws-id"), "{signed}");
        assert!(signed.split("%3B").any(|h| h == "host"), "{signed}");
        assert_eq!(get("X-Amz-Signature").map(str::len), Some(64));
        // A token for another cluster has another signature.
        let other = decode(&mint(&creds, "eu-west-1", "aws", "staging", now).unwrap()).unwrap();
        assert_ne!(
            query(&other)
                .into_iter()
                .find(|(k, _)| k == "X-Amz-Signature"),
            q.iter().find(|(k, _)| k == "X-Amz-Signature").cloned()
        );
    }

    #[test]
    fn china_partition_uses_its_suffix() {
        assert!(sts_url("cn-north-1", "aws-cn").contains("sts.cn-north-1.amazonaws.com.cn/"));
    }
}
