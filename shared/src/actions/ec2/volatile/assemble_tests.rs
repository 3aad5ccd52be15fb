use super::*;
use crate::actions::ec2::volatile::script::{self, GZIP_BASE64, HEADER};
use std::io::Write as _;

const OUTPUT: &str = "s3://b/evidence/123456789012/abc/i-0123456789abcdef0/volatile/ssm/";

fn ctx(pids: &[u32]) -> Context<'_> {
    Context {
        instance_id: "i-0123456789abcdef0",
        output: OUTPUT,
        pids,
        timeout_seconds: 30,
    }
}

fn encoded(text: &[u8]) -> String {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text).unwrap();
    decode::as_written(&enc.finish().unwrap())
}

fn run(a: Artefact, status: S, stdout: &str) -> Run {
    Run {
        artefact: a,
        script: script::script(&a),
        command_id: Some(format!("cmd-{}", a.name())),
        ended: Ok(Ended {
            status,
            details: String::new(),
            code: Some(0),
            stdout: stdout.to_owned(),
            stderr: String::new(),
        }),
    }
}

fn object<'a>(c: &'a Captured, name: &str) -> Option<&'a Collected> {
    c.collection.objects.iter().find(|o| o.name == name)
}

fn record(c: &Captured) -> Value {
    serde_json::from_slice(&object(c, RECORD_NAME).expect("the record").bytes).unwrap()
}

#[test]
fn each_artefact_is_its_own_object_with_the_hash_of_what_was_received() {
    let runs: Vec<Run> = script::artefacts(&[42])
        .into_iter()
        .map(|a| {
            run(
                a,
                S::Success,
                &encoded(format!("out of {}\n", a.name()).as_bytes()),
            )
        })
        .collect();
    let c = assemble(&runs, &ctx(&[42]));
    let step = c.step.as_ref().unwrap();
    assert_eq!(step.status, crate::outcome::Status::Done, "{}", step.detail);
    assert!(
        step.detail.starts_with("5 of 5 artefacts"),
        "{}",
        step.detail
    );
    assert!(step.detail.contains("cmd-pid-42"), "{}", step.detail);
    assert!(c.collection.gaps.is_empty(), "{:?}", c.collection.gaps);
    for name in ["system", "processes", "network", "modules", "pid-42"] {
        let o = object(&c, &format!("volatile/{name}.txt")).expect(name);
        assert_eq!(o.bytes, format!("out of {name}\n").as_bytes());
        assert!(
            o.source_api.contains(&format!("command cmd-{name} ")),
            "{}",
            o.source_api
        );
        assert!(object(&c, &format!("volatile/scripts/{name}.sh")).is_some());
        // The text as received, beside it: what the record's hash is of.
        let received = object(&c, &format!("volatile/received/{name}.txt")).unwrap();
        assert!(received.bytes.starts_with(HEADER.as_bytes()));
    }
    let rec = record(&c);
    let lines = rec["commands"].as_array().unwrap();
    assert_eq!(lines.len(), 5);
    for (line, r) in lines.iter().zip(&runs) {
        let stdout = &r.ended.as_ref().unwrap().stdout;
        assert_eq!(line["received_sha256"], sha256_hex(stdout.as_bytes()));
        let received = object(&c, line["received"].as_str().unwrap()).unwrap();
        assert_eq!(received.bytes, stdout.as_bytes());
        assert_eq!(line["received_chars"], stdout.len());
        assert_eq!(line["decoded"], "complete");
        assert_eq!(line["command_id"], r.command_id.as_deref().unwrap());
    }
}

