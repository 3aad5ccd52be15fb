"""What exists in a moto server, by Terraform resource type: {type: ["account/id", ...]}.

Usage: inventory.py ENDPOINT [ROLE_ARN ...]. Lists the default account, then the account of
each ROLE_ARN (entered with sts:AssumeRole, which moto grants for any role). Only types
listed here are counted; a type Terraform creates that is missing here is reported by the
test as not inventoried, so add a lister below when new infrastructure lands.
"""
import json
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint = sys.argv[1]
REGION = "us-east-1"


def clients(**creds):
    cfg = Config(retries={"max_attempts": 2})
    return lambda svc: boto3.client(svc, endpoint_url=endpoint, region_name=REGION, config=cfg, **creds)


def pages(client, op, key, **kw):
    for page in client.get_paginator(op).paginate(**kw):
        yield from page.get(key, [])


def lambda_items(c):
    out = {"aws_lambda_function": [], "aws_lambda_permission": [],
           "aws_lambda_function_event_invoke_config": [], "aws_lambda_function_url": []}
    lam = c("lambda")
    for fn in pages(lam, "list_functions", "Functions"):
        name = fn["FunctionName"]
        out["aws_lambda_function"].append(name)
        try:
            policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
            out["aws_lambda_permission"] += [f"{name}/{s['Sid']}" for s in policy.get("Statement", [])]
        except lam.exceptions.ResourceNotFoundException:
            pass
        cfgs = lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"]
        out["aws_lambda_function_event_invoke_config"] += [name for _ in cfgs]
        try:  # moto has no ListFunctionUrlConfigs
            out["aws_lambda_function_url"].append(lam.get_function_url_config(FunctionName=name)["FunctionUrl"])
        except lam.exceptions.ResourceNotFoundException:
            pass
    return out


def events_items(c):
    ev = c("events")
    rules, targets = [], []
    for bus in ev.list_event_buses()["EventBuses"]:
        for rule in ev.list_rules(EventBusName=bus["Name"])["Rules"]:
            rules.append(f"{bus['Name']}/{rule['Name']}")
            for t in ev.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus["Name"])["Targets"]:
                targets.append(f"{bus['Name']}/{rule['Name']}/{t['Id']}")
    buses = [b["Name"] for b in ev.list_event_buses()["EventBuses"] if b["Name"] != "default"]
    return {"aws_cloudwatch_event_rule": rules, "aws_cloudwatch_event_target": targets,
            "aws_cloudwatch_event_bus": buses}


def iam_items(c):
    iam = c("iam")
    out = {"aws_iam_role": [], "aws_iam_role_policy": [], "aws_iam_role_policy_attachment": []}
    for role in pages(iam, "list_roles", "Roles"):
        name = role["RoleName"]
        out["aws_iam_role"].append(name)
        out["aws_iam_role_policy"] += [f"{name}:{p}" for p in iam.list_role_policies(RoleName=name)["PolicyNames"]]
        out["aws_iam_role_policy_attachment"] += [
            f"{name}:{p['PolicyArn']}" for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]]
    out["aws_iam_policy"] = [p["Arn"] for p in pages(iam, "list_policies", "Policies", Scope="Local")]
    return out


def kms_items(c):
    kms = c("kms")
    all_aliases = list(pages(kms, "list_aliases", "Aliases"))
    # AWS-managed keys (alias/aws/<service>): moto creates alias/aws/dynamodb as a
    # CUSTOMER key when a table is encrypted, where AWS would make an AWS-managed one.
    managed = {a.get("TargetKeyId") for a in all_aliases
               if a["AliasName"].startswith("alias/aws/")}
    keys = []
    for k in pages(kms, "list_keys", "Keys"):
        meta = kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]
        if (meta.get("KeyManager") == "CUSTOMER" and meta.get("KeyState") != "PendingDeletion"
                and k["KeyId"] not in managed):
            keys.append(k["KeyId"])
    aliases = [a["AliasName"] for a in all_aliases
               if not a["AliasName"].startswith("alias/aws/")]
    return {"aws_kms_key": keys, "aws_kms_alias": aliases}


