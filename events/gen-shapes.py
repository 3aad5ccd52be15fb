#!/usr/bin/env python3
"""Regenerates the shape-*.* and hostile-shape-*.* samples (run from anywhere; writes next to this script).

Each is one existing EventBridge sample carried in another shape a GuardDuty finding travels in
(see docs/input-shapes.md): the same finding, so replaying any of them must give the same plan as
its source. ASFF follows what Security Hub writes for GuardDuty: the type as the last `Types`
segment with its `/` rewritten to `-`, GuardDuty's severity in `Severity.Product`, the `service`
members flattened into `ProductFields` as `aws/guardduty/service/<path>` strings, and the
instance under `Resources[]` with its tags as a map.
"""
import gzip, json, os

HERE = os.path.dirname(os.path.abspath(__file__))
TOPIC = "arn:aws:sns:us-east-1:123456789012:guardduty-findings"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:guardduty-findings"
TACTICS = {"Execution": "Execution", "DefenseEvasion": "Defense Evasion", "Persistence": "Persistence",
           "PrivilegeEscalation": "Privilege Escalation", "Backdoor": "Command and Control",
           "Trojan": "Command and Control", "Impact": "Impact", "CryptoCurrency": "Impact",
           "UnauthorizedAccess": "Initial Access", "Discovery": "Discovery"}


def load(name):
    with open(os.path.join(HERE, name)) as f:
        return json.load(f)


def write(name, doc):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(doc, f, indent=2, ensure_ascii=True)
        f.write("\n")


def pascal(v):
    if isinstance(v, dict):
        return {k[:1].upper() + k[1:]: pascal(x) for k, x in v.items()}
    if isinstance(v, list):
        return [pascal(x) for x in v]
    return v


def sns(event, n):
    return {"Type": "Notification", "MessageId": f"5b2c1e0a-0000-4000-8000-00000000000{n}", "TopicArn": TOPIC,
            "Message": json.dumps(event, ensure_ascii=True), "Timestamp": "2026-11-20T10:00:01.000Z",
            "SignatureVersion": "1", "Signature": "EXAMPLE", "SigningCertURL":
            "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-example.pem",
            "UnsubscribeURL": f"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={TOPIC}:1"}


def sqs(event, n):
    return {"Records": [{"messageId": f"0f3e2d1c-0000-4000-8000-00000000000{n}", "receiptHandle": "AQEBexample",
                         "body": json.dumps(sns(event, n), ensure_ascii=True),
                         "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795168801000"},
                         "messageAttributes": {}, "md5OfBody": "0" * 32, "eventSource": "aws:sqs",
                         "eventSourceARN": QUEUE, "awsRegion": "us-east-1"}]}


def entries(event):
    return {"Entries": [{"Source": event["source"], "DetailType": event["detail-type"], "Resources": [],
                         "Detail": json.dumps(event["detail"], ensure_ascii=True), "EventBusName": "default"}]}


def flatten(prefix, v, out):
    if isinstance(v, dict):
        for k, x in v.items():
            flatten(f"{prefix}/{k}", x, out)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            flatten(f"{prefix}/{i}", x, out)
    elif isinstance(v, bool):
        out[prefix] = "true" if v else "false"
    elif v is not None:
        out[prefix] = str(v)


def label(s):
    return "CRITICAL" if s >= 9 else "HIGH" if s >= 7 else "MEDIUM" if s >= 4 else "LOW"


