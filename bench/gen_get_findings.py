#!/usr/bin/env python3
"""Writes an `aws guardduty get-findings` export of N findings to stdout: {"Findings": [...]}
with the SDK's PascalCase member names, as the AWS CLI prints them. Findings are the
GuardDuty finding samples in events/ (EC2, ECS, EKS, attack sequences, hostile strings,
non-Runtime), each copy with its own id, account and updatedAt; updatedAt is shuffled
(exports are not in event-time order).

    python3 bench/gen_get_findings.py N [--compact] > export.json

Written one finding at a time, so N = 1,000,000 needs no memory.
"""
import datetime
import glob
import json
import os
import random
import sys

EVENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "events")
# SDK member names whose JSON name is not just the first letter lowered (see
# shared/src/finding/pascal.rs).
RENAMES = {"sourceIPs": "SourceIps"}
ACCOUNTS = ["123456789012", "210987654321", "111122223333"]
START_MS = 1_764_000_000_000  # 2025-11-24
SPAN_MS = 30 * 24 * 3600 * 1000


def pascal(value):
    if isinstance(value, dict):
        return {RENAMES.get(k, k[:1].upper() + k[1:]): pascal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [pascal(v) for v in value]
    return value


def samples():
    """The camelCase finding of every sample EventBridge finding event."""
    found = []
    for path in sorted(glob.glob(os.path.join(EVENTS, "*.json"))):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        if doc.get("detail-type") == "GuardDuty Finding" and isinstance(doc.get("detail"), dict):
            found.append(doc["detail"])
    return found


def main():
    n = int(sys.argv[1])
    indent = None if "--compact" in sys.argv else 2
    rng = random.Random(18)
    templates = [pascal(s) for s in samples()]
    out = sys.stdout
    out.write('{"Findings": [')
    for i in range(n):
        finding = dict(templates[i % len(templates)])
        finding["Id"] = f"{i:08x}{finding['Id'][8:]}" if len(finding.get("Id", "")) > 8 else f"{i:08x}"
        finding["AccountId"] = ACCOUNTS[i % len(ACCOUNTS)]
        stamp = START_MS + rng.randrange(SPAN_MS)
        when = datetime.datetime.fromtimestamp(stamp / 1000, datetime.timezone.utc)
        finding["UpdatedAt"] = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp % 1000:03d}Z"
        out.write(",\n" if i else "\n")
        out.write(json.dumps(finding, indent=indent))
    out.write("\n]}\n")


if __name__ == "__main__":
    main()
