//! The HTML alert in a real browser: headless Chromium (Debian's `chromium`), JavaScript
//! on, loads the alert of every `events/` sample and of a finding whose every
//! attacker-controlled string is a script lure that would mark the DOM
//! (`data-pwned-*` on `<body>`). The dumped DOM must be unmarked, hold no element a lure
//! could have created and link nowhere but our own validated URLs. A positive control puts
//! one lure back unescaped into the same page and sees the mark, so the check can fail.
//!
//! `.ci/run` installs Chromium and sets `RESPONDER_REQUIRE_BROWSER_TEST=1`: there a
//! missing browser fails the test. Elsewhere it is skipped with a message.
//! `cargo test -p integration-tests --test alerts_browser -- --ignored` writes
//! `docs/alerts.md` and its screenshots (`alerts_browser/doc.rs`).

#[path = "alerts_browser/doc.rs"]
mod doc;

use responder::Config;
use responder::pipeline::{Handled, plan_input};
use responder::plan::ResponsePlan;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The browser, or `None` (skip) when it is missing and not required.
pub fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("RESPONDER_CHROMIUM")
        .map(PathBuf::from)
        .into_iter()
        .chain(["/usr/bin/chromium", "/usr/bin/chromium-browser"].map(PathBuf::from))
        .find(|p| p.is_file());
    let required = std::env::var("RESPONDER_REQUIRE_BROWSER_TEST").is_ok_and(|v| v == "1");
    match found {
        Some(p) => Some(p),
        None if required => panic!(
            "RESPONDER_REQUIRE_BROWSER_TEST=1 but no chromium at /usr/bin/chromium \
             (apt-get install -y chromium, or set RESPONDER_CHROMIUM)"
        ),
        None => {
            eprintln!(
                "SKIPPED: no chromium (apt-get install -y chromium); the browser test runs in .ci/run"
            );
            None
        }
    }
}

/// A fresh directory under the system's temporary directory, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn fresh() -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("responder-alerts-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs Chromium headless on `page` with `extra` arguments, offline, in a fresh profile;
/// returns its stdout. Killed after 60 s.
pub fn run_chromium(browser: &Path, page: &Path, extra: &[String]) -> String {
    let scratch = Scratch::fresh();
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!(
            "--user-data-dir={}",
            scratch.0.join("profile").display()
        ))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("waits").is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("chromium did not finish {} in 60 s", page.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("chromium output");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The DOM after the page loaded and its scripts (if any) ran.
fn dump_dom(browser: &Path, html: &str) -> String {
    let scratch = Scratch::fresh();
    let page = scratch.0.join("alert.html");
    std::fs::write(&page, html).expect("page written");
    let dom = run_chromium(browser, &page, &["--dump-dom".to_owned()]);
    assert!(dom.contains("</html>"), "chromium dumped no DOM: {dom:?}");
    dom
}

pub fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events")
}

pub fn plans(bytes: &[u8]) -> Vec<ResponsePlan> {
    plan_input(bytes, &Config::default())
        .expect("plans")
        .into_iter()
        .filter_map(|h| match h {
            Handled::Plan(p) => Some(*p),
            Handled::NotAFinding { .. } => None,
        })
        .collect()
}

/// Each lure marks `<body>` with its own attribute when it runs.
const LURES: [&str; 9] = [
    "<script>document.body.setAttribute('data-pwned-script','1')</script>",
    "\"><img src=x onerror=\"document.body.setAttribute('data-pwned-img','1')\">",
    "'><svg onload=document.body.setAttribute('data-pwned-svg','1')>",
    "</title><script>document.body.setAttribute('data-pwned-title','1')</script>",
    "</style><script>document.body.setAttribute('data-pwned-style','1')</script>",
    "</pre></td></tr></table><script>document.body.setAttribute('data-pwned-table','1')</script>",
    "javascript:document.body.setAttribute('data-pwned-url','1')",
    "<iframe srcdoc=\"<script>parent.document.body.setAttribute('data-pwned-iframe','1')</script>\"></iframe>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:document.body.setAttribute('data-pwned-meta','1')\">",
];

/// The fields routing needs stay as they are; every other string becomes a lure.
const ROUTING: [&str; 7] = [
    "id",
    "type",
    "accountId",
    "region",
    "partition",
    "resourceType",
    "schemaVersion",
];

fn lure_every_string(v: &mut Value, n: &mut usize) {
    match v {
        Value::String(s) => {
            *s = format!("{}{}", LURES[*n % LURES.len()], s);
            *n += 1;
        }
        Value::Array(a) => a.iter_mut().for_each(|x| lure_every_string(x, n)),
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                if !ROUTING.contains(&k.as_str()) {
                    lure_every_string(x, n);
                }
            }
        }
        _ => {}
    }
}

/// The hostile finding: every attacker-reachable string of a sample (the attack sequence
/// sample carries the most) starts with a lure, and the title and command line hold all.
fn hostile_findings() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for file in [
        "hostile-html-injection.json",
        "eks-execution-reverse-shell.json",
        "ecs-fargate-impact-cryptominer.json",
        "attack-sequence-eks-compromised-cluster.json",
    ] {
        let bytes = std::fs::read(events_dir().join(file)).expect("sample");
        let mut event: Value = serde_json::from_slice(&bytes).expect("JSON");
        let mut n = 0;
        lure_every_string(&mut event["detail"], &mut n);
        let all = LURES.concat();
        event["detail"]["title"] = json!(all);
        event["detail"]["service"]["runtimeDetails"]["context"]["commandLineExample"] = json!(all);
        out.push(event.to_string().into_bytes());
    }
    out
}

