//! ECS isolation that keeps GuardDuty's sensor connected, against moto: the group-swap
//! method keeps tcp 443 to the `guardduty-data` endpoint in the no-rules group; the
//! network-ACL method puts ALLOW entries for the task ahead of its DENYs in the ACL of the
//! endpoint's subnet, and release removes both.

use aws_sdk_ec2::types::{RuleAction, VpcEndpointType};
use integration_tests::ecs_world::{self, EcsAws, EcsWorld, show};
use integration_tests::world;
use responder::Config;
use responder::actions::ec2::isolation_groups::NO_RULES_GROUP_NAME;
use responder::actions::ecs::EcsExecutor;
use responder::execute::Executor;
use responder::outcome::{Outcome, Status, any_failed};
use responder::plan::ActionKind;

const REGION: &str = "us-east-1";

async fn setup(name: &str) -> (EcsAws, EcsWorld) {
    let e = EcsAws::moto(REGION).await;
    ecs_world::freeze_task_states(&integration_tests::moto::shared().endpoint());
    let w = ecs_world::fargate_world(&e, name).await;
    (e, w)
}

/// A subnet of `w`'s VPC for the endpoints, guarded by a network ACL of its own; returns
/// (subnet, ACL).
async fn endpoint_subnet(e: &EcsAws, w: &EcsWorld) -> (String, String) {
    let ec2 = &e.aws.ec2;
    let subnet = ec2
        .create_subnet()
        .vpc_id(&w.vpc_id)
        .cidr_block("10.1.9.0/24")
        .availability_zone(format!("{REGION}a"))
        .send()
        .await
        .expect("CreateSubnet")
        .subnet()
        .and_then(|s| s.subnet_id())
        .expect("subnet id")
        .to_owned();
    let acl = ec2
        .create_network_acl()
        .vpc_id(&w.vpc_id)
        .send()
        .await
        .expect("CreateNetworkAcl")
        .network_acl()
        .and_then(|a| a.network_acl_id())
        .expect("acl id")
        .to_owned();
    let current = ecs_world::acl_of(e, &subnet).await;
    let association = current
        .associations()
        .iter()
        .find(|a| a.subnet_id() == Some(subnet.as_str()))
        .and_then(|a| a.network_acl_association_id())
        .expect("the subnet's association")
        .to_owned();
    ec2.replace_network_acl_association()
        .association_id(association)
        .network_acl_id(&acl)
        .send()
        .await
        .expect("ReplaceNetworkAclAssociation");
    (subnet, acl)
}

/// A `guardduty-data` interface endpoint in `subnet`; returns its ENI address.
async fn guardduty_endpoint(e: &EcsAws, w: &EcsWorld, subnet: &str) -> String {
    let ep = e
        .aws
        .ec2
        .create_vpc_endpoint()
        .vpc_id(&w.vpc_id)
        .service_name(format!("com.amazonaws.{REGION}.guardduty-data"))
        .vpc_endpoint_type(VpcEndpointType::Interface)
        .subnet_ids(subnet)
        .send()
        .await
        .expect("CreateVpcEndpoint");
    let eni = ep.vpc_endpoint().expect("endpoint").network_interface_ids()[0].clone();
    e.aws
        .ec2
        .describe_network_interfaces()
        .network_interface_ids(eni)
        .send()
        .await
        .expect("DescribeNetworkInterfaces")
        .network_interfaces()[0]
        .private_ip_address()
        .expect("address")
        .to_owned()
}

/// The task's entries in `acl`: (egress?, rule number, allow?, protocol, ports).
async fn task_entries(
    e: &EcsAws,
    w: &EcsWorld,
    acl: &str,
) -> Vec<(bool, i32, bool, String, Option<(i32, i32)>)> {
    let cidr = format!("{}/32", w.task_ip);
    let out = e
        .aws
        .ec2
        .describe_network_acls()
        .network_acl_ids(acl)
        .send()
        .await
        .expect("DescribeNetworkAcls");
    let mut v: Vec<_> = out.network_acls()[0]
        .entries()
        .iter()
        .filter(|x| x.cidr_block() == Some(cidr.as_str()))
        .map(|x| {
            (
                x.egress().unwrap_or_default(),
                x.rule_number().unwrap_or_default(),
                x.rule_action() == Some(&RuleAction::Allow),
                x.protocol().unwrap_or_default().to_owned(),
                x.port_range().and_then(|p| Some((p.from()?, p.to()?))),
            )
        })
        .collect();
    v.sort();
    v
}

fn isolation(outcomes: &[Outcome]) -> &Outcome {
    outcomes
        .iter()
        .find(|o| o.kind == ActionKind::EcsIsolateTaskNetwork)
        .expect("an isolation outcome")
}

