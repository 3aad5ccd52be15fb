//! How to undo a containment: the exact `responder release …` command for each contained
//! resource (`cli/src/release_*.rs` define the syntax).
//!
//! Every word of a command is a validated identifier (the plan's targets passed
//! `crate::target`'s checks; the region and partition are checked here), so a command can
//! be pasted into a shell as it is: no quoting is needed and none could be broken.

use crate::outcome::Outcome;
use crate::plan::{ActionKind, ResponsePlan};
use crate::target::{Target, is_k8s_name};
use crate::validate::is_region;

/// What the alert says under "How to undo it".
#[derive(Debug, Clone, PartialEq)]
pub enum Undo {
    /// Nothing was (or would be) changed.
    Nothing,
    /// One command per contained resource; a `<pod>` placeholder where the pod is chosen
    /// at containment time and not known yet.
    Commands(Vec<String>),
}

/// The pod the EKS executor labelled (its outcome target is `cluster/namespace/pod`).
fn labelled_pod<'a>(
    outcomes: Option<&'a [Outcome]>,
    cluster: &str,
    namespace: &str,
) -> Option<&'a str> {
    outcomes?.iter().find_map(|o| {
        let mut parts = o.target.split('/');
        let (Some(c), Some(n), Some(pod), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        (o.kind == ActionKind::EksLabelPod && c == cluster && n == namespace && is_k8s_name(pod))
            .then_some(pod)
    })
}

fn command(target: &Target, region: &str, partition: &str, outcomes: Option<&[Outcome]>) -> String {
    let mut words: Vec<&str> = vec!["responder", "release"];
    match target {
        Target::Ec2 { instance_id, .. } => words.extend(["ec2", instance_id]),
        Target::Ecs {
            cluster, task_arn, ..
        } => words.extend(["ecs", cluster, task_arn]),
        Target::Eks {
            cluster,
            namespace,
            workload_name,
            workload_type,
            ..
        } => {
            let pod = if matches!(workload_type.as_str(), "pods" | "pod") {
                Some(workload_name.as_str())
            } else {
                labelled_pod(outcomes, cluster, namespace)
            };
            words.extend(["eks", cluster, namespace, pod.unwrap_or("<pod>")]);
            if partition != "aws" {
                words.extend(["--partition", partition]);
            }
        }
    }
    words.extend(["--region", region, "--execute"]);
    words.join(" ")
}

/// The release command for one contained resource (`responder list`, the reminder), or
/// `None` when the region or partition is not well-formed.
pub fn release_command(target: &Target, region: &str, partition: &str) -> Option<String> {
    let partition_ok = matches!(partition, "aws" | "aws-cn" | "aws-us-gov");
    (is_region(region) && partition_ok).then(|| command(target, region, partition, None))
}

/// The release commands for `plan` (one per distinct target), or [`Undo::Nothing`]. A
/// region or partition that is not well-formed gives no command: release would then act
/// on the caller's default region, which may not be the finding's.
pub fn undo(plan: &ResponsePlan, outcomes: Option<&[Outcome]>) -> Undo {
    if plan.actions.is_empty() {
        return Undo::Nothing;
    }
    let partition_ok = matches!(plan.partition.as_str(), "aws" | "aws-cn" | "aws-us-gov");
    if !is_region(&plan.region) || !partition_ok {
        return Undo::Commands(Vec::new());
    }
    // Targets hold only validated identifiers (`crate::target`): each is a shell word.
    let mut commands: Vec<String> = Vec::new();
    for a in &plan.actions {
        let c = command(&a.target, &plan.region, &plan.partition, outcomes);
        if !commands.contains(&c) {
            commands.push(c);
        }
    }
    Undo::Commands(commands)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
    use crate::render::test_support::{event, plan_of};

    fn commands(p: &ResponsePlan, outcomes: Option<&[Outcome]>) -> Vec<String> {
        match undo(p, outcomes) {
            Undo::Commands(c) => c,
            Undo::Nothing => Vec::new(),
        }
    }

    #[test]
    fn each_surface_gets_its_release_command() {
        let ec2 = plan_of(&event("ec2-persistence-suspicious-command.json"));
        let ecs = plan_of(&event("ecs-fargate-impact-cryptominer.json"));
        let eks = plan_of(&event("eks-execution-reverse-shell.json"));
        for (p, head) in [
            (&ec2, "responder release ec2 i-"),
            (
                &ecs,
                "responder release ecs payments arn:aws:ecs:us-east-1:",
            ),
            (&eks, "responder release eks "),
        ] {
            let c = commands(p, None);
            assert_eq!(c.len(), 1, "{c:?}");
            assert!(c[0].starts_with(head), "{}", c[0]);
            assert!(c[0].ends_with(" --region us-east-1 --execute"), "{}", c[0]);
        }
    }

    #[test]
    fn a_notified_finding_has_nothing_to_undo() {
        let p = plan_of(&event("eks-discovery-suspicious-command.json"));
        assert_eq!(undo(&p, None), Undo::Nothing);
    }

    #[test]
    fn a_deployment_names_the_labelled_pod_once_it_is_known() {
        let p = plan_of(&event("eks-privilege-escalation-runc-escape.json"));
        let Target::Eks {
            cluster, namespace, ..
        } = &*p.actions[0].target
        else {
            panic!("an EKS target")
        };
        assert!(commands(&p, None)[0].contains(" <pod> "));
        let labelled = |pod: &str| {
            vec![Outcome::new(
                ActionKind::EksLabelPod,
                format!("{cluster}/{namespace}/{pod}"),
                Status::Done,
                "",
            )]
        };
        let pod = "runner-6b7c9d-x2x4q";
        let done = labelled(pod);
        let c = &commands(&p, Some(&done))[0];
        assert!(c.contains(&format!(" {namespace} {pod} --region")), "{c}");
        // A pod name that is not a Kubernetes name is never pasted into the command.
        for lure in ["x;rm -rf /", "$(id)", "a b", "<script>", "Pod"] {
            let c = &commands(&p, Some(&labelled(lure)))[0];
            assert!(c.contains(" <pod> ") && !c.contains(lure), "{c}");
        }
    }

    #[test]
    fn a_malformed_region_or_partition_gives_no_command() {
        for (key, lure) in [
            ("region", "us-east-1; rm -rf /"),
            ("region", "$(curl evil)"),
            ("partition", "aws --profile prod"),
        ] {
            let mut e = event("ec2-persistence-suspicious-command.json");
            e["detail"][key] = serde_json::json!(lure);
            let p = plan_of(&e);
            if !p.actions.is_empty() {
                assert_eq!(undo(&p, None), Undo::Commands(Vec::new()), "{lure}");
            }
        }
    }

    #[test]
    fn every_word_of_every_command_is_shell_inert() {
        for file in [
            "ec2-persistence-suspicious-command.json",
            "ecs-fargate-impact-cryptominer.json",
            "eks-execution-reverse-shell.json",
            "hostile-html-injection.json",
            "hostile-backtick-breakout.json",
        ] {
            for c in commands(&plan_of(&event(file)), None) {
                assert!(
                    c.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b" -_./:<>".contains(&b)),
                    "{file}: {c}"
                );
            }
        }
    }
}