def other_items(c):
    sns = c("sns")
    sm = c("secretsmanager")
    cw = c("cloudwatch")
    out = {
        "aws_sqs_queue": c("sqs").list_queues().get("QueueUrls", []),
        "aws_sns_topic": [t["TopicArn"] for t in pages(sns, "list_topics", "Topics")],
        "aws_sns_topic_subscription": [s["SubscriptionArn"] for s in pages(sns, "list_subscriptions", "Subscriptions")],
        # A deleted secret waits out its recovery window; only live ones count.
        "aws_secretsmanager_secret": [s["Name"] for s in sm.list_secrets()["SecretList"] if not s.get("DeletedDate")],
        "aws_cloudwatch_log_group": [g["logGroupName"] for g in pages(c("logs"), "describe_log_groups", "logGroups")],
        "aws_cloudwatch_metric_alarm": [a["AlarmName"] for a in pages(cw, "describe_alarms", "MetricAlarms")],
        "aws_cloudwatch_dashboard": [d["DashboardName"] for d in cw.list_dashboards()["DashboardEntries"]],
        "aws_scheduler_schedule": [s["Name"] for s in c("scheduler").list_schedules()["Schedules"]],
        "aws_dynamodb_table": c("dynamodb").list_tables()["TableNames"],
        "aws_s3_bucket": [b["Name"] for b in c("s3").list_buckets()["Buckets"]],
    }
    org = c("organizations")
    try:
        out["aws_organizations_policy"] = [
            p["Id"] for p in org.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"] if not p["AwsManaged"]]
    except org.exceptions.AWSOrganizationsNotInUseException:
        out["aws_organizations_policy"] = []
    return out


def s3_items(c):
    """The evidence bucket's configuration resources: one id per bucket that has each."""
    s3 = c("s3")
    found = {
        "aws_s3_bucket_policy": lambda b: s3.get_bucket_policy(Bucket=b)["Policy"],
        "aws_s3_bucket_versioning": lambda b: s3.get_bucket_versioning(Bucket=b).get("Status") == "Enabled",
        "aws_s3_bucket_object_lock_configuration": lambda b: s3.get_object_lock_configuration(
            Bucket=b)["ObjectLockConfiguration"].get("Rule"),
        # Only KMS: S3 reports SSE-S3 for buckets nobody configured.
        "aws_s3_bucket_server_side_encryption_configuration": lambda b: any(
            r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
            for r in s3.get_bucket_encryption(Bucket=b)["ServerSideEncryptionConfiguration"]["Rules"]),
        "aws_s3_bucket_public_access_block": lambda b: s3.get_public_access_block(Bucket=b)[
            "PublicAccessBlockConfiguration"],
        "aws_s3_bucket_ownership_controls": lambda b: s3.get_bucket_ownership_controls(Bucket=b)[
            "OwnershipControls"]["Rules"],
        "aws_s3_bucket_lifecycle_configuration": lambda b: s3.get_bucket_lifecycle_configuration(
            Bucket=b)["Rules"],
    }
    out = {kind: [] for kind in found}
    for bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        for kind, get in found.items():
            try:
                if get(bucket):
                    out[kind].append(bucket)
            except ClientError:  # not configured
                pass
    return out


def inventory(c):
    out = {}
    for part in (lambda_items, events_items, iam_items, kms_items, other_items, s3_items):
        out.update(part(c))
    return out


creds = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
accounts = [("default", clients(**creds))]
for role_arn in sys.argv[2:]:
    got = clients(**creds)("sts").assume_role(RoleArn=role_arn, RoleSessionName="inventory")["Credentials"]
    accounts.append((role_arn.split(":")[4], clients(
        aws_access_key_id=got["AccessKeyId"], aws_secret_access_key=got["SecretAccessKey"],
        aws_session_token=got["SessionToken"])))

merged = {}
for account, c in accounts:
    for kind, ids in inventory(c).items():
        merged.setdefault(kind, []).extend(f"{account}/{i}" for i in ids)
print(json.dumps({k: sorted(v) for k, v in merged.items()}))
