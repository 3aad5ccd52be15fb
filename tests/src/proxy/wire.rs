//! How a call names its AWS action and how an error is answered, in each wire protocol.

/// The action of a JSON-protocol call: `X-Amz-Target: AmazonEC2ContainerServiceV20141113.TagResource`.
pub(super) fn json_action_of(target: Option<&str>) -> Option<String> {
    target
        .and_then(|t| t.rsplit('.').next())
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
}

/// `Action=...` from a query-protocol form body (EC2, Auto Scaling, SNS, STS...).
pub(super) fn action_of(body: &[u8], query: Option<&str>) -> String {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .chain(query.unwrap_or("").split('&'))
        .find_map(|kv| kv.strip_prefix("Action="))
        .unwrap_or("")
        .to_owned()
}

/// The action of a GuardDuty or EKS REST-JSON call the responder sends, from its method and
/// path (moto 5 has no EKS Pod Identity: tests answer those calls here).
pub(super) fn rest_action_of(method: &str, path: &str) -> Option<String> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let action = match (method, parts.as_slice()) {
        ("GET", ["detector"]) => "ListDetectors",
        ("POST", ["detector", _, "coverage"]) => "ListCoverage",
        ("POST", ["detector", _, "coverage", "statistics"]) => "GetCoverageStatistics",
        ("GET", ["clusters", _, "pod-identity-associations"]) => "ListPodIdentityAssociations",
        ("GET", ["clusters", _, "pod-identity-associations", _]) => {
            "DescribePodIdentityAssociation"
        }
        _ => return None,
    };
    Some(action.to_owned())
}

/// The S3 object call (path style, as the responder's writer sends it to a local endpoint):
/// `PUT /<bucket>/<key>` is `PutObject`.
pub(super) fn s3_action_of(method: &str, path: &str) -> Option<String> {
    let object = path.trim_start_matches('/').split_once('/').is_some();
    (method == "PUT" && object).then(|| "PutObject".to_owned())
}

/// The service from the SigV4 credential scope: `Credential=AK/date/region/<service>/aws4_request`.
pub(super) fn service_of(auth: Option<&str>) -> String {
    auth.and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').nth(3))
        .unwrap_or("")
        .to_owned()
}

pub(super) fn error_body(service: &str, code: &str, json: bool) -> String {
    let message = format!("injected by the test proxy: {code}");
    if json {
        serde_json::json!({"__type": code, "message": message}).to_string()
    } else if service == "s3" {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>0</RequestId></Error>"
        )
    } else if service == "ec2" {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>00000000-0000-0000-0000-000000000000</RequestID></Response>"
        )
    } else {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
        )
    }
}
