//! Arbitrary bytes through parse → classify → decide → plan → render: must never panic,
//! and every rendered channel must stay free of control and bidi characters. `plan_input` is
//! the entry point that recognises every input shape (wrappers, gzip JSON Lines, Security Hub
//! ASFF), so each parser is reached; `run.sh` seeds the corpus with a sample of each.
#![no_main]

use libfuzzer_sys::fuzz_target;
use responder::Config;
use responder::pipeline::{Handled, plan_input};
use responder::sanitize::is_dangerous;

fuzz_target!(|data: &[u8]| {
    let config = Config::default();
    if let Ok(handled) = plan_input(data, &config) {
        for h in handled {
            if let Handled::Plan(p) = h {
                let n = &p.notification;
                assert!(n.subject.len() <= 100 && n.subject.bytes().all(|b| (0x20..0x7f).contains(&b)));
                for text in [&n.text, &n.html] {
                    assert!(!text.chars().any(|c| c != '\n' && is_dangerous(c)));
                }
                // Block Kit's limit, attachments included: past it Slack refuses the alert.
                assert!(n.slack.all_blocks().count() <= 50);
                for text in n.slack.texts() {
                    assert!(!text.contains("<!channel>") && !text.contains("<!here>"));
                    assert!(!text.chars().any(|c| c != '\n' && is_dangerous(c)));
                }
            }
        }
    }
});
