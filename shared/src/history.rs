//! A detector's findings, read from GuardDuty page by page for `responder backtest`:
//! `ListFindings` (paginated, with a criterion on `updatedAt`), then `GetFindings` for each
//! page of ids (at most 50 per call). Read calls only.
//!
//! Each `GetFindings` response is handed on as the JSON the service sent
//! (`{"findings":[…]}`, the API's camelCase), captured from the HTTP response, so it is
//! parsed by the same code as every other input ([`crate::pipeline::plan_stream`]) rather
//! than mapped from the SDK's types field by field. One page is held at a time.

use crate::coverage::audit::{AuditError, detector_id};
use aws_sdk_guardduty::types::{Condition, FindingCriteria};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::sync::{Arc, Mutex};

/// `GetFindings` takes at most this many ids.
pub const GET_FINDINGS_MAX_IDS: usize = 50;

/// Which findings to read.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// The detector; `None`: the only one in the region (`ListDetectors`).
    pub detector_id: Option<String>,
    /// Only findings updated at or after this time (epoch milliseconds).
    pub updated_since_ms: Option<i64>,
    /// Ids per `ListFindings` page (1–50); `None`: 50.
    pub page_size: Option<i32>,
}

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error(transparent)]
    Detector(#[from] AuditError),
    #[error("{operation} failed: {message}")]
    Api {
        operation: &'static str,
        message: String,
    },
    #[error("GetFindings: the response body could not be read")]
    NoBody,
    /// The page handler refused a page (e.g. it could not be parsed at all).
    #[error("{0}")]
    Page(String),
}

fn api<E: std::error::Error>(operation: &'static str) -> impl FnOnce(E) -> HistoryError {
    move |e| HistoryError::Api {
        operation,
        message: crate::sanitize::ascii_line(
            &aws_smithy_types::error::display::DisplayErrorContext(e).to_string(),
            400,
        ),
    }
}

/// Hands each `GetFindings` response body (`{"findings":[…]}`) to `page`, in
/// `ListFindings` order; returns how many finding ids were listed.
pub async fn each_page(
    sdk: &aws_config::SdkConfig,
    query: &Query,
    page: &mut dyn FnMut(&[u8]) -> Result<(), String>,
) -> Result<u64, HistoryError> {
    let gd = aws_sdk_guardduty::Client::new(sdk);
    let detector = detector_id(&gd, query.detector_id.as_deref()).await?;
    let criteria = query.updated_since_ms.map(|since| {
        FindingCriteria::builder()
            .criterion(
                "updatedAt",
                Condition::builder().greater_than_or_equal(since).build(),
            )
            .build()
    });
    let mut listed = 0u64;
    let mut token: Option<String> = None;
    loop {
        let out = gd
            .list_findings()
            .detector_id(&detector)
            .set_finding_criteria(criteria.clone())
            .max_results(query.page_size.unwrap_or(50).clamp(1, 50))
            .set_next_token(token.take())
            .send()
            .await
            .map_err(api("ListFindings"))?;
        for ids in out.finding_ids().chunks(GET_FINDINGS_MAX_IDS) {
            listed += ids.len() as u64;
            let body = get_findings(&gd, &detector, ids).await?;
            page(&body).map_err(HistoryError::Page)?;
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    Ok(listed)
}

/// One finding by id from the region's only detector (`ListDetectors`, `GetFindings`): the
/// response body as sent, `{"findings":[]}` when GuardDuty does not know the id.
pub async fn get_finding(
    sdk: &aws_config::SdkConfig,
    finding_id: &str,
) -> Result<Vec<u8>, HistoryError> {
    let gd = aws_sdk_guardduty::Client::new(sdk);
    let detector = detector_id(&gd, None).await?;
    get_findings(&gd, &detector, &[finding_id.to_owned()]).await
}

/// One `GetFindings` call; its response body as sent.
async fn get_findings(
    gd: &aws_sdk_guardduty::Client,
    detector: &str,
    ids: &[String],
) -> Result<Vec<u8>, HistoryError> {
    let body = Arc::new(Mutex::new(None));
    gd.get_findings()
        .detector_id(detector)
        .set_finding_ids(Some(ids.to_vec()))
        .customize()
        .interceptor(KeepBody(body.clone()))
        .send()
        .await
        .map_err(api("GetFindings"))?;
    let kept = body.lock().unwrap_or_else(|p| p.into_inner()).take();
    kept.ok_or(HistoryError::NoBody)
}

/// Keeps a copy of the response body, read once the SDK has loaded it.
#[derive(Debug)]
struct KeepBody(Arc<Mutex<Option<Vec<u8>>>>);

impl Intercept for KeepBody {
    fn name(&self) -> &'static str {
        "KeepBody"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(bytes) = context.response().body().bytes() {
            *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(bytes.to_vec());
        }
        Ok(())
    }
}
