//! Least privilege, checked both ways: each function's IAM policy in `infra/` grants
//! exactly the actions its code declares next to the calls — no missing action (the
//! function would fail in production), no undeclared one (privilege nobody uses).

use std::collections::BTreeSet;

fn terraform_permissions() -> hcl::Map<String, hcl::Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../infra/modules/responder/permissions.tf"
    );
    let body: hcl::Body = hcl::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let locals = body
        .blocks()
        .find(|b| b.identifier() == "locals")
        .expect("a locals block");
    let mut out = hcl::Map::new();
    for attr in locals.body().attributes() {
        let value = hcl::Value::from(attr.expr().clone());
        out.insert(attr.key().to_owned(), value);
    }
    out
}

fn surface(tf: &hcl::Map<String, hcl::Value>, name: &str) -> hcl::Value {
    tf["permissions"].as_object().expect("permissions is a map")[name].clone()
}

fn strings(v: &hcl::Value) -> BTreeSet<String> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|s| s.as_str().expect("a string").to_owned())
        .collect()
}

fn set(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn compare(function: &str, declared: BTreeSet<String>, granted: BTreeSet<String>) {
    let missing: Vec<_> = declared.difference(&granted).collect();
    let undeclared: Vec<_> = granted.difference(&declared).collect();
    assert!(
        missing.is_empty() && undeclared.is_empty(),
        "{function}: missing from the policy {missing:?}; granted but not declared {undeclared:?}"
    );
}

#[test]
fn common_permissions_match_the_handler() {
    let tf = terraform_permissions();
    compare(
        "common",
        set(responder::lambda::permissions::COMMON_PERMISSIONS),
        strings(&tf["common_permissions"]),
    );
    for optional in responder::lambda::permissions::OPTIONAL_PERMISSIONS {
        assert!(
            !strings(&tf["common_permissions"]).contains(*optional),
            "{optional} is optional, not granted by default"
        );
    }
}

#[test]
fn ec2_function_policy_matches_the_ec2_executor() {
    let tf = terraform_permissions();
    compare(
        "ec2",
        set(&responder::actions::ec2::permissions::REQUIRED_PERMISSIONS),
        strings(&surface(&tf, "ec2")),
    );
}

#[test]
fn eks_function_policy_matches_the_eks_executor() {
    let tf = terraform_permissions();
    compare(
        "eks",
        set(&responder::actions::eks::permissions::REQUIRED_PERMISSIONS),
        strings(&surface(&tf, "eks")),
    );
}

#[test]
fn interactions_function_policy_matches_what_it_calls() {
    let tf = terraform_permissions();
    compare(
        "interactions",
        set(responder::interactions::permissions::PERMISSIONS),
        strings(&tf["interactions_permissions"]),
    );
    let policy = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../infra/modules/responder/interactions.tf"
    ))
    .unwrap();
    use responder::actions::{ec2, ecs, eks};
    compare(
        "interactions release",
        [
            ec2::permissions::RELEASE_PERMISSIONS,
            ecs::permissions::RELEASE_PERMISSIONS,
            eks::permissions::RELEASE_PERMISSIONS,
        ]
        .concat()
        .iter()
        .map(|s| s.to_string())
        .collect(),
        strings(&tf["interactions_release_permissions"]),
    );
    // Its containment actions are the surface functions' own lists.
    assert!(policy.contains(r#"toset(["ec2", "ecs", "eks"])"#));
    assert!(policy.contains("actions             = local.permissions[each.key]"));
}

/// A click on a member account's finding assumes that surface's member role: only the
/// three `<cross_account_role_name>-<surface>` roles, only in the organisation's accounts,
/// and only when cross-account action is on (a stolen interactions role reaches no other
/// role, and no account outside the organisation).
#[test]
fn the_interactions_function_assumes_only_member_roles_in_the_organisation() {
    let locals = locals_of("modules/responder/interactions.tf");
    let assume = format!("{:?}", locals["interactions_assume_statements"]);
    for want in [
        "local.cross_account ?",
        r#"for s in [\"ec2\", \"ecs\", \"eks\"]"#,
        "role/${var.cross_account_role_name}-${s}",
        "aws:ResourceOrgID",
        "var.organization_id",
        "startswith(a, \\\"sts:\\\")",
    ] {
        assert!(assume.contains(want), "{want} not in {assume}");
    }
    assert!(!assume.contains("role/*"), "{assume}");
    let policy = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../infra/modules/responder/interactions.tf"
    ))
    .unwrap();
    assert!(policy.contains(
        "local.cross_account ? { RESPONDER_MEMBER_ROLE_PREFIX = var.cross_account_role_name } : {}"
    ));
}

