//! Reaching a cluster's API server from Lambda: `eks:DescribeCluster` for the endpoint and
//! certificate authority, an in-process token ([`super::token`]), and a `kube` client over
//! rustls. Clients are cached per (credentials, region, cluster) for the life of the
//! process, so a warm Lambda reuses its connection pool; the token inside is re-minted
//! after [`token::TOKEN_TTL`], well before EKS stops accepting it.
//!
//! The seam for tests is [`ClusterClients::with_connection_rewrite`]: `DescribeCluster` is
//! still called (the production path), and the rewrite replaces the endpoint and CA it
//! returned (moto answers with a made-up endpoint and a CA of random bytes).

use super::token;
use aws_config::{Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use base64::Engine;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

/// Where a cluster's API server is and whom to trust for it.
#[derive(Clone, PartialEq, Eq)]
pub struct Connection {
    /// `https://…` API server endpoint.
    pub endpoint: String,
    /// The cluster CA bundle, PEM.
    pub ca_pem: Vec<u8>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("endpoint", &self.endpoint)
            .field("ca_pem_bytes", &self.ca_pem.len())
            .finish()
    }
}

/// Replaces the connection `DescribeCluster` returned for a cluster (tests only).
pub type ConnectionRewrite = Arc<dyn Fn(&str, Connection) -> Connection + Send + Sync>;