fn forced_acl() -> Config {
    let mut c = Config::default();
    c.ecs.force_network_acl = true;
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_network_acl_method_allows_the_sensor_ahead_of_the_denies_and_release_removes_them() {
    let (e, w) = setup("nacl-sensor").await;
    let (subnet, endpoint_acl) = endpoint_subnet(&e, &w).await;
    let endpoint_ip = guardduty_endpoint(&e, &w, &subnet).await;
    let config = forced_acl();
    let (_, event) = ecs_world::finding_event(&w);
    let plan = world::contain_plan(&event, &config);
    let ex = EcsExecutor::new(&e.aws.config, config.ecs.clone());

    let outcomes = ex.execute(&plan).await;
    assert!(!any_failed(&outcomes), "{}", show(&outcomes));
    let iso = isolation(&outcomes);
    assert_eq!(iso.status, Status::Done, "{}", iso.detail);
    assert!(
        iso.detail.contains("GuardDuty sensor link kept"),
        "{}",
        iso.detail
    );
    assert!(iso.detail.contains(&endpoint_ip), "{}", iso.detail);
    assert!(!iso.detail.contains("blind"), "{}", iso.detail);

    // In the endpoint's ACL: per direction an ALLOW (tcp, the sensor's ports) just ahead
    // of the DENY of everything.
    let entries = task_entries(&e, &w, &endpoint_acl).await;
    assert_eq!(entries.len(), 4, "{entries:?}");
    for (egress, ports) in [(false, (443, 443)), (true, (1024, 65535))] {
        let deny = entries
            .iter()
            .find(|x| x.0 == egress && !x.2)
            .unwrap_or_else(|| panic!("a deny (egress {egress}): {entries:?}"));
        let allow = entries
            .iter()
            .find(|x| x.0 == egress && x.2)
            .unwrap_or_else(|| panic!("an allow (egress {egress}): {entries:?}"));
        assert!(
            allow.1 < deny.1,
            "the allow is evaluated first: {entries:?}"
        );
        assert_eq!(allow.3, "6", "tcp only: {entries:?}");
        assert_eq!(allow.4, Some(ports), "{entries:?}");
        assert_eq!(deny.3, "-1", "{entries:?}");
    }
    // The task's own subnet's ACL guards no endpoint: denies only.
    let own = task_entries(&e, &w, &w.acl_id).await;
    assert_eq!(own.len(), 2, "{own:?}");
    assert!(own.iter().all(|x| !x.2), "{own:?}");

    // A re-delivery finds everything in place and adds nothing.
    let again = ex.execute(&plan).await;
    assert_eq!(
        isolation(&again).status,
        Status::AlreadyDone,
        "{}",
        show(&again)
    );
    assert_eq!(task_entries(&e, &w, &endpoint_acl).await, entries);

    let released = ex
        .release(
            &w.cluster.parse().unwrap(),
            &w.task_arn.parse().unwrap(),
            true,
        )
        .await
        .expect("release");
    assert!(
        released.outcomes.iter().all(|o| o.status != Status::Failed),
        "{released:?}"
    );
    assert!(task_entries(&e, &w, &endpoint_acl).await.is_empty());
    assert!(task_entries(&e, &w, &w.acl_id).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_endpoint_the_network_acl_method_says_guardduty_is_blind() {
    let (e, w) = setup("nacl-blind").await;
    let config = forced_acl();
    let (_, event) = ecs_world::finding_event(&w);
    let outcomes = EcsExecutor::new(&e.aws.config, config.ecs.clone())
        .execute(&world::contain_plan(&event, &config))
        .await;
    let iso = isolation(&outcomes);
    assert_eq!(iso.status, Status::Done, "{}", iso.detail);
    assert!(
        iso.detail.contains("GuardDuty is now blind"),
        "{}",
        iso.detail
    );
    assert!(
        task_entries(&e, &w, &w.acl_id).await.iter().all(|x| !x.2),
        "no allow without an endpoint"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_group_swap_keeps_tcp_443_to_the_guardduty_endpoint() {
    let (e, w) = setup("swap-sensor").await;
    let (subnet, _) = endpoint_subnet(&e, &w).await;
    let endpoint_ip = guardduty_endpoint(&e, &w, &subnet).await;
    let config = Config::default();
    let (_, event) = ecs_world::finding_event(&w);
    let outcomes = EcsExecutor::new(&e.aws.config, config.ecs.clone())
        .execute(&world::contain_plan(&event, &config))
        .await;
    assert!(!any_failed(&outcomes), "{}", show(&outcomes));
    let iso = isolation(&outcomes);
    assert!(iso.detail.contains("group-swap"), "{}", iso.detail);
    assert!(
        iso.detail.contains("GuardDuty sensor link kept"),
        "{}",
        iso.detail
    );
    let groups = world::groups_named(&e.aws, &w.vpc_id, NO_RULES_GROUP_NAME).await;
    assert_eq!(groups.len(), 1);
    let egress: Vec<(String, Option<i32>, String)> = groups[0]
        .ip_permissions_egress()
        .iter()
        .flat_map(|p| {
            p.ip_ranges().iter().map(|r| {
                (
                    p.ip_protocol().unwrap_or_default().to_owned(),
                    p.from_port(),
                    r.cidr_ip().unwrap_or_default().to_owned(),
                )
            })
        })
        .collect();
    assert_eq!(
        egress,
        [("tcp".to_owned(), Some(443), format!("{endpoint_ip}/32"))]
    );
    assert!(groups[0].ip_permissions().is_empty(), "no ingress");
    assert_eq!(
        world::eni_groups(&e.aws, &w.eni_id).await,
        vec![groups[0].group_id().unwrap().to_owned()]
    );
}
