//! Opens the HTML report in headless Chromium and checks that its inline
//! script ran, drew nothing from outside and raised no error.
//!
//! Needs `chromium` on PATH (`.ci/test` installs it). Without it the test
//! fails, unless `NGSIM_SKIP_BROWSER_TESTS=1` is set.

mod common;

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reports::{Format, Redactor};

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser"].into_iter().find(|bin| {
        Command::new(bin)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Value of `name="…"` on the `<body …>` start tag of a dumped DOM.
fn body_attr<'a>(dom: &'a str, name: &str) -> Option<&'a str> {
    let start = dom.find("<body")?;
    let tag = &dom[start..start + dom[start..].find('>')?];
    let needle = format!(" {name}=\"");
    let from = tag.find(&needle)? + needle.len();
    Some(&tag[from..from + tag[from..].find('"')?])
}

#[test]
fn inline_script_runs_in_headless_chromium() {
    let Some(bin) = chromium() else {
        if std::env::var("NGSIM_SKIP_BROWSER_TESTS").as_deref() == Ok("1") {
            eprintln!("chromium not found; skipped because NGSIM_SKIP_BROWSER_TESTS=1");
            return;
        }
        panic!(
            "chromium is not installed, so the HTML report's script can't be tested. \
             Install it (`apt-get install chromium`, as .ci/test does) or set \
             NGSIM_SKIP_BROWSER_TESTS=1 to skip this test."
        );
    };

    let dir = tempfile::tempdir().expect("temp dir");
    let page = dir.path().join("report.html");
    let mut html = Vec::new();
    Format::Html
        .write(&common::fixture(), &Redactor::new(), &mut html)
        .expect("renders");
    std::fs::write(&page, &html).expect("writes the page");
    let profile = dir.path().join("chromium-profile");

    let dom = dump_dom(bin, &page, &profile, "");
    let attr = |name| body_attr(&dom, name);
    assert_eq!(
        attr("data-ready"),
        Some("1"),
        "the inline script ran to its end"
    );
    assert_eq!(attr("data-js-error"), None, "no script error");
    assert_eq!(attr("data-external-requests"), Some("0"), "nothing fetched");
    assert_eq!(attr("data-checks"), Some("8"), "script saw every check row");
    // Each scenario's timeline, plus each check's own.
    let report = common::fixture();
    let events: usize = report
        .scenarios
        .iter()
        .map(|s| {
            s.timeline.len()
                + s.checks
                    .iter()
                    .map(|c| s.events_for(&c.id).count())
                    .sum::<usize>()
        })
        .sum();
    assert_eq!(
        attr("data-timeline-events"),
        Some(events.to_string().as_str()),
        "every timeline event was rendered"
    );
    assert_eq!(attr("data-filter"), Some("all"));
    assert!(!dom.contains("class=\"check o-failed hidden\""));

    // The outcome filter, driven through the URL fragment.
    let dom = dump_dom(bin, &page, &profile, "#filter=failed");
    assert_eq!(body_attr(&dom, "data-filter"), Some("failed"));
    assert_eq!(dom.matches("class=\"check o-passed hidden\"").count(), 3);
    assert_eq!(dom.matches("class=\"check o-failed\"").count(), 2);
}

/// Runs Chromium on `page` and returns the DOM after its scripts ran. Output
/// goes to files and the process is polled, so a hung browser fails the test
/// after a minute instead of hanging CI.
fn dump_dom(bin: &str, page: &Path, profile: &Path, fragment: &str) -> String {
    let dir = profile.parent().expect("profile is in the temp dir");
    let stdout_path = dir.join("dom.html");
    let stderr_path = dir.join("chromium.log");
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--virtual-time-budget=2000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}{fragment}", page.display()))
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).expect("stdout file"))
        .stderr(File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("polls chromium") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let dom = std::fs::read_to_string(&stdout_path).expect("reads the dumped DOM");
    assert!(
        status.success() && dom.contains("<body"),
        "chromium failed ({status}):\n{}",
        std::fs::read_to_string(&stderr_path).unwrap_or_default()
    );
    dom
}