def asff(d):
    """An EC2 (`Instance`) finding as Security Hub imports it from GuardDuty."""
    assert d["resource"]["resourceType"] == "Instance"
    purpose, rest = d["type"].split(":", 1)
    region, account = d["region"], d["accountId"]
    i = d["resource"]["instanceDetails"]
    enis = i.get("networkInterfaces") or []
    fields = {}
    flatten("aws/guardduty/service", d["service"], fields)
    fields["aws/securityhub/FindingId"] = f"arn:aws:securityhub:{region}::product/aws/guardduty/{d['arn']}"
    fields["aws/securityhub/ProductName"] = "GuardDuty"
    fields["aws/securityhub/CompanyName"] = "Amazon"
    finding_type = f"TTPs/{TACTICS[purpose]}/{purpose}:{rest.replace('/', '-', 1)}"
    return {
        "SchemaVersion": "2018-10-08", "Id": d["arn"],
        "ProductArn": f"arn:aws:securityhub:{region}::product/aws/guardduty",
        "ProductName": "GuardDuty", "CompanyName": "Amazon", "Region": region,
        "GeneratorId": d["arn"].split("/finding/")[0], "AwsAccountId": account,
        "Types": [finding_type],
        "FirstObservedAt": d["service"]["eventFirstSeen"], "LastObservedAt": d["service"]["eventLastSeen"],
        "CreatedAt": d["createdAt"], "UpdatedAt": d["updatedAt"],
        "Severity": {"Product": d["severity"], "Label": label(d["severity"]), "Normalized": int(d["severity"] * 10)},
        "Title": d["title"], "Description": d["description"],
        "SourceUrl": f"https://console.aws.amazon.com/guardduty/home?region={region}#/findings?fId={d['id']}",
        "ProductFields": fields,
        "Resources": [{
            "Type": "AwsEc2Instance", "Id": f"arn:aws:ec2:{region}:{account}:instance/{i['instanceId']}",
            "Partition": d.get("partition", "aws"), "Region": region,
            "Tags": {t["key"]: t["value"] for t in i.get("tags") or []},
            "Details": {"AwsEc2Instance": {
                "Type": i.get("instanceType"), "ImageId": i.get("imageId"), "LaunchedAt": i.get("launchTime"),
                "VpcId": enis[0].get("vpcId") if enis else None, "SubnetId": enis[0].get("subnetId") if enis else None,
                "IpV4Addresses": [n["privateIpAddress"] for n in enis if n.get("privateIpAddress")],
                "NetworkInterfaces": [{"NetworkInterfaceId": n["networkInterfaceId"]} for n in enis]}}}],
        "WorkflowState": "NEW", "Workflow": {"Status": "NEW"}, "RecordState": "ACTIVE",
        "FindingProviderFields": {"Types": [finding_type], "Severity": {"Label": label(d["severity"]),
                                                                        "Original": str(d["severity"])}},
        "Sample": False, "ProcessedAt": d["updatedAt"],
    }


def imported(event):
    finding = asff(event["detail"])
    return {"version": "0", "id": event["id"], "detail-type": "Security Hub Findings - Imported",
            "source": "aws.securityhub", "account": event["account"], "time": event["time"],
            "region": event["region"], "resources": [finding["ProductFields"]["aws/securityhub/FindingId"]],
            "detail": {"findings": [finding]}}


def jsonl(detail):
    return (json.dumps(detail, ensure_ascii=True) + "\n").encode()


def envelope_pascal(event):
    return {**event, "detail": pascal(event["detail"])}


def main():
    canonical = load("ec2-defense-evasion-kernel-module.json")
    write("shape-eventbridge-pascal-detail.json", envelope_pascal(canonical))
    write("shape-sns-notification.json", sns(canonical, 1))
    write("shape-sqs-records.json", sqs(canonical, 1))
    write("shape-put-events-entries.json", entries(canonical))
    with open(os.path.join(HERE, "shape-s3-export.jsonl"), "wb") as f:
        f.write(jsonl(canonical["detail"]))
    with open(os.path.join(HERE, "shape-s3-export.jsonl.gz"), "wb") as f:
        f.write(gzip.compress(jsonl(canonical["detail"]), mtime=0))
    write("shape-securityhub-imported.json", imported(canonical))
    write("shape-securityhub-get-findings.json", {"Findings": [asff(canonical["detail"])]})

    write("hostile-shape-eventbridge-pascal-detail.json", envelope_pascal(load("hostile-control-chars.json")))
    write("hostile-shape-sns-notification.json", sns(load("hostile-slack-injection.json"), 2))
    write("hostile-shape-sqs-records.json", sqs(load("hostile-bidi-zero-width.json"), 3))
    write("hostile-shape-put-events-entries.json", entries(load("hostile-invisible-chars.json")))
    with open(os.path.join(HERE, "hostile-shape-s3-export.jsonl.gz"), "wb") as f:
        f.write(gzip.compress(jsonl(load("hostile-html-injection.json")["detail"]), mtime=0))
    write("hostile-shape-securityhub-imported.json", imported(load("hostile-html-injection.json")))
    write("hostile-shape-securityhub-get-findings.json",
          {"Findings": [asff(load("hostile-control-chars.json")["detail"])]})


if __name__ == "__main__":
    main()
