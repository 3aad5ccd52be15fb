//! Isolation that keeps GuardDuty's sensor connected, against moto (VPC endpoints, groups)
//! and the local GuardDuty server (coverage after containment).

use integration_tests::guardduty_api::{self, GuardDutyApi};
use integration_tests::world::{self, Aws, Instance, Network};
use responder::Config;
use responder::actions::ec2::Ec2Executor;
use responder::actions::ec2::isolation_groups::NO_RULES_GROUP_NAME;
use responder::execute::Executor;
use responder::outcome::Status;
use responder::plan::ActionKind;
use std::collections::BTreeSet;

const SAMPLE: &str = "ec2-defense-evasion-kernel-module.json";
const REGION: &str = "us-east-1";

/// An interface endpoint for `service` in subnet B; returns its id and ENI address.
async fn endpoint(aws: &Aws, net: &Network, service: &str) -> (String, String) {
    let ep = aws
        .ec2
        .create_vpc_endpoint()
        .vpc_id(&net.vpc_id)
        .service_name(format!("com.amazonaws.{REGION}.{service}"))
        .vpc_endpoint_type(aws_sdk_ec2::types::VpcEndpointType::Interface)
        .subnet_ids(&net.subnet_b)
        .security_group_ids(&net.web_sg)
        .send()
        .await
        .expect("CreateVpcEndpoint");
    let ep = ep.vpc_endpoint().expect("endpoint");
    let eni = ep.network_interface_ids().first().expect("an endpoint ENI");
    let ip = aws
        .ec2
        .describe_network_interfaces()
        .network_interface_ids(eni)
        .send()
        .await
        .expect("DescribeNetworkInterfaces")
        .network_interfaces()[0]
        .private_ip_address()
        .expect("address")
        .to_owned();
    (ep.vpc_endpoint_id().expect("id").to_owned(), ip)
}

/// The no-rules group's egress as (protocol, port, CIDR) triples; and its ingress count.
async fn no_rules_egress(aws: &Aws, vpc: &str) -> (BTreeSet<(String, i32, String)>, usize) {
    let groups = world::groups_named(aws, vpc, NO_RULES_GROUP_NAME).await;
    assert_eq!(groups.len(), 1, "one no-rules group in {vpc}");
    let egress = groups[0]
        .ip_permissions_egress()
        .iter()
        .flat_map(|p| {
            p.ip_ranges().iter().map(|r| {
                (
                    p.ip_protocol().unwrap_or_default().to_owned(),
                    p.from_port().unwrap_or(-1),
                    r.cidr_ip().unwrap_or_default().to_owned(),
                )
            })
        })
        .collect();
    (egress, groups[0].ip_permissions().len())
}

async fn contain(
    aws: &Aws,
    gd: &GuardDutyApi,
    net: &Network,
    inst: &Instance,
    config: &Config,
) -> (Status, String) {
    let fid = world::unique_finding_id();
    let event = world::finding_event(SAMPLE, &fid, &net.region, inst, Some(&net.vpc_id));
    let plan = world::contain_plan(&event, config);
    let exec =
        Ec2Executor::new(&gd.route_guardduty(&aws.config)).with_isolation(config.isolation.clone());
    let outcomes = exec.execute(&plan).await;
    let o = outcomes
        .iter()
        .find(|o| o.kind == ActionKind::Ec2IsolateNetwork)
        .expect("an isolation outcome");
    (o.status, o.detail.clone())
}