#[test]
fn no_policy_grants_a_wildcard_action() {
    let tf = terraform_permissions();
    let all = tf["permissions"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(strings)
        .chain(strings(&tf["common_permissions"]));
    for action in all {
        let (service, name) = action
            .split_once(':')
            .unwrap_or_else(|| panic!("{action} is not service:Action"));
        assert!(
            !service.is_empty() && !name.is_empty() && !action.contains('*'),
            "{action}"
        );
    }
}

#[test]
fn ecs_function_policy_matches_the_ecs_executor() {
    let tf = terraform_permissions();
    compare(
        "ecs",
        set(&responder::actions::ecs::permissions::REQUIRED_PERMISSIONS),
        strings(&surface(&tf, "ecs")),
    );
}

#[test]
fn reminder_policy_matches_the_inventory_readers() {
    let tf = terraform_permissions();
    compare(
        "reminder",
        set(responder::inventory::read_aws::PERMISSIONS),
        strings(&surface(&tf, "reminder")),
    );
    // Its role is written in reminder.tf from that list: nothing beyond it but publishing.
    let path = format!(
        "{}/../infra/modules/responder/reminder.tf",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let (_, policy) = text
        .split_once(r#"resource "aws_iam_role_policy" "reminder""#)
        .expect("the reminder's policy");
    let (policy, _) = policy.split_once("\nresource ").unwrap();
    assert!(policy.contains("local.reminder_unscoped") && policy.contains("ecs:DescribeTasks"));
    for write in [
        "ec2:Create",
        "ec2:Delete",
        "ec2:Modify",
        "ecs:Tag",
        "ecs:Stop",
        "kms:GenerateMac",
        "dynamodb:",
    ] {
        assert!(!policy.contains(write), "the reminder is granted {write}");
    }
    // It assumes only the member accounts' read-only role.
    let assumes: Vec<&str> = policy
        .lines()
        .filter(|l| l.contains("sts:AssumeRole"))
        .collect();
    assert!(
        assumes.len() == 1 && assumes[0].contains("Resource = local.reminder_member_roles"),
        "{assumes:?}"
    );
}

/// The blocks of one file of the responder module.
fn module_blocks(file: &str) -> Vec<hcl::Block> {
    let path = format!(
        "{}/../infra/modules/responder/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let body: hcl::Body = hcl::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    body.blocks().cloned().collect()
}

fn blocks_named<'a>(b: &'a hcl::Block, name: &'a str) -> impl Iterator<Item = &'a hcl::Block> + 'a {
    b.body().blocks().filter(move |b| b.identifier() == name)
}

fn attr(block: &hcl::Block, key: &str) -> hcl::Value {
    let a = block
        .body()
        .attributes()
        .find(|a| a.key() == key)
        .unwrap_or_else(|| panic!("{key} in {}", block.identifier()));
    hcl::Value::from(a.expr().clone())
}

/// A workload role with `dynamodb:*` on `*` in the same account must not write the rate
/// budgets: the table's resource policy denies every data-plane write to anyone but the
/// responder's roles, and the roles themselves may only `UpdateItem` that one table.
#[test]
fn only_the_responder_roles_may_write_the_rate_limit_table() {
    only_the_responder_roles_write("rate_limit.tf", "rate_limit_table");
}

/// The same for the exactly-once records: a workload that could write a COMPLETED record
/// for its own finding would switch its containment off.
#[test]
fn only_the_responder_roles_may_write_the_idempotency_table() {
    only_the_responder_roles_write("idempotency.tf", "idempotency_table");
}

fn only_the_responder_roles_write(file: &str, document_label: &str) {
    let blocks = module_blocks(file);
    let document = blocks
        .iter()
        .find(|b| {
            b.identifier() == "data" && b.labels().iter().any(|l| l.as_str() == document_label)
        })
        .expect("the table's resource policy document");
    let statement = document.body().blocks().next().expect("a statement");
    assert_eq!(attr(statement, "effect").as_str(), Some("Deny"));
    let denied = strings(&attr(statement, "actions"));
    let writes = set(&[
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:PartiQLInsert",
        "dynamodb:PartiQLUpdate",
        "dynamodb:PartiQLDelete",
    ]);
    assert!(denied.is_superset(&writes), "{denied:?}");
    let principals = blocks_named(statement, "principals")
        .next()
        .expect("principals");
    assert_eq!(strings(&attr(principals, "identifiers")), set(&["*"]));
    let condition = blocks_named(statement, "condition")
        .next()
        .expect("the exception");
    assert_eq!(attr(condition, "test").as_str(), Some("ArnNotEquals"));
    assert_eq!(
        attr(condition, "variable").as_str(),
        Some("aws:PrincipalArn")
    );
    assert!(
        format!("{:?}", attr(condition, "values")).contains("local.role_arns"),
        "the exception is the responder's roles"
    );
    assert!(
        blocks.iter().any(|b| b.identifier() == "resource"
            && b.labels()
                .iter()
                .any(|l| l.as_str() == "aws_dynamodb_resource_policy")),
        "the document is attached"
    );

    let iam = std::fs::read_to_string(format!(
        "{}/../infra/modules/responder/iam.tf",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    // Every DynamoDB action of the roles is scoped to the responder's own tables.
    let scopes: Vec<&str> = iam
        .lines()
        .filter(|l| l.trim_start().starts_with("\"dynamodb:"))
        .collect();
    assert!(!scopes.is_empty());
    for scope in scopes {
        let resources = scope
            .split("resources = [")
            .nth(1)
            .and_then(|r| r.split(']').next())
            .unwrap_or_else(|| panic!("no resources: {scope}"));
        for r in resources.split(',').map(str::trim) {
            assert!(
                r == "aws_dynamodb_table.rate_limit.arn"
                    || r == "aws_dynamodb_table.idempotency.arn",
                "{scope}"
            );
        }
    }
}

// ---- Conditions: each statement's Condition in Terraform is the one the code declares.

use responder::actions::iam_conditions::{Conditioned, DEPLOYMENT_VALUE};

/// A statement's conditions, comparable: `{(operator, key, sorted values)}`.
type Conditions = BTreeSet<(String, String, Vec<String>)>;

fn locals_of(file: &str) -> hcl::Map<String, hcl::Value> {
    let path = format!("{}/../infra/{file}", env!("CARGO_MANIFEST_DIR"));
    let body: hcl::Body = hcl::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut out = hcl::Map::new();
    for locals in body.blocks().filter(|b| b.identifier() == "locals") {
        for attr in locals.body().attributes() {
            out.insert(attr.key().to_owned(), hcl::Value::from(attr.expr().clone()));
        }
    }
    out
}

/// Replaces `${local.<name>}` with that local (the modules keep conditions to literals and
/// such references, so they read without evaluating Terraform).
fn resolve(v: &hcl::Value, locals: &hcl::Map<String, hcl::Value>) -> hcl::Value {
    match v {
        hcl::Value::String(s) => s
            .strip_prefix("${local.")
            .and_then(|r| r.strip_suffix('}'))
            .and_then(|name| locals.get(name))
            .map(|l| resolve(l, locals))
            .unwrap_or_else(|| v.clone()),
        hcl::Value::Array(a) => hcl::Value::Array(a.iter().map(|x| resolve(x, locals)).collect()),
        hcl::Value::Object(o) => hcl::Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), resolve(x, locals)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `{ Operator = { key = [values] } }` as comparable conditions; a `${var.…}` value is a
/// per-deployment value.
fn conditions_of(condition: &hcl::Value) -> Conditions {
    let mut out = Conditions::new();
    for (op, keys) in condition.as_object().expect("a condition object") {
        for (key, values) in keys.as_object().expect("{ key = [values] }") {
            let mut vals: Vec<String> = values
                .as_array()
                .unwrap_or_else(|| panic!("{op} {key}: values are a list"))
                .iter()
                .map(|v| {
                    let s = v.as_str().expect("a string value");
                    if s.starts_with("${var.") || s.starts_with("${try(var.") {
                        DEPLOYMENT_VALUE.to_owned()
                    } else {
                        s.to_owned()
                    }
                })
                .collect();
            vals.sort();
            out.insert((op.clone(), key.clone(), vals));
        }
    }
    out
}

/// `entry.<name>` of an HCL object.
fn field<'a>(entry: &'a hcl::Value, name: &str) -> &'a hcl::Value {
    entry
        .as_object()
        .and_then(|o| o.get(name))
        .unwrap_or_else(|| panic!("no {name} in {entry:?}"))
}

fn declared(list: &[Conditioned], action: &str) -> BTreeSet<Conditions> {
    match list.iter().find(|c| c.action == action) {
        None => BTreeSet::from([Conditions::new()]),
        Some(c) => c
            .statements
            .iter()
            .map(|s| {
                s.iter()
                    .map(|(op, key, values)| {
                        let mut v: Vec<String> = values.iter().map(|x| x.to_string()).collect();
                        v.sort();
                        (op.to_string(), key.to_string(), v)
                    })
                    .collect()
            })
            .collect(),
    }
}

/// The scope entries surface-policy gives `action` on `surface` (resolved).
fn scope_entries(surface: &str, action: &str) -> Vec<hcl::Value> {
    let locals = locals_of("modules/surface-policy/main.tf");
    let scope = locals["scope"].as_object().expect("scope is an object");
    match scope
        .get(&format!("{surface}/{action}"))
        .or_else(|| scope.get(action))
    {
        None => vec![],
        Some(entries) => resolve(entries, &locals)
            .as_array()
            .expect("a list of scope entries")
            .clone(),
    }
}

fn terraform_conditions(surface: &str, action: &str) -> BTreeSet<Conditions> {
    let entries = scope_entries(surface, action);
    if entries.is_empty() {
        return BTreeSet::from([Conditions::new()]); // unscoped: one statement on "*"
    }
    entries
        .iter()
        .map(|e| conditions_of(field(e, "condition")))
        .collect()
}

fn compare_conditions(surface: &str, actions: &[&str], code: &[Conditioned]) {
    for c in code {
        assert!(
            actions.contains(&c.action),
            "{surface}: conditions declared for {} which is not required",
            c.action
        );
    }
    let mut wrong = Vec::new();
    for action in actions {
        let (tf, decl) = (
            terraform_conditions(surface, action),
            declared(code, action),
        );
        if tf != decl {
            wrong.push(format!(
                "{action}:\n  terraform {tf:?}\n  code      {decl:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{surface}:\n{}", wrong.join("\n"));
}

#[test]
fn surface_conditions_match_what_the_code_declares() {
    use responder::actions::{ec2, ecs, eks};
    compare_conditions(
        "ec2",
        &ec2::permissions::REQUIRED_PERMISSIONS,
        ec2::permissions::CONDITIONS,
    );
    compare_conditions(
        "ecs",
        &ecs::permissions::REQUIRED_PERMISSIONS,
        ecs::permissions::CONDITIONS,
    );
    compare_conditions(
        "eks",
        &eks::permissions::REQUIRED_PERMISSIONS,
        eks::permissions::CONDITIONS,
    );
    compare_conditions(
        "coverage",
        responder::coverage::audit::REQUIRED_PERMISSIONS,
        responder::coverage::audit::CONDITIONS,
    );
}

#[test]
fn common_conditions_match_what_the_handler_declares() {
    let locals = locals_of("modules/responder/iam.tf");
    let scope = locals["common_scope"]
        .as_object()
        .expect("common_scope is an object");
    let code = responder::lambda::permissions::COMMON_CONDITIONS;
    let mut wrong = Vec::new();
    for action in responder::lambda::permissions::COMMON_PERMISSIONS {
        let entry = scope
            .get(*action)
            .unwrap_or_else(|| panic!("no common_scope entry for {action}"));
        let tf = BTreeSet::from([conditions_of(field(entry, "condition"))]);
        let decl = declared(code, action);
        if tf != decl {
            wrong.push(format!("{action}: terraform {tf:?}, code {decl:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Session revocation writes policies on roles: never on every role of an account, and
/// not at all unless roles are configured.
#[test]
fn no_statement_grants_put_role_policy_on_every_role() {
    let entries = scope_entries("ecs", "iam:PutRolePolicy");
    assert!(!entries.is_empty(), "iam:PutRolePolicy needs a scope entry");
    for e in &entries {
        let resources = format!("{:?}", field(e, "resources"));
        assert!(
            !resources.contains(":role/*") && !resources.contains("role/*\""),
            "iam:PutRolePolicy on every role: {resources}"
        );
        assert_eq!(
            field(e, "resources"),
            &hcl::Value::String("${var.revocable_role_arns}".into()),
            "only the configured patterns"
        );
    }
    // Off by default in every module that passes the patterns on.
    for file in [
        "modules/responder/variables.tf",
        "modules/member-role/variables.tf",
        "modules/surface-policy/variables.tf",
    ] {
        let path = format!("{}/../infra/{file}", env!("CARGO_MANIFEST_DIR"));
        let body: hcl::Body = hcl::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let var = body
            .blocks()
            .find(|b| {
                b.identifier() == "variable"
                    && b.labels().iter().any(|l| {
                        let l = l.as_str();
                        l == "revocable_role_arns"
                    })
            })
            .unwrap_or_else(|| panic!("{file}: no revocable role variable"));
        let default = var
            .body()
            .attributes()
            .find(|a| a.key() == "default")
            .map(|a| hcl::Value::from(a.expr().clone()));
        assert_eq!(
            default,
            Some(hcl::Value::Array(vec![])),
            "{file}: revocation must be off by default"
        );
    }
    // And surface-policy drops the action when no pattern is configured.
    let locals = locals_of("modules/surface-policy/main.tf");
    let actions = format!("{:?}", locals["actions"]);
    assert!(
        actions.contains("iam:PutRolePolicy")
            && actions.contains("length(var.revocable_role_arns) > 0"),
        "{actions}"
    );
}

/// An attacker holding one function's role (say ec2, through a bug in its parser) must not
/// reach another surface's member role (ecs, which may write IAM policies), nor assume a
/// member role from outside the organisation or without the ExternalId.
#[test]
fn a_member_role_trusts_only_its_own_surfaces_function_in_the_organisation() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../infra/modules/member-role/main.tf"
    );
    let body: hcl::Body = hcl::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let trust = body
        .blocks()
        .find(|b| b.identifier() == "data" && b.labels().iter().any(|l| l.as_str() == "trust"))
        .expect("the trust policy document");
    let for_each = trust
        .body()
        .attributes()
        .find(|a| a.key() == "for_each")
        .map(|a| hcl::Value::from(a.expr().clone()));
    assert!(
        for_each.is_some_and(|v| format!("{v:?}").contains("local.surfaces")),
        "one trust policy per surface"
    );
    let statement = trust
        .body()
        .blocks()
        .find(|b| b.identifier() == "statement")
        .expect("a statement");
    let principals = statement
        .body()
        .blocks()
        .find(|b| b.identifier() == "principals")
        .expect("principals");
    let identifiers = principals
        .body()
        .attributes()
        .find(|a| a.key() == "identifiers")
        .map(|a| hcl::Value::from(a.expr().clone()));
    assert_eq!(
        identifiers,
        Some(hcl::Value::Array(vec![hcl::Value::String(
            "${var.responder_role_arns[each.key]}".into()
        )])),
        "only the function of this role's surface"
    );
    let conditions: Vec<String> = statement
        .body()
        .blocks()
        .flat_map(|b| b.body().blocks().chain(std::iter::once(b)))
        .flat_map(|b| b.body().attributes())
        .filter(|a| a.key() == "variable")
        .map(|a| format!("{:?}", hcl::Value::from(a.expr().clone())))
        .collect();
    for key in ["aws:PrincipalOrgID", "sts:ExternalId"] {
        assert!(
            conditions.iter().any(|c| c.contains(key)),
            "{key} missing from the trust: {conditions:?}"
        );
    }
}

/// The evidence grants (the functions': iam.tf `evidence_statements`; the member roles':
/// member-role/main.tf, opt-in) are exactly what the bucket writer calls, and only under
/// `<bucket>/evidence/` (a member role only under its own account's prefix): no read, no
/// list, no delete. The bucket and key policies that admit the member roles are checked
/// as rendered by `infra/modules/responder/tests/evidence.tftest.hcl`.
#[test]
fn the_evidence_grants_are_what_the_writer_calls_and_only_under_evidence() {
    for (file, resource) in [
        ("responder/iam.tf", r#"Resource = ["${bucket}/evidence/*"]"#),
        (
            "member-role/main.tf",
            r#"Resource = ["${bucket}/evidence/${local.account_id}/*"]"#,
        ),
    ] {
        let path = format!("{}/../infra/modules/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(path).unwrap();
        let start = text
            .find("evidence_statements = concat(")
            .unwrap_or_else(|| panic!("evidence_statements in {file}"));
        let block = &text[start..start + text[start..].find("\n  )\n").expect("end of concat")];
        let mut granted = BTreeSet::new();
        for line in block
            .lines()
            .filter(|l| l.trim_start().starts_with("Action"))
        {
            for quoted in line.split('"').skip(1).step_by(2) {
                granted.insert(quoted.to_owned());
            }
        }
        compare(file, set(responder::evidence::store::PERMISSIONS), granted);
        assert_eq!(block.matches("Resource ").count(), 2, "{block}");
        assert!(block.contains(resource), "{file}: {block}");
        assert!(block.contains("kms:ViaService"), "{file}: {block}");
    }
}

/// The KMS actions EC2 uses on the caller's behalf for a forensic copy are exactly the
/// ones the code declares (no code calls them, so the proxy tests cannot see them).
#[test]
fn the_forensic_key_grant_is_what_the_code_declares() {
    let path = format!(
        "{}/../infra/modules/surface-policy/main.tf",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let actions_of = |sid: &str| -> (BTreeSet<String>, String) {
        let start = text
            .find(sid)
            .unwrap_or_else(|| panic!("the {sid} statement"));
        let block: String = text[start..]
            .lines()
            .take_while(|l| l.trim() != "},")
            .collect::<Vec<_>>()
            .join("\n");
        let line = block
            .lines()
            .find(|l| l.trim_start().starts_with("Action"))
            .expect("its actions");
        let actions = line
            .split('"')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect();
        (actions, block)
    };
    let (keys, _) = actions_of("ForensicSnapshotKeys");
    let (grants, grant_block) = actions_of("ForensicSnapshotGrants");
    // A grant only for EC2's own use of the key, never to a principal the role chooses.
    assert_eq!(grants, set(&["kms:CreateGrant"]));
    assert!(
        grant_block.contains("\"kms:GrantIsForAWSResource\" = \"true\""),
        "{grant_block}"
    );
    assert!(grant_block.contains("kms:ViaService"), "{grant_block}");
    assert!(
        !keys.contains("kms:CreateGrant"),
        "CreateGrant without its condition"
    );
    let granted = keys.union(&grants).cloned().collect();
    compare(
        "forensic key",
        set(responder::actions::ec2::permissions::FORENSIC_KMS_PERMISSIONS),
        granted,
    );
}

/// The member accounts' read-only role (`member-role/reader.tf`) grants what the
/// reminder's readers call there: everything but the seal checks, which stay home.
#[test]
fn the_member_reader_role_grants_the_inventory_reads_without_kms() {
    let text = std::fs::read_to_string(format!(
        "{}/../infra/modules/member-role/reader.tf",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let (_, list) = text
        .split_once("reader_actions = [")
        .expect("reader_actions");
    let (list, _) = list.split_once(']').unwrap();
    let granted: BTreeSet<String> = list
        .split(',')
        .map(|a| a.trim().trim_matches('"').to_owned())
        .filter(|a| !a.is_empty())
        .collect();
    let read: BTreeSet<String> = responder::inventory::read_aws::PERMISSIONS
        .iter()
        .filter(|a| !a.starts_with("kms:"))
        .map(|a| a.to_string())
        .collect();
    assert_eq!(granted, read);
}
