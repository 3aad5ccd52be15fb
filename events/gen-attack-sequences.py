#!/usr/bin/env python3
"""Writes the attack-sequence samples (AttackSequence:* findings of GuardDuty Extended
Threat Detection, `service.detection.sequence` as the GuardDuty API's Sequence shape):
one per surface and one hostile. Run from the repository root: python3 events/gen-attack-sequences.py"""
import json

ACCOUNT, REGION = "123456789012", "us-east-1"


def envelope(fid, detail):
    return {
        "version": "0", "id": f"5eq0000{fid[-5:]}-0000-4000-8000-000000000000",
        "detail-type": "GuardDuty Finding", "source": "aws.guardduty",
        "account": ACCOUNT, "time": "2026-11-20T11:00:00Z", "region": REGION,
        "resources": [], "detail": detail,
    }


def finding(fid, ftype, resource, sequence, title, severity=9.3):
    return {
        "schemaVersion": "2.0", "accountId": ACCOUNT, "region": REGION, "partition": "aws",
        "id": fid, "arn": f"arn:aws:guardduty:{REGION}:{ACCOUNT}:detector/4cb6a1f0e2d3c5b79a8e1f20d3c4b5a6/finding/{fid}",
        "type": ftype, "resource": resource,
        "service": {"serviceName": "guardduty", "detectorId": "4cb6a1f0e2d3c5b79a8e1f20d3c4b5a6",
                    "featureName": "Correlation", "archived": False, "count": 1,
                    "eventFirstSeen": "2026-11-20T09:41:00.000Z", "eventLastSeen": "2026-11-20T10:52:00.000Z",
                    "detection": {"sequence": sequence}},
        "severity": severity, "createdAt": "2026-11-20T10:55:00.000Z", "updatedAt": "2026-11-20T10:58:00.000Z",
        "title": title, "description": title,
    }


def signal(uid, name, first, last, resources, severity=8.0, count=1, stype="FINDING"):
    return {"uid": uid, "type": stype, "name": name, "description": name,
            "createdAt": first, "updatedAt": last, "firstSeenAt": first, "lastSeenAt": last,
            "severity": severity, "count": count, "resourceUids": resources,
            "actorIds": [], "endpointIds": [], "signalIndicators": []}


def indicators(tactics, techniques):
    return [{"key": "ATTACK_TACTIC", "values": tactics, "title": "MITRE ATT&CK tactics"},
            {"key": "ATTACK_TECHNIQUE", "values": techniques, "title": "MITRE ATT&CK techniques"}]


