#!/usr/bin/env python3
"""The comparison for the cold-start benchmark: a minimal Python boto3 Lambda handler doing
the same describe + modify calls as the EC2 responder's critical path (describe the
instance, swap every ENI to a given isolation group), run as a custom runtime against the
same local Runtime API. No parsing, sanitizing, snapshots or notifications: a lower bound.

Env: AWS_LAMBDA_RUNTIME_API, AWS_ENDPOINT_URL (moto), ISOLATION_GROUP_ID.
"""
import json
import os
import urllib.request

import boto3  # imported at cold start, as a Python Lambda would

API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
ec2 = boto3.client("ec2", region_name=os.environ.get("AWS_REGION", "us-east-1"))


def handler(event):
    instance_id = event["detail"]["resource"]["instanceDetails"]["instanceId"]
    reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    instance = reservations[0]["Instances"][0]
    for eni in instance["NetworkInterfaces"]:
        ec2.modify_network_interface_attribute(
            NetworkInterfaceId=eni["NetworkInterfaceId"], Groups=[os.environ["ISOLATION_GROUP_ID"]]
        )
    return {"isolated": [e["NetworkInterfaceId"] for e in instance["NetworkInterfaces"]]}


while True:
    with urllib.request.urlopen(API + "/invocation/next") as r:
        request_id = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(r.read())
    body = json.dumps(handler(event)).encode()
    urllib.request.urlopen(urllib.request.Request(API + f"/invocation/{request_id}/response", data=body, method="POST")).read()
