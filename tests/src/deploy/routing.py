"""Which deployed functions each events/ sample reaches, read back from a moto server.

Usage: routing.py ENDPOINT EVENTS_DIR PREFIX [PREFIX ...]. For each name prefix (one
deployment of the module), the enabled rules on the default bus named PREFIX-* are read
back with their targets, and each sample is matched with moto's own EventBridge pattern
matcher against the pattern as deployed. Prints
{"routes": {prefix: {file: [target, ...]}}, "problems": [text, ...]}, where a target is
the function name without "PREFIX-" (or the raw ARN of a target that is not a function
of that deployment). A problem is a target that could never be delivered: a function
that does not exist, a dead-letter queue that does not exist, or a function whose
resource policy does not let this rule invoke it.
"""
import json
import os
import sys

import boto3
from moto.events.models import EventPattern

endpoint, events_dir, prefixes = sys.argv[1], sys.argv[2], sys.argv[3:]
kw = {"endpoint_url": endpoint, "region_name": "us-east-1",
      "aws_access_key_id": "test", "aws_secret_access_key": "test"}
events, lam, sqs = boto3.client("events", **kw), boto3.client("lambda", **kw), boto3.client("sqs", **kw)

functions = {}
for page in lam.get_paginator("list_functions").paginate():
    functions.update({f["FunctionArn"]: f["FunctionName"] for f in page["Functions"]})
queue_arns = set()
for url in sqs.list_queues().get("QueueUrls", []):
    queue_arns.add(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def invoke_allowed(function_name, rule_arn):
    try:
        policy = json.loads(lam.get_policy(FunctionName=function_name)["Policy"])
    except lam.exceptions.ResourceNotFoundException:
        return False
    for s in policy.get("Statement", []):
        principal = s.get("Principal", {})
        service = principal.get("Service") if isinstance(principal, dict) else principal
        source = s.get("Condition", {}).get("ArnLike", {}).get("AWS:SourceArn")
        if (s.get("Effect") == "Allow" and service == "events.amazonaws.com"
                and s.get("Action") == "lambda:InvokeFunction" and source == rule_arn):
            return True
    return False


samples = {}
for f in sorted(os.listdir(events_dir)):
    if f.endswith(".json"):
        event = json.load(open(os.path.join(events_dir, f)))
        if isinstance(event, dict) and "detail-type" in event:
            samples[f] = event

problems, routes = [], {}
all_rules = [r for page in events.get_paginator("list_rules").paginate() for r in page["Rules"]]
for prefix in prefixes:
    rules = []
    for rule in all_rules:
        if not rule["Name"].startswith(prefix + "-") or rule.get("State") != "ENABLED":
            continue
        targets = []
        for t in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]:
            name = functions.get(t["Arn"])
            if name is None:
                problems.append(f"rule {rule['Name']}: target {t['Arn']} is not a deployed function")
                targets.append(t["Arn"])
                continue
            if not invoke_allowed(name, rule["Arn"]):
                problems.append(f"rule {rule['Name']}: function {name} does not allow this rule to invoke it")
            dlq = t.get("DeadLetterConfig", {}).get("Arn")
            if dlq is not None and dlq not in queue_arns:
                problems.append(f"rule {rule['Name']}: dead-letter queue {dlq} does not exist")
            targets.append(name[len(prefix) + 1:] if name.startswith(prefix + "-") else t["Arn"])
        rules.append((EventPattern.load(rule["EventPattern"]), targets))
    routes[prefix] = {
        f: sorted(t for pattern, targets in rules if pattern.matches_event(event) for t in targets)
        for f, event in samples.items()
    }
print(json.dumps({"routes": routes, "problems": problems}))
