//! The target's JSON (the replay contract's `target` objects, the webhook's) is what it was
//! when the identifiers were plain strings: the same enum with `String` fields, byte for byte.

use super::*;
use crate::render::test_support::{event, plan_of};
use serde::Serialize;

/// `Target` as it was before the `ids` newtypes.
#[derive(Serialize)]
#[serde(tag = "surface", rename_all = "lowercase")]
enum Plain {
    Ec2 {
        instance_id: String,
        vpc_id: Option<String>,
        network_interface_ids: Vec<String>,
    },
    Ecs {
        cluster: String,
        task_arn: String,
        launch_type: Option<String>,
        container_instance_host: Option<String>,
    },
    Eks {
        cluster: String,
        namespace: String,
        workload_name: String,
        workload_type: String,
        container_ids: Vec<String>,
        node_instance_id: Option<String>,
    },
}

fn s(v: &impl AsRef<str>) -> String {
    v.as_ref().to_owned()
}

fn plain(t: &Target) -> Plain {
    match t.clone() {
        Target::Ec2 {
            instance_id,
            vpc_id,
            network_interface_ids,
        } => Plain::Ec2 {
            instance_id: s(&instance_id),
            vpc_id: vpc_id.map(String::from),
            network_interface_ids: network_interface_ids.iter().map(s).collect(),
        },
        Target::Ecs {
            cluster,
            task_arn,
            launch_type,
            container_instance_host,
        } => Plain::Ecs {
            cluster: s(&cluster),
            task_arn: s(&task_arn),
            launch_type,
            container_instance_host: container_instance_host.map(String::from),
        },
        Target::Eks {
            cluster,
            namespace,
            workload_name,
            workload_type,
            container_ids,
            node_instance_id,
        } => Plain::Eks {
            cluster: s(&cluster),
            namespace: s(&namespace),
            workload_name: s(&workload_name),
            workload_type,
            container_ids: container_ids.iter().map(s).collect(),
            node_instance_id: node_instance_id.map(String::from),
        },
    }
}

#[test]
fn target_json_is_the_plain_strings_json() {
    for file in [
        "ec2-persistence-suspicious-command.json",
        "ecs-ec2-privilege-escalation-host-mount.json",
        "ecs-fargate-impact-cryptominer.json",
        "eks-execution-reverse-shell.json",
        "eks-privilege-escalation-runc-escape.json",
    ] {
        let plan = plan_of(&event(file));
        let target = &plan.actions.first().expect(file).target;
        let typed = serde_json::to_string(&**target).unwrap();
        assert_eq!(
            typed,
            serde_json::to_string(&plain(target)).unwrap(),
            "{file}"
        );
    }
}

/// A finding whose identifiers a workload could have shaped (path, newline, look-alike
/// characters) gives no target, so nothing downstream ever holds them.
#[test]
fn hostile_identifiers_give_no_target() {
    let mut e = event("ec2-persistence-suspicious-command.json");
    for bad in [
        "i-0a1b2c3d/../x",
        "i-0a1b2c3d\n",
        "і-0a1b2c3d4e5f60718",
        "I-0A1B2C3D",
    ] {
        e["detail"]["resource"]["instanceDetails"]["instanceId"] = bad.into();
        let f = crate::parse_input(e.to_string().as_bytes())
            .unwrap()
            .remove(0);
        let f = match f {
            crate::Entry::Finding(f) => f,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            ec2_target(&f),
            Err(TargetError::Invalid("instance id")),
            "{bad:?}"
        );
    }
}
