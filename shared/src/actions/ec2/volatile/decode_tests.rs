use super::*;
use crate::actions::ec2::volatile::script::GZIP_BYTES;
use std::io::Write as _;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Text that does not compress (a xorshift sequence): its stream is as long as it is.
fn noise(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b'!' + (x % 90) as u8
        })
        .collect()
}

#[test]
fn a_whole_stream_decodes_to_the_artefact() {
    let text = b"===== ps =====\n    1     0 root /sbin/init\n".repeat(50);
    let got = decode(&as_written(&gzip(&text)));
    assert_eq!(got, Decoded::Complete(text.clone()));
    assert_eq!(got.state(), "complete");
    assert_eq!(got.note(), None);
    // A trailing newline after the base64 changes nothing.
    assert_eq!(decode(&(as_written(&gzip(&text)) + "\n")), got);
}

/// The instance cuts the stream at `GZIP_BYTES` (`head -c`): what it holds decodes, and
/// is marked cut, never passed off as whole.
#[test]
fn a_cut_stream_keeps_its_decoded_start_and_says_cut() {
    let text = noise(60_000);
    let stream = gzip(&text);
    assert!(stream.len() > GZIP_BYTES);
    let received = as_written(&stream[..GZIP_BYTES]);
    assert!(received.len() < 24_000, "{}", received.len());
    let got = decode(&received);
    let Decoded::Cut {
        bytes,
        why: Cut::StreamEnds,
    } = &got
    else {
        panic!("{:?}", got.state());
    };
    assert!(bytes.len() > 10_000, "{}", bytes.len());
    assert!(text.starts_with(bytes), "a prefix of the artefact");
    assert_eq!(got.state(), "cut");
    assert!(got.note().unwrap().starts_with("cut: "));
    // Cut by SSM instead, mid base64 group: the whole groups decode, marked cut.
    let mut text_cut = as_written(&gzip(&text[..5_000]));
    text_cut.truncate(text_cut.len() - 3);
    assert!(matches!(decode(&text_cut), Decoded::Cut { .. }));
}

/// A gzip bomb (deflate packs up to ~1,000 times: 16 MiB in the 17,400 bytes the script
/// keeps) costs at most `MAX_DECODED`.
#[test]
fn a_gzip_bomb_is_cut_at_the_decoded_limit() {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0_u8; 1 << 20];
    for _ in 0..16 {
        enc.write_all(&zeros).unwrap();
    }
    let bomb = enc.finish().unwrap();
    assert!(bomb.len() < GZIP_BYTES, "{}", bomb.len());
    let got = decode(&as_written(&bomb));
    let Decoded::Cut {
        bytes,
        why: Cut::TooLarge(MAX_DECODED),
    } = &got
    else {
        panic!("{:?}", got.state());
    };
    assert_eq!(bytes.len(), MAX_DECODED);
    assert!(got.note().unwrap().contains("more than 1048576 bytes"));
    // Within what is left of the capture's budget, less.
    let less = decode_within(&as_written(&bomb), 1_000);
    assert_eq!(less.bytes().map(<[u8]>::len), Some(1_000));
    assert_eq!(less.state(), "cut");
    assert_eq!(decode_within(&as_written(&bomb), 0).bytes(), Some(&[][..]));
}

#[test]
fn the_fallback_without_gzip_is_kept_as_it_came_and_says_so() {
    let got = decode(&format!("{HEADER} {PLAIN}\nPID CMD\n1 init\n"));
    assert_eq!(
        got,
        Decoded::Plain {
            bytes: b"PID CMD\n1 init\n".to_vec(),
            cut: false
        }
    );
    assert!(got.note().unwrap().contains("gzip or base64 missing"));
    let long = format!("{HEADER} {PLAIN}\n{}", "x".repeat(PLAIN_BYTES));
    assert_eq!(decode(&long).state(), "plain, cut");
}

/// Whatever the instance writes instead, the case is named in the responder's words and
/// nothing of the text is in it.
#[test]
fn hostile_output_is_undecodable_and_never_quoted() {
    let stream = gzip(b"x");
    let b64 = base64::engine::general_purpose::STANDARD.encode(&stream);
    let cases = [
        "volatile/pid-1.txt\n===== pid 1 =====\n".to_owned(),
        format!("{HEADER} gzip-base64-evil\n{b64}"),
        format!("{HEADER}gzip-base64\n{b64}"),
        format!("{HEADER} {GZIP_BASE64}\n<script>@channel</script>"),
        format!("{HEADER} {GZIP_BASE64}\n"),
        format!("{HEADER} {GZIP_BASE64}\n{}", "QUJD".repeat(10)),
        format!("{HEADER} {GZIP_BASE64}\n{}", "A".repeat(MAX_RECEIVED)),
        "\u{1b}[2J\u{202e}\0\r\n".to_owned(),
        "no newline at all".to_owned(),
    ];
    for c in &cases {
        let got = decode(c);
        let Decoded::Undecodable(why) = got else {
            panic!("{c:?}: {:?}", got.state());
        };
        assert!(got.bytes().is_none());
        for part in ["evil", "script", "channel", "pid-1", "\u{1b}", "QUJD"] {
            assert!(!why.contains(part) && !got.note().unwrap().contains(part));
        }
    }
    // A corrupt stream (its checksum broken) is not passed off as the artefact.
    let mut bad = gzip(&noise(2_000));
    let n = bad.len();
    bad[n - 6] ^= 0xff;
    assert_eq!(decode(&as_written(&bad)).state(), "undecodable");
    assert_eq!(decode(""), Decoded::Empty);
}