def eks(cluster="prod-eks", ns="default", workload="web", pod_container="d8302facc30bca8c025855839ddc7a7f253271cb34fc42a2b4f58e0df39deca5",
        domain="c2.example.net", description="A sequence of suspicious actions on EKS cluster prod-eks: a reverse shell in a pod, a container escape, then credential access."):
    cluster_arn = f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{cluster}"
    wl = f"{cluster_arn}/{ns}/deployments/{workload}"
    seq = {
        "uid": "arn:aws:guardduty:us-east-1:123456789012:sequence/0a1b2c3d",
        "description": description,
        "actors": [{"id": "actor-1", "process": {"name": "bash", "path": "/usr/bin/bash"}},
                   {"id": "actor-2", "user": {"name": "system:serviceaccount:default:web", "uid": "sa-web", "type": "KubernetesServiceAccount"}}],
        "endpoints": [{"id": "endpoint-1", "domain": domain, "ip": "198.51.100.7", "port": 4444,
                       "location": {"country": "Exampleland", "city": "Sample"}}],
        "resources": [
            {"uid": cluster_arn, "name": cluster, "accountId": ACCOUNT, "resourceType": "EKS_CLUSTER",
             "region": REGION, "service": "EKS", "cloudPartition": "aws", "tags": [{"key": "team", "value": "platform"}],
             "data": {"eksCluster": {"arn": cluster_arn, "status": "ACTIVE", "vpcId": "vpc-0e1d2c3b4a5968778"}}},
            {"uid": wl, "name": workload, "accountId": ACCOUNT, "resourceType": "KUBERNETES_WORKLOAD",
             "region": REGION, "service": "EKS", "cloudPartition": "aws", "tags": [],
             "data": {"kubernetesWorkload": {"namespace": ns, "kubernetesResourcesTypes": "deployments",
                                              "containerUids": [pod_container]}}},
        ],
        "signals": [
            signal("finding-2", "PrivilegeEscalation:Runtime/ContainerMountsHostDirectory", "2026-11-20T10:12:00.000Z", "2026-11-20T10:12:30.000Z", [wl], 8.0),
            signal("finding-1", "Execution:Runtime/ReverseShell", "2026-11-20T09:41:00.000Z", "2026-11-20T09:43:00.000Z", [wl], 8.0, 3),
            signal("api-1", "ListSecrets", "2026-11-20T10:50:00.000Z", "2026-11-20T10:52:00.000Z", [cluster_arn], 5.0, 14, "KUBERNETES_AUDIT_LOG"),
        ],
        "sequenceIndicators": indicators(["Execution", "PrivilegeEscalation", "CredentialAccess"], ["T1059", "T1611", "T1552"]),
        "additionalSequenceTypes": [],
    }
    resource = {"resourceType": "EKSCluster",
                "eksClusterDetails": {"name": cluster, "arn": cluster_arn, "vpcId": "vpc-0e1d2c3b4a5968778",
                                      "status": "ACTIVE", "tags": [{"key": "team", "value": "platform"}]}}
    return seq, resource


