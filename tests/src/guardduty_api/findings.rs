//! GuardDuty's finding operations: `ListFindings` (an `updatedAt` criterion, `nextToken`
//! pagination), `GetFindings` and `ArchiveFindings` (1 to 50 ids).

use super::{World, bad_request, reply};
use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;
use serde_json::{Value, json};

/// `ListFindings`: ids of the findings whose `updatedAt` meets the criterion, a page at a time.
pub(super) fn list(world: &World, body: &Value) -> Response<Full<Bytes>> {
    let since = &body["findingCriteria"]["criterion"]["updatedAt"]["greaterThanOrEqual"];
    let ids: Vec<&Value> = world
        .findings
        .iter()
        .filter(|(at, _)| since.as_i64().is_none_or(|s| *at >= s))
        .map(|(_, f)| &f["id"])
        .collect();
    let max = body["maxResults"].as_u64().unwrap_or(50);
    if !(1..=50).contains(&max) {
        return bad_request("maxResults must be between 1 and 50");
    }
    let start: usize = match body["nextToken"].as_str() {
        None | Some("") => 0,
        Some(t) => match t.strip_prefix("page-").and_then(|n| n.parse().ok()) {
            Some(n) => n,
            None => return bad_request("invalid nextToken"),
        },
    };
    let end = (start + (max as usize).min(world.page_size.max(1))).min(ids.len());
    let mut out = json!({"findingIds": ids.get(start..end).unwrap_or_default()});
    if end < ids.len() {
        out["nextToken"] = json!(format!("page-{end}"));
    }
    reply(200, out, None)
}

/// `GetFindings`: the findings named, at most 50 per call, as the service returns them.
pub(super) fn get(world: &World, body: &Value) -> Response<Full<Bytes>> {
    let ids = body["findingIds"].as_array().cloned().unwrap_or_default();
    if ids.is_empty() || ids.len() > 50 {
        return bad_request("findingIds must hold 1 to 50 ids");
    }
    let found: Vec<&Value> = world
        .findings
        .iter()
        .map(|(_, f)| f)
        .filter(|f| ids.contains(&f["id"]))
        .collect();
    reply(200, json!({"findings": found}), None)
}

/// `ArchiveFindings`: accepted for 1 to 50 ids (nothing is kept: tests read the call log).
pub(super) fn archive(body: &Value) -> Response<Full<Bytes>> {
    let n = body["findingIds"].as_array().map_or(0, Vec::len);
    if (1..=50).contains(&n) {
        reply(200, json!({}), None)
    } else {
        bad_request("findingIds must hold 1 to 50 ids")
    }
}
