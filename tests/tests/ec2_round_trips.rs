//! Sequential AWS round trips from "plan received" to "every ENI isolated", measured
//! against moto through the loopback proxy with a fixed delay on every call.
//!
//! `isolation_round_trips_stay_within_budget` runs with the suite. The table in
//! docs/benchmarks.md comes from the ignored benchmark:
//!
//! ```sh
//! cargo test -p integration-tests --test ec2_round_trips -- --ignored --nocapture
//! ```

use integration_tests::proxy::{Call, Proxy, sequential_depth};
use integration_tests::world::{self, Aws, Instance, Network};
use responder::Config;
use responder::actions::ec2::Ec2Executor;
use responder::execute::Executor;
use responder::outcome::any_failed;
use std::time::{Duration, Instant};

const SAMPLE: &str = "ec2-defense-evasion-kernel-module.json";
const DELAY: Duration = Duration::from_millis(50);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    /// The VPC already has its isolation groups; the finding names the VPC.
    GroupsExist,
    /// First quarantine in the VPC: the groups are created on the way.
    FirstInVpc,
    /// The finding names no VPC; the groups exist.
    NoVpcInFinding,
    /// The finding names no VPC and the VPC has no groups yet.
    NoVpcFirstInVpc,
}

impl Scenario {
    fn label(self) -> &'static str {
        match self {
            Scenario::GroupsExist => "groups exist, VPC in finding (steady state)",
            Scenario::FirstInVpc => "first quarantine in the VPC (groups created)",
            Scenario::NoVpcInFinding => "no VPC in finding, groups exist",
            Scenario::NoVpcFirstInVpc => "no VPC in finding, first in the VPC",
        }
    }
}

#[derive(Debug)]
struct Measured {
    /// Round trips until the last ENI swap answered.
    depth_isolated: usize,
    /// Round trips until `DescribeInstances` answered (the instance is described).
    depth_described: usize,
    isolated_at: Duration,
    calls_before_isolated: usize,
    depth_total: usize,
    calls_total: usize,
    total: Duration,
}

async fn instance_in(direct: &Aws, net: &Network) -> Instance {
    world::two_eni_instance(direct, net).await
}

async fn measure(direct: &Aws, proxy: &Proxy, via: &Aws, scenario: Scenario) -> Measured {
    let net = world::network(direct).await;
    let exec = Ec2Executor::new(&via.config);
    if matches!(scenario, Scenario::GroupsExist | Scenario::NoVpcInFinding) {
        // An earlier incident in this VPC created the groups.
        let earlier = instance_in(direct, &net).await;
        let event = world::finding_event(
            SAMPLE,
            &world::unique_finding_id(),
            &net.region,
            &earlier,
            Some(&net.vpc_id),
        );
        let warm = exec.execute(&world::plan(&event, &Config::default())).await;
        assert!(!any_failed(&warm));
    }
    let inst = instance_in(direct, &net).await;
    let vpc = match scenario {
        Scenario::GroupsExist | Scenario::FirstInVpc => Some(net.vpc_id.as_str()),
        _ => None,
    };
    let event = world::finding_event(SAMPLE, &world::unique_finding_id(), &net.region, &inst, vpc);
    let plan = world::plan(&event, &Config::default());
    proxy.clear_log();
    let t0 = Instant::now();
    let outcomes = exec.execute(&plan).await;
    let total = t0.elapsed();
    assert!(!any_failed(&outcomes), "{outcomes:#?}");
    let calls: Vec<Call> = proxy.calls();
    let end_of = |action: &str| {
        calls
            .iter()
            .filter(|c| c.action == action)
            .map(|c| c.end)
            .max()
            .unwrap_or_else(|| panic!("no {action} call"))
    };
    let isolated_at = end_of("ModifyNetworkInterfaceAttribute");
    let swaps = calls
        .iter()
        .filter(|c| c.action == "ModifyNetworkInterfaceAttribute")
        .count();
    assert_eq!(swaps, 2 * inst.enis.len(), "two swaps per ENI");
    Measured {
        depth_isolated: sequential_depth(&calls, isolated_at),
        depth_described: sequential_depth(&calls, end_of("DescribeInstances")),
        isolated_at,
        calls_before_isolated: calls.iter().filter(|c| c.start < isolated_at).count(),
        depth_total: sequential_depth(&calls, Duration::MAX),
        calls_total: calls.len(),
        total,
    }
}