def main():
    out = {}
    seq, resource = eks()
    out["attack-sequence-eks-compromised-cluster.json"] = envelope(
        "a5e9eks0000000000000000000000001",
        finding("a5e9eks0000000000000000000000001", "AttackSequence:EKS/CompromisedCluster", resource, seq,
                "Potential compromise of EKS cluster prod-eks indicated by a sequence of actions."))

    task = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/prod-cluster/0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    cluster_arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/prod-cluster"
    seq = {
        "uid": "arn:aws:guardduty:us-east-1:123456789012:sequence/1b2c3d4e",
        "description": "A sequence of suspicious actions on ECS cluster prod-cluster: a crypto miner in a Fargate task, then its role's credentials used from outside AWS.",
        "actors": [{"id": "actor-1", "process": {"name": "xmrig", "path": "/tmp/.x/xmrig"}}],
        "endpoints": [{"id": "endpoint-1", "domain": "pool.minexmr.example", "ip": "203.0.113.50", "port": 3333}],
        "resources": [
            {"uid": cluster_arn, "name": "prod-cluster", "resourceType": "ECS_CLUSTER", "accountId": ACCOUNT, "region": REGION,
             "service": "ECS", "tags": [], "data": {"ecsCluster": {"status": "ACTIVE"}}},
            {"uid": task, "name": "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "resourceType": "ECS_TASK", "accountId": ACCOUNT, "region": REGION,
             "service": "ECS", "tags": [{"key": "service", "value": "payments"}],
             "data": {"ecsTask": {"taskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/payments:7", "launchType": "FARGATE",
                                  "containerUids": ["c0ffee00"]}}},
        ],
        "signals": [
            signal("finding-1", "Impact:Runtime/CryptoMinerExecuted", "2026-11-20T09:41:00.000Z", "2026-11-20T10:40:00.000Z", [task], 8.0, 12),
            signal("finding-2", "CryptoCurrency:Runtime/BitcoinTool.B!DNS", "2026-11-20T09:42:00.000Z", "2026-11-20T10:41:00.000Z", [task], 8.0, 30),
        ],
        "sequenceIndicators": indicators(["Impact"], ["T1496"]),
        "additionalSequenceTypes": [],
    }
    resource = {"resourceType": "ECSCluster", "ecsClusterDetails": {"name": "prod-cluster", "arn": cluster_arn, "status": "ACTIVE", "tags": []}}
    out["attack-sequence-ecs-compromised-cluster.json"] = envelope(
        "a5e9ecs0000000000000000000000002",
        finding("a5e9ecs0000000000000000000000002", "AttackSequence:ECS/CompromisedCluster", resource, seq,
                "Potential compromise of ECS cluster prod-cluster indicated by a sequence of actions."))

    instances = ["i-0a1b2c3d4e5f60718", "i-0b2c3d4e5f6071829"]
    seq = {
        "uid": "arn:aws:guardduty:us-east-1:123456789012:sequence/2c3d4e5f",
        "description": "A sequence of suspicious actions across an Auto Scaling group: the same backdoor on two instances.",
        "actors": [{"id": "actor-1", "process": {"name": "kworkerd", "path": "/var/tmp/kworkerd"}}],
        "endpoints": [{"id": "endpoint-1", "domain": "update.backdoor.example", "port": 443}],
        "resources": [{"uid": i, "name": i, "resourceType": "EC2_INSTANCE", "accountId": ACCOUNT, "region": REGION,
                       "service": "EC2", "tags": [{"key": "aws:autoscaling:groupName", "value": "web-asg"}],
                       "data": {"ec2Instance": {"instanceState": "running", "instanceType": "m6i.large"}}} for i in instances],
        "signals": [signal(f"finding-{n}", "Backdoor:Runtime/C&CActivity.B!DNS", f"2026-11-20T10:0{n}:00.000Z", f"2026-11-20T10:3{n}:00.000Z", [i], 8.0, 5)
                    for n, i in enumerate(instances, 1)],
        "sequenceIndicators": indicators(["CommandAndControl"], ["T1071"]),
        "additionalSequenceTypes": [],
    }
    resource = {"resourceType": "Instance", "instanceDetails": {"instanceId": instances[0], "tags": []}}
    out["attack-sequence-ec2-compromised-instance-group.json"] = envelope(
        "a5e9ec20000000000000000000000003",
        finding("a5e9ec20000000000000000000000003", "AttackSequence:EC2/CompromisedInstanceGroup", resource, seq,
                "Potential compromise of a group of EC2 instances indicated by a sequence of actions."))

    # Hostile: every string a sequence carries is attacker-influenced.
    evil = "<script>alert(1)</script> <!channel> @here *bold* `tick` \u202eexe.txt\u200b\u0007 &amp;"
    seq, resource = eks(workload="web", domain=f"c2.{'&' * 600}.example\u202e", description=evil * 20)
    seq["signals"] = [signal(f"s{n}", f"{evil} {n}", "XXXX-XX-XXTXX:XX:XXZ" if n % 3 == 0 else f"2026-11-20T10:{n:02d}:00.000Z",
                             "2026-11-20T11:00:00.000Z", [f"{evil}-{n}"], 8.0, n) for n in range(40)]
    seq["actors"] = [{"id": f"a{n}", "user": {"name": f"{evil} {n}"}} for n in range(12)]
    seq["endpoints"] += [{"id": f"e{n}", "domain": f"<a href='https://evil.example'>{n}</a>", "port": "443"} for n in range(9)]
    seq["sequenceIndicators"] = indicators([evil], ["<b>T0000</b>"])
    seq["additionalSequenceTypes"] = [evil]
    out["hostile-attack-sequence.json"] = envelope(
        "a5e9bad0000000000000000000000004",
        finding("a5e9bad0000000000000000000000004", "AttackSequence:EKS/CompromisedCluster", resource, seq, evil))

    for name, event in out.items():
        with open(f"events/{name}", "w") as f:
            json.dump(event, f, indent=2, ensure_ascii=True)
            f.write("\n")


if __name__ == "__main__":
    main()