/// The instance writes anything: text posing as another artefact, a name with `../`,
/// control characters, an alert mention. It is kept as received under the artefact's own
/// name, listed as a gap in the responder's words, and none of it reaches the outcome.
#[test]
fn hostile_output_keeps_its_own_name_and_never_reaches_the_outcome() {
    let hostile = [
        "volatile/pid-1.txt\n../../../manifest.json\n<!channel> \u{1b}[31m\u{202e}".to_owned(),
        format!("{HEADER} {GZIP_BASE64}\n../../finding.json"),
        "\0\0\0".repeat(8_000),
    ];
    for text in &hostile {
        let runs = vec![
            run(Artefact::Processes, S::Success, text),
            run(Artefact::Pid(7), S::Success, &encoded(b"ok\n")),
        ];
        let c = assemble(&runs, &ctx(&[7]));
        let names: Vec<&str> = c
            .collection
            .objects
            .iter()
            .map(|o| o.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "volatile/scripts/processes.sh",
                "volatile/received/processes.txt",
                "volatile/scripts/pid-7.sh",
                "volatile/received/pid-7.txt",
                "volatile/pid-7.txt",
                RECORD_NAME,
            ]
        );
        assert_eq!(
            object(&c, "volatile/received/processes.txt").unwrap().bytes,
            text.as_bytes()
        );
        let step = c.step.as_ref().unwrap();
        assert_eq!(step.status, crate::outcome::Status::Done);
        assert!(
            step.detail.starts_with("1 of 2 artefacts"),
            "{}",
            step.detail
        );
        let said = format!(
            "{} {} {}",
            step.detail,
            c.collection.gaps.join(" "),
            step.evidence.as_ref().unwrap()
        );
        for bad in [
            "../",
            "manifest",
            "channel",
            "finding.json",
            "\u{1b}",
            "\0",
            "pid-1",
        ] {
            assert!(!said.contains(bad), "{bad:?} in {said}");
        }
        assert_eq!(c.collection.gaps.len(), 1);
        assert!(
            c.collection.gaps[0]
                .starts_with("volatile/processes: command cmd-processes: output not decodable")
        );
        assert_eq!(record(&c)["commands"][0]["decoded"], "undecodable");
    }
}

#[test]
fn a_failed_command_is_that_artefacts_gap_and_all_failing_fails_the_step() {
    let mut failed = run(Artefact::Network, S::Failed, "");
    if let Ok(e) = failed.ended.as_mut() {
        e.details = "Failed".into();
        e.stderr = "sh: ss: not found".into();
    }
    let stuck = Run {
        ended: Err("still InProgress after the time limit of 2s".into()),
        ..run(Artefact::Modules, S::Success, "")
    };
    let good = run(Artefact::System, S::Success, &encoded(b"Linux\n"));
    let c = assemble(&[good, failed, stuck], &ctx(&[]));
    let step = c.step.as_ref().unwrap();
    assert_eq!(step.status, crate::outcome::Status::Done, "{}", step.detail);
    assert!(
        step.detail
            .starts_with("1 of 3 artefacts read back through GetCommandInvocation (system);"),
        "{}",
        step.detail
    );
    assert!(
        step.detail
            .contains("network: command cmd-network Failed: Failed"),
        "{}",
        step.detail
    );
    assert!(
        step.detail.contains("modules: still InProgress"),
        "{}",
        step.detail
    );
    assert_eq!(c.collection.gaps.len(), 2, "{:?}", c.collection.gaps);
    assert_eq!(
        object(&c, "volatile/network.stderr.txt").unwrap().bytes,
        b"sh: ss: not found"
    );
    assert!(object(&c, "volatile/modules.txt").is_none());
    assert_eq!(record(&c)["commands"][2]["status"], "not known");

    let none = assemble(
        &[Run {
            ended: Err("no command sent: SendCommand: InvalidInstanceId".into()),
            command_id: None,
            ..run(Artefact::System, S::Success, "")
        }],
        &ctx(&[]),
    );
    let step = none.step.unwrap();
    assert_eq!(step.status, crate::outcome::Status::Failed);
    assert!(
        step.detail.contains("system: no command sent"),
        "{}",
        step.detail
    );
}

/// A bomb in every artefact (64 PIDs): the capture decodes at most `MAX_DECODED_TOTAL`.
#[test]
fn bombs_in_every_artefact_cost_at_most_the_captures_budget() {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&vec![0_u8; 2 << 20]).unwrap();
    let bomb = decode::as_written(&enc.finish().unwrap());
    let pids: Vec<u32> = (1..=64).collect();
    let runs: Vec<Run> = script::artefacts(&pids)
        .into_iter()
        .map(|a| run(a, S::Success, &bomb))
        .collect();
    let c = assemble(&runs, &ctx(&pids));
    let decoded: usize = script::artefacts(&pids)
        .iter()
        .filter_map(|a| object(&c, &object_name(a)))
        .map(|o| o.bytes.len())
        .sum();
    assert_eq!(decoded, decode::MAX_DECODED_TOTAL);
    let rec = record(&c);
    assert_eq!(rec["commands"][0]["decoded_bytes"], decode::MAX_DECODED);
    assert_eq!(rec["commands"][67]["decoded_bytes"], 0);
    assert_eq!(rec["commands"][67]["decoded"], "cut");
}