async fn setup() -> (Aws, Proxy, Aws) {
    let region = "ap-southeast-2";
    let direct = Aws::moto(region).await;
    let proxy = Proxy::start(&integration_tests::moto::shared().endpoint()).await;
    proxy.set_delay(DELAY);
    let via = Aws::at(&proxy.endpoint(), region).await;
    (direct, proxy, via)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn isolation_round_trips_stay_within_budget() {
    let (direct, proxy, via) = setup().await;
    for (scenario, budget_after_describe) in [
        (Scenario::GroupsExist, 3),
        (Scenario::FirstInVpc, 3),
        (Scenario::NoVpcInFinding, 3),
        (Scenario::NoVpcFirstInVpc, 4),
    ] {
        let m = measure(&direct, &proxy, &via, scenario).await;
        assert_eq!(m.depth_described, 1, "{m:?}");
        assert!(
            m.depth_isolated - m.depth_described <= budget_after_describe,
            "{}: {m:?}",
            scenario.label()
        );
        // Wall time follows the round trips, not the number of calls (moto's own time per
        // call comes on top; the benchmark subtracts it with a zero-delay baseline).
        assert!(
            m.isolated_at < DELAY * m.calls_before_isolated as u32,
            "{}: {m:?}",
            scenario.label()
        );
        assert!(m.calls_before_isolated > m.depth_isolated, "{m:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run explicitly with --ignored --nocapture"]
async fn bench_isolation_round_trips() {
    let (direct, proxy, via) = setup().await;
    const RUNS: usize = 7;
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let d = DELAY.as_millis();
    println!(
        "\n| scenario | sequential round trips to isolation (after describe) | calls before isolation | isolated at, 0 ms delay | isolated at, {d} ms delay | difference | round trips × {d} ms | calls × {d} ms | all calls (round trips) | all done, {d} ms delay |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for scenario in [
        Scenario::GroupsExist,
        Scenario::FirstInVpc,
        Scenario::NoVpcInFinding,
        Scenario::NoVpcFirstInVpc,
    ] {
        let mut base = Vec::new();
        let mut slow = Vec::new();
        for _ in 0..RUNS {
            proxy.set_delay(Duration::ZERO);
            base.push(measure(&direct, &proxy, &via, scenario).await);
            proxy.set_delay(DELAY);
            slow.push(measure(&direct, &proxy, &via, scenario).await);
        }
        let m = &slow[0];
        assert!(
            // Depth is read from the delayed runs only: without a delay, calls of one
            // round trip finish one after another in moto and look sequential.
            slow.iter().all(|r| r.depth_isolated == m.depth_isolated),
            "{slow:?}"
        );
        let b = median(base.iter().map(|m| m.isolated_at).collect());
        let s = median(slow.iter().map(|m| m.isolated_at).collect());
        println!(
            "| {} | {} ({}) | {} | {} ms | {} ms | {} ms | {} ms | {} ms | {} ({}) | {} ms |",
            scenario.label(),
            m.depth_isolated,
            m.depth_isolated - m.depth_described,
            m.calls_before_isolated,
            b.as_millis(),
            s.as_millis(),
            s.saturating_sub(b).as_millis(),
            m.depth_isolated as u128 * d,
            m.calls_before_isolated as u128 * d,
            m.calls_total,
            m.depth_total,
            median(slow.iter().map(|m| m.total).collect()).as_millis(),
        );
    }
}
