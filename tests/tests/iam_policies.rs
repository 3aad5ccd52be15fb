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
        set(responder::actions::ec2::permissions::REQUIRED_PERMISSIONS),
        strings(&surface(&tf, "ec2")),
    );
}

#[test]
fn eks_function_policy_matches_the_eks_executor() {
    let tf = terraform_permissions();
    compare(
        "eks",
        set(responder::actions::eks::permissions::REQUIRED_PERMISSIONS),
        strings(&surface(&tf, "eks")),
    );
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
        set(responder::actions::ecs::permissions::REQUIRED_PERMISSIONS),
        strings(&surface(&tf, "ecs")),
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
    let blocks = module_blocks("rate_limit.tf");
    let document = blocks
        .iter()
        .find(|b| {
            b.identifier() == "data" && b.labels().iter().any(|l| l.as_str() == "rate_limit_table")
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
    let scope = iam
        .lines()
        .find(|l| l.trim_start().starts_with("\"dynamodb:UpdateItem\""))
        .expect("a scope for dynamodb:UpdateItem");
    assert!(
        scope.contains("resources = [aws_dynamodb_table.rate_limit.arn]"),
        "{scope}"
    );
}
