//! Writing a bundle to the evidence bucket (feature `evidence-s3`): one `PutObject` per
//! object, then the manifest last. Every put carries `If-None-Match: *` (S3 refuses a key
//! that exists, and the bucket policy refuses a put without it), the object's SHA-256 as
//! its checksum (S3 refuses bytes that do not match what the manifest lists) and SSE-KMS
//! with the bucket's key. The writer can only add: it never reads, lists or deletes.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ServerSideEncryption};
use base64::Engine as _;
use sha2::Digest as _;

use super::manifest::{Bundle, MANIFEST_NAME, sha256_hex};

/// What the writer calls (`infra/modules/responder/iam.tf`'s `evidence_statements` grant
/// exactly these, on `<bucket>/evidence/*` and the bucket's key through S3 only).
pub const PERMISSIONS: &[&str] = &["s3:PutObject", "kms:GenerateDataKey"];

/// Why a bundle was not (completely) written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The key exists: an earlier run wrote this bundle (or began to). Evidence is never
    /// overwritten, so this run stops.
    #[error("{key} already exists (written by an earlier run; evidence is never overwritten)")]
    Exists { key: String },
    #[error("PutObject {key}: {error}")]
    Put { key: String, error: String },
}

/// The evidence bucket, write-only.
#[derive(Debug, Clone)]
pub struct EvidenceStore {
    s3: aws_sdk_s3::Client,
    bucket: String,
    kms_key_id: Option<String>,
}

impl EvidenceStore {
    /// `kms_key_id`: the bucket's key; none leaves encryption to the bucket's default.
    /// `region`: the bucket's (the deployment's), whatever region is being contained.
    pub fn new(
        sdk: &aws_config::SdkConfig,
        bucket: &str,
        region: Option<&str>,
        kms_key_id: Option<&str>,
    ) -> Self {
        // A local endpoint (tests, a VPC endpoint URL) cannot resolve bucket host names.
        let path_style = sdk.endpoint_url().is_some();
        let mut conf = aws_sdk_s3::config::Builder::from(sdk).force_path_style(path_style);
        if let Some(r) = region {
            conf = conf.region(aws_config::Region::new(r.to_owned()));
        }
        let conf = conf.build();
        EvidenceStore {
            s3: aws_sdk_s3::Client::from_conf(conf),
            bucket: bucket.to_owned(),
            kms_key_id: kms_key_id.map(str::to_owned),
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Puts every object of `bundle` not in `written` (keys put earlier by this run), then
    /// its manifest, and returns the manifest's SHA-256. Stops at the first refusal: a
    /// manifest is only written over a complete set.
    pub async fn write(&self, bundle: &Bundle, written: &[String]) -> Result<String, StoreError> {
        for (key, bytes) in bundle.objects() {
            if !written.contains(&key) {
                self.put(&key, bytes).await?;
            }
        }
        let manifest = bundle.manifest().to_bytes();
        let key = format!("{}{MANIFEST_NAME}", bundle.prefix());
        self.put(&key, &manifest).await?;
        Ok(sha256_hex(&manifest))
    }

    /// One write-once put.
    pub async fn put(&self, key: &str, bytes: &[u8]) -> Result<(), StoreError> {
        // The checksum header is the base64 of the raw digest, not its hex.
        let digest = sha2::Sha256::digest(bytes);
        let mut put = self
            .s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .if_none_match("*")
            // Object Lock buckets refuse a put without a checksum algorithm (or Content-MD5).
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .checksum_sha256(base64::engine::general_purpose::STANDARD.encode(digest))
            .body(ByteStream::from(bytes.to_vec()));
        if let Some(k) = &self.kms_key_id {
            put = put
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .ssekms_key_id(k);
        }
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e) => match e.code() {
                // 412, or 409 when a concurrent put of the same key is in flight.
                Some("PreconditionFailed" | "ConditionalRequestConflict") => {
                    Err(StoreError::Exists {
                        key: key.to_owned(),
                    })
                }
                code => Err(StoreError::Put {
                    key: key.to_owned(),
                    error: crate::sanitize::ascii_line(
                        &match (code, e.message()) {
                            (Some(c), Some(m)) => format!("{c}: {m}"),
                            (Some(c), None) => c.to_owned(),
                            _ => aws_smithy_types::error::display::DisplayErrorContext(&e)
                                .to_string(),
                        },
                        300,
                    ),
                }),
            },
        }
    }
}