/// Why a cluster could not be reached. Names the step so the outcome says what to fix.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AccessError {
    #[error("eks:DescribeCluster {cluster}: {message}")]
    Describe { cluster: String, message: String },
    #[error("cluster {cluster} has no {what} in DescribeCluster (is it ACTIVE?)")]
    Incomplete { cluster: String, what: &'static str },
    #[error("cluster {cluster}: certificate authority unusable: {message}")]
    Ca { cluster: String, message: String },
    #[error("no AWS credentials to mint the EKS token: {0}")]
    Credentials(String),
    #[error(transparent)]
    Token(#[from] ArcTokenError),
    #[error("cluster {cluster}: cannot build the Kubernetes client: {message}")]
    Client { cluster: String, message: String },
}

/// [`token::TokenError`] made `Clone` for [`AccessError`].
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct ArcTokenError(String);

impl From<token::TokenError> for AccessError {
    fn from(e: token::TokenError) -> Self {
        AccessError::Token(ArcTokenError(e.to_string()))
    }
}

struct Cached {
    connection: Connection,
    client: kube::Client,
    minted: Instant,
}

/// (access key id of the credentials, region, cluster): a token is bound to the identity
/// that signed it, and the Lambda acts in several accounts whose clusters may share names.
type Key = (String, String, String);

/// Clients by cluster. One per process is shared by every [`ClusterClients`] (the Lambda
/// handler builds an executor per invocation, with that account's credentials), so warm
/// invocations reuse the connection pool and the token.
#[derive(Default)]
pub struct ClientCache(tokio::sync::Mutex<HashMap<Key, Cached>>);

/// Entries unused this long are dropped (their credentials have rotated anyway).
const STALE: Duration = Duration::from_secs(60 * 60);

fn shared_cache() -> Arc<ClientCache> {
    static SHARED: OnceLock<Arc<ClientCache>> = OnceLock::new();
    SHARED
        .get_or_init(|| Arc::new(ClientCache::default()))
        .clone()
}

/// Kubernetes clients per cluster, built on demand and reused across invocations.
pub struct ClusterClients {
    config: SdkConfig,
    rewrite: Option<ConnectionRewrite>,
    ttl: Duration,
    cache: Arc<ClientCache>,
}

impl fmt::Debug for ClusterClients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterClients")
            .field("rewrite", &self.rewrite.is_some())
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl ClusterClients {
    /// Clients from the process-wide cache, described and signed with `config`.
    pub fn new(config: &SdkConfig) -> ClusterClients {
        ClusterClients {
            config: config.clone(),
            rewrite: None,
            ttl: token::TOKEN_TTL,
            cache: shared_cache(),
        }
    }

    /// Test seam: rewrite the endpoint and CA that `DescribeCluster` returned.
    pub fn with_connection_rewrite(mut self, rewrite: ConnectionRewrite) -> ClusterClients {
        self.rewrite = Some(rewrite);
        self
    }

    /// How long a client (and the token inside it) is reused. Tests shorten it.
    pub fn with_token_ttl(mut self, ttl: Duration) -> ClusterClients {
        self.ttl = ttl;
        self
    }

    /// A cache of its own instead of the process-wide one.
    pub fn with_private_cache(mut self) -> ClusterClients {
        self.cache = Arc::new(ClientCache::default());
        self
    }

    /// A client for `cluster` in `region`, from the cache while its token is fresh.
    pub async fn client(
        &self,
        region: &str,
        partition: &str,
        cluster: &str,
    ) -> Result<kube::Client, AccessError> {
        let creds = self.credentials().await?;
        let key = (
            creds.access_key_id().to_owned(),
            region.to_owned(),
            cluster.to_owned(),
        );
        let mut cache = self.cache.0.lock().await;
        if let Some(c) = cache.get(&key)
            && c.minted.elapsed() < self.ttl
        {
            return Ok(c.client.clone());
        }
        // Endpoint and CA do not change: only the token is renewed.
        let connection = match cache.remove(&key) {
            Some(c) => c.connection,
            None => self.describe(region, cluster).await?,
        };
        let token = token::mint(&creds, region, partition, cluster, SystemTime::now())?;
        let client = build_client(cluster, &connection, token)?;
        cache.retain(|_, c| c.minted.elapsed() < STALE);
        cache.insert(
            key,
            Cached {
                connection,
                client: client.clone(),
                minted: Instant::now(),
            },
        );
        Ok(client)
    }

    /// Drops the cached clients of a cluster, e.g. after a 401, so the next call describes
    /// and mints anew.
    pub async fn forget(&self, region: &str, cluster: &str) {
        self.cache
            .0
            .lock()
            .await
            .retain(|(_, r, c), _| !(r == region && c == cluster));
    }

    /// `eks:DescribeCluster` → endpoint and CA (then the test rewrite, if any).
    pub async fn describe(&self, region: &str, cluster: &str) -> Result<Connection, AccessError> {
        let conf = aws_sdk_eks::config::Builder::from(&self.config)
            .region(Region::new(region.to_owned()))
            .build();
        let eks = aws_sdk_eks::Client::from_conf(conf);
        let out = eks
            .describe_cluster()
            .name(cluster)
            .send()
            .await
            .map_err(|e| AccessError::Describe {
                cluster: cluster.to_owned(),
                message: aws_sdk_eks::error::DisplayErrorContext(&e).to_string(),
            })?;
        let c = out.cluster.ok_or_else(|| AccessError::Incomplete {
            cluster: cluster.to_owned(),
            what: "cluster",
        })?;
        let endpoint = c.endpoint.ok_or_else(|| AccessError::Incomplete {
            cluster: cluster.to_owned(),
            what: "endpoint",
        })?;
        let ca_b64 = c
            .certificate_authority
            .and_then(|ca| ca.data)
            .ok_or_else(|| AccessError::Incomplete {
                cluster: cluster.to_owned(),
                what: "certificate authority",
            })?;
        // DescribeCluster gives base64(PEM). moto gives random bytes; the rewrite fixes that.
        let ca_pem = base64::engine::general_purpose::STANDARD
            .decode(ca_b64.trim())
            .unwrap_or_default();
        let connection = Connection { endpoint, ca_pem };
        Ok(match &self.rewrite {
            Some(f) => f(cluster, connection),
            None => connection,
        })
    }

    async fn credentials(&self) -> Result<Credentials, AccessError> {
        let provider = self
            .config
            .credentials_provider()
            .ok_or_else(|| AccessError::Credentials("no credentials provider".into()))?;
        provider
            .provide_credentials()
            .await
            .map_err(|e| AccessError::Credentials(e.to_string()))
    }
}

/// The DER certificates of a PEM bundle.
pub fn ca_certificates(pem: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .map(|c| c.map(|c| c.as_ref().to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not a PEM certificate bundle: {e}"))?;
    if certs.is_empty() {
        return Err("no certificate in the bundle".into());
    }
    Ok(certs)
}

fn build_client(
    cluster: &str,
    connection: &Connection,
    token: String,
) -> Result<kube::Client, AccessError> {
    let err = |message: String| AccessError::Client {
        cluster: cluster.to_owned(),
        message,
    };
    if !connection.endpoint.starts_with("https://") {
        return Err(err(format!(
            "endpoint {:?} is not https",
            connection.endpoint
        )));
    }
    let uri = connection
        .endpoint
        .parse::<http::Uri>()
        .map_err(|e| err(format!("endpoint {:?}: {e}", connection.endpoint)))?;
    let roots = ca_certificates(&connection.ca_pem).map_err(|message| AccessError::Ca {
        cluster: cluster.to_owned(),
        message,
    })?;
    // Both rustls providers can be compiled in (the SDK's aws-lc-rs, reqwest's ring);
    // kube builds its TLS config from the process default, so name one.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut config = kube::Config::new(uri);
    config.root_cert = Some(roots);
    config.auth_info.token = Some(secrecy::SecretString::from(token));
    config.connect_timeout = Some(Duration::from_secs(5));
    config.read_timeout = Some(Duration::from_secs(15));
    config.write_timeout = Some(Duration::from_secs(15));
    // kube's own retry waits up to minutes per call; ours is bounded (retry.rs).
    config.default_retry = false;
    let inner = kube::Client::try_from(config).map_err(|e| err(e.to_string()))?;
    Ok(super::retry::bounded(inner))
}
