//! The server's own semantics (patches, selectors), checked without a client.

use super::*;

#[test]
fn selectors_parse_like_the_api_server() {
    let labels: Map<String, Value> =
        serde_json::from_value(json!({"app": "web", "tier": "fe"})).unwrap();
    let m = |s: &str| {
        parse_label_selector(s)
            .unwrap()
            .iter()
            .all(|r| r.matches(&labels))
    };
    assert!(
        m("app=web")
            && m("app==web,tier")
            && m("app in (web, api)")
            && m("!gone")
            && m("tier notin (be)")
    );
    assert!(!m("app!=web") && !m("gone") && !m("app in (api)"));
    assert!(parse_field_selector("pods", "spec.nodeName=n1").is_ok());
    assert!(parse_field_selector("pods", "spec.hostname=n1").is_err());
    assert!(parse_field_selector("events", "involvedObject.uid=u,involvedObject.name=x").is_ok());
    assert!(parse_field_selector("pods", "involvedObject.uid=u").is_err());
}

#[test]
fn merge_patch_follows_rfc_7386() {
    let mut t = json!({"a": {"b": 1, "c": 2}, "l": [1, 2]});
    merge_patch(&mut t, &json!({"a": {"b": null, "d": 3}, "l": [3]}));
    assert_eq!(t, json!({"a": {"c": 2, "d": 3}, "l": [3]}));
}

#[test]
fn strategic_merge_merges_named_lists() {
    let mut t =
        json!({"spec": {"containers": [{"name": "a", "image": "x"}], "unschedulable": null}});
    strategic_merge(&mut t, &json!({"spec": {"containers": [{"name": "a", "image": "y"}, {"name": "b"}], "unschedulable": true}})).unwrap();
    assert_eq!(
        t["spec"]["containers"],
        json!([{"name": "a", "image": "y"}, {"name": "b"}])
    );
    assert_eq!(t["spec"]["unschedulable"], json!(true));
}

#[test]
fn paths_route_to_resources() {
    assert!(
        route("/api/v1/namespaces/web/pods/x")
            .is_some_and(|r| r.kind.resource == "pods" && r.name.as_deref() == Some("x"))
    );
    assert!(route("/api/v1/pods").is_some_and(|r| r.namespace.is_none() && r.name.is_none()));
    assert!(route("/api/v1/nodes/n1").is_some());
    assert!(route("/api/v1/namespaces/web/nodes/n1").is_none());
    assert!(route("/apis/networking.k8s.io/v1/namespaces/web/networkpolicies").is_some());
    assert!(route("/api/v1/namespaces/web/pods/x/status").is_none());
    assert!(route("/api/v1/namespaces/web/pods/x/log").is_some_and(|r| r.resource() == "pods/log"));
    assert!(route("/api/v1/namespaces/web/pods/x/exec").is_none());
    assert!(route("/apis/batch/v1/namespaces/web/cronjobs/c").is_some());
    assert!(route("/api/v1/namespaces/web/secrets/x").is_none());
}

#[test]
fn pod_logs_answer_like_the_api_server() {
    let mut st = State::default();
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "n"},
        "spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
    st.objects
        .insert(("pods".into(), "n".into(), "p".into()), pod);
    let now = chrono::Utc::now();
    let line = |ago: i64, text: &str| LogLine {
        at: now - chrono::Duration::seconds(ago),
        text: text.into(),
    };
    st.logs.insert(
        ("n".into(), "p".into(), "a".into(), false),
        vec![line(600, "old"), line(5, "one"), line(1, "two")],
    );
    let q = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let text =
        |(code, v): (u16, Value)| (code, v.as_str().map(str::to_owned).unwrap_or(v.to_string()));
    // Two containers: one must be named; an unknown one is refused.
    assert_eq!(pod_log(&st, "n", "p", &q(&[])).0, 400);
    assert_eq!(pod_log(&st, "n", "p", &q(&[("container", "c")])).0, 400);
    assert_eq!(pod_log(&st, "n", "gone", &q(&[("container", "a")])).0, 404);
    assert_eq!(
        text(pod_log(&st, "n", "p", &q(&[("container", "a")]))),
        (200, "old\none\ntwo\n".to_owned())
    );
    assert_eq!(
        text(pod_log(
            &st,
            "n",
            "p",
            &q(&[
                ("container", "a"),
                ("sinceSeconds", "60"),
                ("tailLines", "1")
            ])
        )),
        (200, "two\n".to_owned())
    );
    assert_eq!(
        text(pod_log(
            &st,
            "n",
            "p",
            &q(&[("container", "a"), ("limitBytes", "6")])
        )),
        (200, "old\non".to_owned())
    );
    assert_eq!(
        pod_log(
            &st,
            "n",
            "p",
            &q(&[("container", "a"), ("limitBytes", "0")])
        )
        .0,
        400
    );
    // No previous instance: the API server's 400.
    let (code, body) = text(pod_log(
        &st,
        "n",
        "p",
        &q(&[("container", "a"), ("previous", "true")]),
    ));
    assert_eq!(code, 400);
    assert!(
        body.contains("previous terminated container \\\"a\\\" in pod \\\"p\\\" not found"),
        "{body}"
    );
    // A container that wrote nothing yet: empty, not an error.
    assert_eq!(
        text(pod_log(&st, "n", "p", &q(&[("container", "b")]))),
        (200, String::new())
    );
}
