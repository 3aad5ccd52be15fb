//! The scripts run here with `sh`, as the instance runs them, and their output decodes:
//! gzip and base64 as the instance has them, the size limit, the fallback without them.

use super::*;
use crate::actions::ec2::volatile::decode::{Cut, Decoded, decode};

fn run(script: &str) -> String {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .output()
        .expect("sh runs");
    String::from_utf8(out.stdout).expect("ASCII output")
}

#[test]
fn the_scripts_output_decodes_whole() {
    let got = decode(&run(&script(&Artefact::System)));
    let Decoded::Complete(text) = got else {
        panic!("{:?}", got.state());
    };
    let text = String::from_utf8_lossy(&text);
    assert!(
        text.contains("===== uname =====") && text.contains("===== date ====="),
        "{text}"
    );
    // A PID that cannot exist: the script says so.
    let got = decode(&run(&script(&Artefact::Pid(PID_MAX_LIMIT as u32))));
    let Decoded::Complete(text) = got else {
        panic!("{:?}", got.state());
    };
    assert!(String::from_utf8_lossy(&text).contains("no such process"));
}

/// An artefact that does not compress: the output stays under the 24,000 characters SSM
/// returns, and decodes to its start, marked cut.
#[test]
fn a_long_artefact_is_cut_under_what_ssm_returns() {
    let s =
        script(&Artefact::System).replace(SYSTEM, "  head -c 300000 /dev/urandom | od -An -tx1\n");
    let out = run(&s);
    assert!(out.len() < 24_000, "{}", out.len());
    assert!(out.len() > 20_000, "{}", out.len());
    let got = decode(&out);
    assert!(
        matches!(&got, Decoded::Cut { bytes, why: Cut::StreamEnds } if bytes.len() > GZIP_BYTES),
        "{:?}",
        got.state()
    );
}

/// Without gzip (or base64) on the instance, the first line says so and the output
/// follows as is, cut at `PLAIN_BYTES`.
#[test]
fn without_gzip_the_output_is_plain_and_says_so() {
    let s = script(&Artefact::System).replace("command -v gzip ", "command -v no-gzip-here ");
    assert_ne!(s, script(&Artefact::System));
    let got = decode(&run(&s));
    let Decoded::Plain { bytes, cut: false } = &got else {
        panic!("{:?}", got.state());
    };
    assert!(String::from_utf8_lossy(bytes).contains("===== uname ====="));
    let long = s.replace(SYSTEM, "  head -c 300000 /dev/zero | tr '\\0' x\n");
    let got = decode(&run(&long));
    assert_eq!(got.state(), "plain, cut");
    assert_eq!(got.bytes().map(<[u8]>::len), Some(PLAIN_BYTES));
}
