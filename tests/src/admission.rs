//! The manifests shipped in `infra/kubernetes/`, and an evaluator of their
//! ValidatingAdmissionPolicies: what the API server would answer to a request, computed
//! with a CEL interpreter from the shipped expressions (no kube-apiserver here).
//!
//! As the API server does: a policy applies when it has a `Deny` binding, one of its
//! `matchConstraints.resourceRules` names the resource and operation, and every
//! `matchCondition` is true; then its `variables` are evaluated in order into
//! `variables`, and every validation must be true. An evaluation error denies
//! (`failurePolicy: Fail`). Bindings here have no `matchResources` (all namespaces).

use serde_json::{Value, json};
use std::collections::HashMap;

/// Every document of `infra/kubernetes/<file>`, as JSON.
pub fn manifests(file: &str) -> Vec<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../infra/kubernetes")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The document of `kind` named `name`.
pub fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

/// One admission request.
#[derive(Debug, Clone)]
pub struct Request {
    pub groups: Vec<String>,
    /// `CREATE`, `UPDATE` or `DELETE`.
    pub operation: &'static str,
    /// `pods`, `nodes`, `networkpolicies`.
    pub resource: &'static str,
    pub object: Option<Value>,
    pub old_object: Option<Value>,
}

impl Request {
    pub fn update(groups: &[&str], resource: &'static str, old: Value, new: Value) -> Request {
        Request {
            groups: groups.iter().map(|g| g.to_string()).collect(),
            operation: "UPDATE",
            resource,
            object: Some(new),
            old_object: Some(old),
        }
    }

    pub fn create(groups: &[&str], resource: &'static str, new: Value) -> Request {
        Request {
            groups: groups.iter().map(|g| g.to_string()).collect(),
            operation: "CREATE",
            resource,
            object: Some(new),
            old_object: None,
        }
    }

    pub fn delete(groups: &[&str], resource: &'static str, old: Value) -> Request {
        Request {
            groups: groups.iter().map(|g| g.to_string()).collect(),
            operation: "DELETE",
            resource,
            object: None,
            old_object: Some(old),
        }
    }

    fn group(&self) -> &'static str {
        match self.resource {
            "networkpolicies" => "networking.k8s.io",
            _ => "",
        }
    }
}

/// The policies of `infra/kubernetes/admission-policy.yaml` that have a `Deny` binding.
pub struct Admission {
    policies: Vec<Value>,
}

impl Admission {
    pub fn shipped() -> Admission {
        let docs = manifests("admission-policy.yaml");
        let bound: Vec<&Value> = docs
            .iter()
            .filter(|d| d["kind"] == "ValidatingAdmissionPolicyBinding")
            .filter(|d| {
                d["spec"]["validationActions"]
                    .as_array()
                    .is_some_and(|a| a.contains(&json!("Deny")))
            })
            .collect();
        let policies = docs
            .iter()
            .filter(|d| d["kind"] == "ValidatingAdmissionPolicy")
            .filter(|p| {
                bound
                    .iter()
                    .any(|b| b["spec"]["policyName"] == p["metadata"]["name"])
            })
            .cloned()
            .collect();
        Admission { policies }
    }

    /// `Ok` when every applicable policy admits the request, else the denial:
    /// `policy: message`.
    pub fn admit(&self, req: &Request) -> Result<(), String> {
        for p in &self.policies {
            let name = p["metadata"]["name"].as_str().unwrap_or_default();
            if !matches_rules(&p["spec"]["matchConstraints"]["resourceRules"], req) {
                continue;
            }
            let mut ctx = base_context(req);
            let mut applies = true;
            for c in strings(&p["spec"]["matchConditions"], "expression") {
                match eval(&ctx, &c) {
                    Ok(true) => {}
                    Ok(false) => applies = false,
                    Err(e) => return Err(format!("{name}: match condition error: {e}")),
                }
            }
            if !applies {
                continue;
            }
            let mut vars: HashMap<String, cel::Value> = HashMap::new();
            for v in p["spec"]["variables"].as_array().into_iter().flatten() {
                let expr = v["expression"].as_str().expect("variable expression");
                let value = cel::Program::compile(expr)
                    .map_err(|e| format!("{name}: {expr}: {e}"))?
                    .execute(&ctx)
                    .map_err(|e| format!("{name}: variable {}: {e}", v["name"]))?;
                vars.insert(v["name"].as_str().expect("name").to_owned(), value);
                ctx.add_variable_from_value("variables", cel::Value::from(vars.clone()));
            }
            for v in p["spec"]["validations"].as_array().into_iter().flatten() {
                let expr = v["expression"].as_str().expect("validation expression");
                let message = v["message"].as_str().unwrap_or(expr);
                match eval(&ctx, expr) {
                    Ok(true) => {}
                    Ok(false) => return Err(format!("{name}: {message}")),
                    Err(e) => return Err(format!("{name}: {message} (error: {e})")),
                }
            }
        }
        Ok(())
    }
}

fn strings(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v[field].as_str().map(str::to_owned))
        .collect()
}

fn matches_rules(rules: &Value, req: &Request) -> bool {
    let has = |v: &Value, s: &str| {
        v.as_array()
            .is_some_and(|a| a.iter().any(|x| x == s || x == "*"))
    };
    rules.as_array().into_iter().flatten().any(|r| {
        has(&r["apiGroups"], req.group())
            && has(&r["resources"], req.resource)
            && has(&r["operations"], req.operation)
    })
}

fn base_context(req: &Request) -> cel::Context<'static, 'static> {
    let mut ctx = cel::Context::default();
    let value = |v: &Option<Value>| cel::to_value(v.clone().unwrap_or(Value::Null)).expect("cel");
    ctx.add_variable_from_value("object", value(&req.object));
    ctx.add_variable_from_value("oldObject", value(&req.old_object));
    let request = json!({
        "operation": req.operation,
        "resource": { "group": req.group(), "version": "v1", "resource": req.resource },
        "userInfo": { "username": "someone", "groups": req.groups },
    });
    ctx.add_variable_from_value("request", cel::to_value(request).expect("cel"));
    ctx.add_variable_from_value(
        "variables",
        cel::Value::from(HashMap::<String, cel::Value>::new()),
    );
    ctx
}

fn eval(ctx: &cel::Context<'_, '_>, expr: &str) -> Result<bool, String> {
    let program = cel::Program::compile(expr).map_err(|e| format!("{expr}: {e}"))?;
    match program.execute(ctx).map_err(|e| e.to_string())? {
        cel::Value::Bool(b) => Ok(b),
        other => Err(format!("{expr}: not a bool: {other:?}")),
    }
}
