//! A click on a member account's finding, from the delegated administrator: the binary
//! reads the finding from its own (the administrator's) GuardDuty, then acts in the
//! member account with the member role of the finding's surface, `<prefix>-ec2`, with
//! the ExternalId — never another surface's role, never a role the click names. moto
//! accepts any AssumeRole and keeps each account's resources apart, so the instance in
//! the member account is only reached through the assumed role; the recording proxy in
//! front of moto shows which role was assumed.

mod common;

use common::{APPROVER, RELEASER, Rig, groups};
use integration_tests::guardduty_api::{GuardDutyApi, World};
use integration_tests::proxy::Proxy;
use integration_tests::world::{self, Aws};
use serde_json::Value;

const MEMBER: &str = "210987654321";
const PREFIX: &str = "gd-member";
const EXTERNAL_ID: &str = "ext-0123456789";

/// The member account's clients in moto: credentials of a role assumed there.
async fn member_account(admin: &Aws) -> Aws {
    let provider = aws_config::sts::AssumeRoleProvider::builder(format!(
        "arn:aws:iam::{MEMBER}:role/test-setup"
    ))
    .session_name("setup")
    .configure(&admin.config)
    .build()
    .await;
    let config = admin
        .config
        .to_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(provider),
        )
        .build();
    Aws::from_config(config)
}

/// The `RoleArn` of every AssumeRole call the binary made, and whether it passed the id.
fn assumed(proxy: &Proxy) -> Vec<(String, bool)> {
    proxy
        .calls()
        .into_iter()
        .filter(|c| c.action == "AssumeRole")
        .map(|c| {
            let form: Vec<(String, String)> = form_urlencoded::parse(c.body.as_bytes())
                .into_owned()
                .collect();
            let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            (
                get("RoleArn").unwrap_or_default(),
                get("ExternalId").as_deref() == Some(EXTERNAL_ID),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_click_acts_in_the_member_account_with_its_surfaces_role() {
    let admin = Aws::moto("us-east-1").await;
    let member = member_account(&admin).await;
    let net = world::network(&member).await;
    let finding = integration_tests::function_env::Ec2Finding::new(&member, &net).await;
    let mut event: Value = serde_json::from_slice(&finding.event).unwrap();
    event["detail"]["accountId"] = MEMBER.into();
    let id = finding.finding_id.clone();
    // The same finding id claimed for the administrator's account: GuardDuty holds no such
    // finding there, so a click naming it is refused, whatever the click says.
    let gd = GuardDutyApi::start(World {
        detectors: vec!["12abc34d567e8fa901bc2d34e56789f0".into()],
        findings: vec![(0, event["detail"].clone())],
        ..World::default()
    })
    .await;
    let proxy = Proxy::start(&integration_tests::moto::shared().endpoint()).await;
    let mut rig = Rig::start(
        &admin,
        proxy.endpoint(),
        gd.endpoint(),
        &[
            ("RESPONDER_MEMBER_ROLE_PREFIX", PREFIX.into()),
            ("RESPONDER_CROSS_ACCOUNT_EXTERNAL_ID", EXTERNAL_ID.into()),
        ],
    )
    .await;
    let before = groups(&member, &finding.instance).await;

    // A reference naming the administrator's account for the member's finding.
    let wrong = format!("123456789012:us-east-1:{id}");
    assert_eq!(rig.click("contain", &wrong, APPROVER).await, "not_found");
    assert!(assumed(&proxy).is_empty(), "{:?}", assumed(&proxy));

    // Contain: the ec2 member role, with the ExternalId, and the member's instance isolated.
    let reference = format!("{MEMBER}:us-east-1:{id}");
    assert_eq!(
        rig.click("contain", &reference, APPROVER).await,
        "contained"
    );
    let role = format!("arn:aws:iam::{MEMBER}:role/{PREFIX}-ec2");
    let roles = assumed(&proxy);
    assert!(!roles.is_empty());
    assert!(
        roles.iter().all(|(arn, ext)| *arn == role && *ext),
        "only {role}, with the ExternalId: {roles:?}"
    );
    let contained = groups(&member, &finding.instance).await;
    assert!(
        contained
            .iter()
            .zip(&before)
            .all(|(now, was)| now.len() == 1 && !was.contains(&now[0])),
        "every ENI isolated in the member account: {contained:?}"
    );
    assert!(
        rig.last_reply().contains("*Contained*"),
        "{}",
        rig.last_reply()
    );

    // Release: the same role again; the groups come back.
    assert_eq!(rig.click("release", &reference, RELEASER).await, "released");
    assert!(
        assumed(&proxy)
            .iter()
            .all(|(arn, ext)| *arn == role && *ext),
        "{:?}",
        assumed(&proxy)
    );
    assert_eq!(groups(&member, &finding.instance).await, before);
}