/// The elements an alert is made of; a lure that became markup would add another.
const OUR_ELEMENTS: [&str; 22] = [
    "html", "head", "meta", "title", "style", "body", "table", "tbody", "tr", "td", "th", "div",
    "p", "h2", "code", "pre", "a", "span", "b", "br", "ol", "li",
];

/// The start tags of a serialized DOM, as (element, attributes): every raw `<` there opens
/// a tag, since text is serialized with `&lt;` (our `<style>` holds no `<`), and every
/// attribute is serialized `name="value"` with `"` in values as `&quot;`.
fn start_tags(dom: &str) -> Vec<(&str, Vec<(&str, &str)>)> {
    let mut tags = Vec::new();
    for piece in dom.split('<').skip(1) {
        let Some(name) = piece.split([' ', '>', '/']).next() else {
            continue;
        };
        if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        let mut attributes = Vec::new();
        let mut rest = piece[name.len()..].trim_start();
        while let Some((attribute, after)) = rest.split_once("=\"") {
            if attribute.contains('>') {
                break;
            }
            let end = after.find('"').expect("a closing quote");
            attributes.push((attribute, &after[..end]));
            rest = after[end + 1..].trim_start();
        }
        tags.push((name, attributes));
    }
    tags
}

/// What an unmarked, inert alert DOM looks like.
fn assert_inert(dom: &str, what: &str) {
    let mut metas = 0;
    for (name, attributes) in start_tags(dom) {
        assert!(OUR_ELEMENTS.contains(&name), "{what}: a <{name}> element");
        for (attribute, value) in attributes {
            let a = attribute.to_ascii_lowercase();
            assert!(!a.starts_with("data-pwned"), "{what}: a lure ran ({a})");
            // No event handler, nothing loaded, no link but ours.
            assert!(
                !a.starts_with("on") && a != "src" && a != "srcdoc",
                "{what}: <{name} {a}>"
            );
            if a == "href" {
                let ours = [
                    "https://console.aws.amazon.com/",
                    "https://attack.mitre.org/",
                ];
                assert!(
                    ours.iter().any(|h| value.starts_with(h)),
                    "{what}: a link to {value}"
                );
            }
        }
        metas += usize::from(name == "meta");
    }
    // Ours: charset, viewport and the two colour-scheme declarations.
    assert_eq!(metas, 4, "{what}: a meta element was injected");
}

/// Runs `check` on each page, two browsers at a time (the CI machine has two cores).
fn in_parallel(pages: Vec<(String, String)>, check: impl Fn(&str, &str) + Sync) {
    let browser = match chromium() {
        Some(b) => b,
        None => return,
    };
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while let Some((what, html)) = pages.get(next.fetch_add(1, Ordering::Relaxed)) {
                    check(what, &dump_dom(&browser, html));
                }
            });
        }
    });
}

#[test]
fn every_sample_alert_loads_inert_with_javascript_on() {
    let mut pages = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(events_dir())
        .expect("events/")
        .map(|e| e.expect("entry").file_name().into_string().expect("UTF-8"))
        .filter(|f| f.ends_with(".json"))
        .collect();
    files.sort();
    for file in files {
        let bytes = std::fs::read(events_dir().join(&file)).expect("sample");
        for (i, p) in plans(&bytes).into_iter().enumerate() {
            pages.push((format!("{file}[{i}]"), p.notification().html));
        }
    }
    assert!(pages.len() > 40, "{} alerts", pages.len());
    in_parallel(pages, |what, dom| {
        assert_inert(dom, what);
        // The alert is all there: band, sections, undo, links.
        for part in [
            "SEVERITY",
            "What happened",
            "What to do next",
            "How to undo it",
        ] {
            assert!(dom.contains(part), "{what}: {part} missing");
        }
    });
}

#[test]
fn a_finding_made_of_script_lures_marks_nothing() {
    let mut pages = Vec::new();
    for bytes in hostile_findings() {
        for p in plans(&bytes) {
            let html = p.notification().html;
            assert!(
                html.contains("&lt;script&gt;"),
                "the lures are shown as text"
            );
            pages.push((p.finding_type.clone(), html));
        }
    }
    assert_eq!(pages.len(), 4);
    in_parallel(pages, |what, dom| {
        assert_inert(dom, what);
        // The lures are on the page, as text.
        assert!(
            dom.contains("&lt;script&gt;document.body.setAttribute"),
            "{what}"
        );
    });
}

/// The check above can fail: the same page with one lure put back unescaped is marked.
#[test]
fn positive_control_an_unescaped_lure_marks_the_dom() {
    let bytes = &hostile_findings()[0];
    let html = plans(bytes).remove(0).notification().html;
    let mut pages = Vec::new();
    for (lure, marker) in [
        (LURES[0], "data-pwned-script"),
        (LURES[1], "data-pwned-img"),
        (LURES[2], "data-pwned-svg"),
    ] {
        let mut escaped = String::new();
        responder::sanitize::push_html_escaped(&mut escaped, lure);
        assert!(
            html.contains(&escaped),
            "{marker}: the lure is on the page, escaped"
        );
        pages.push((marker.to_owned(), html.replacen(&escaped, lure, 1)));
    }
    in_parallel(pages, |marker, dom| {
        assert!(
            dom.contains(&format!("{marker}=\"1\"")),
            "{marker} did not run: the check could not fail"
        );
        let inert = std::panic::catch_unwind(|| assert_inert(dom, marker));
        assert!(
            inert.is_err(),
            "{marker}: assert_inert passed a marked page"
        );
    });
}