async fn guardduty(instance: &str, status: &str) -> GuardDutyApi {
    GuardDutyApi::start(guardduty_api::World {
        detectors: vec!["d1".into()],
        resources: vec![
            guardduty_api::ec2("123456789012", "i-0000000000000000f", "UNHEALTHY", None),
            guardduty_api::ec2("123456789012", instance, status, None),
        ],
        page_size: 50,
        tags: vec![],
        findings: vec![],
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guardduty_endpoint_stays_reachable_and_coverage_is_reported() {
    let aws = Aws::moto(REGION).await;
    let net = world::network(&aws).await;
    let inst = world::one_eni_instance(&aws, &net).await;
    let (gd_id, gd_ip) = endpoint(&aws, &net, "guardduty-data").await;
    let (_, ssm_ip) = endpoint(&aws, &net, "ssm").await;
    let gd = guardduty(&inst.id, "HEALTHY").await;

    let (status, detail) = contain(&aws, &gd, &net, &inst, &Config::default()).await;
    assert_eq!(status, Status::Done, "{detail}");
    let (egress, ingress) = no_rules_egress(&aws, &net.vpc_id).await;
    assert_eq!(ingress, 0, "no ingress at all");
    // Only tcp 443 to the GuardDuty endpoint: SSM is off by default.
    assert_eq!(
        egress,
        BTreeSet::from([("tcp".to_owned(), 443, format!("{gd_ip}/32"))]),
        "{detail}"
    );
    assert!(!detail.contains(&ssm_ip), "{detail}");
    assert!(
        detail.contains("GuardDuty sensor link kept") && detail.contains(&gd_id),
        "{detail}"
    );
    assert!(
        detail.contains(&format!("coverage of {}: HEALTHY", inst.id)),
        "{detail}"
    );
    assert!(detail.contains("GuardDuty still sees it"), "{detail}");
    // The coverage read was filtered to the instance.
    let listed = gd
        .calls()
        .into_iter()
        .find(|c| c.path.ends_with("/coverage"))
        .expect("a ListCoverage call");
    let criterion = &listed.body["filterCriteria"]["filterCriterion"][0];
    assert_eq!(criterion["criterionKey"], "INSTANCE_ID");
    assert_eq!(criterion["filterCondition"]["equals"][0], inst.id.as_str());

    // With the SSM switch on, the next containment in the VPC adds the SSM endpoint.
    let mut config = Config::default();
    config.isolation.keep_ssm_endpoints = true;
    let other = world::one_eni_instance(&aws, &net).await;
    let (status, detail) = contain(&aws, &gd, &net, &other, &config).await;
    assert_eq!(status, Status::Done, "{detail}");
    let (egress, _) = no_rules_egress(&aws, &net.vpc_id).await;
    let cidrs: BTreeSet<String> = egress.iter().map(|(_, _, c)| c.clone()).collect();
    assert_eq!(
        cidrs,
        BTreeSet::from([format!("{gd_ip}/32"), format!("{ssm_ip}/32")])
    );
    // An instance GuardDuty does not list is reported as not monitored.
    assert!(detail.contains("not in its coverage list"), "{detail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_endpoint_isolation_is_total_and_says_guardduty_is_blind() {
    let aws = Aws::moto(REGION).await;
    let net = world::network(&aws).await;
    let inst = world::one_eni_instance(&aws, &net).await;
    // An endpoint in another VPC does not count.
    let elsewhere = world::network(&aws).await;
    endpoint(&aws, &elsewhere, "guardduty-data").await;
    let gd = guardduty(&inst.id, "HEALTHY").await;

    let (status, detail) = contain(&aws, &gd, &net, &inst, &Config::default()).await;
    assert_eq!(status, Status::Done, "{detail}");
    let (egress, ingress) = no_rules_egress(&aws, &net.vpc_id).await;
    assert!(egress.is_empty() && ingress == 0, "{egress:?}");
    assert!(detail.contains("GuardDuty is now blind"), "{detail}");
    assert!(
        detail.contains("turns UNHEALTHY within minutes"),
        "{detail}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unhealthy_resource_is_reported_unseen() {
    let aws = Aws::moto(REGION).await;
    let net = world::network(&aws).await;
    let inst = world::one_eni_instance(&aws, &net).await;
    endpoint(&aws, &net, "guardduty-data").await;
    let gd = guardduty(&inst.id, "UNHEALTHY").await;
    let (status, detail) = contain(&aws, &gd, &net, &inst, &Config::default()).await;
    assert_eq!(status, Status::Done, "{detail}");
    assert!(detail.contains("GuardDuty does not see it"), "{detail}");
}
