//! Every writer on the fixture report: snapshots, well-formedness, schema,
//! redaction and escaping.

mod common;

use std::collections::BTreeMap;

use quick_xml::Reader;
use quick_xml::events::Event;
use reports::{
    CheckResult, Format, Outcome, Redactor, RunReport, RunStatus, Severity, Surface, Verdict,
};

fn render(format: Format, report: &RunReport, redactor: &Redactor) -> String {
    let mut out = Vec::new();
    format
        .write(report, redactor, &mut out)
        .expect("writing to a Vec succeeds");
    String::from_utf8(out).expect("writers emit UTF-8")
}

fn plain(format: Format) -> String {
    render(format, &common::fixture(), &Redactor::new())
}

#[test]
fn summary_classifies_the_fixture() {
    let s = common::fixture().summary;
    assert_eq!(
        (
            s.total, s.passed, s.failed, s.warnings, s.errored, s.skipped
        ),
        (8, 3, 2, 1, 1, 1)
    );
    assert_eq!(s.perf_regressions, 2);
    assert_eq!(s.status, RunStatus::Errored);
}

#[test]
fn status_precedence() {
    let check = |severity, outcome| CheckResult::new("s.c", "t", severity, "r", outcome);
    let status = |checks: Vec<CheckResult>| {
        let mut r = common::fixture();
        r.perf = None;
        r.scenarios.truncate(1);
        r.scenarios[0].checks = checks;
        r.finish().summary.status
    };
    assert_eq!(
        status(vec![check(Severity::Shall, Outcome::Passed)]),
        RunStatus::Passed
    );
    assert_eq!(
        status(vec![check(Severity::Should, Outcome::failed("x"))]),
        RunStatus::PassedWithWarnings
    );
    assert_eq!(
        status(vec![
            check(Severity::Should, Outcome::failed("x")),
            check(Severity::Shall, Outcome::failed("y")),
        ]),
        RunStatus::Failed
    );
    assert_eq!(
        status(vec![
            check(Severity::Shall, Outcome::failed("y")),
            check(Severity::May, Outcome::errored("z")),
        ]),
        RunStatus::Errored
    );
    assert!(RunStatus::PassedWithWarnings.is_success());
    assert!(!RunStatus::Failed.is_success());
}

#[test]
fn snapshot_junit() {
    insta::assert_snapshot!("junit", plain(Format::Junit));
}

#[test]
fn snapshot_json() {
    insta::assert_snapshot!("json", plain(Format::Json));
}

#[test]
fn snapshot_markdown() {
    insta::assert_snapshot!("markdown", plain(Format::Markdown));
}

#[test]
fn snapshot_html() {
    // The stylesheet and script are static files; keep the snapshot about
    // the rendered report.
    insta::with_settings!({filters => vec![
        (r"(?s)<style>\n.*?</style>", "<style>[report.css]</style>"),
        (r"(?s)<script>\n.*?</script>", "<script>[report.js]</script>"),
    ]}, {
        insta::assert_snapshot!("html", plain(Format::Html));
    });
}

/// Element counts and testcase properties of a JUnit document, read with a
/// real XML parser (which also rejects mismatched or unclosed tags).
#[derive(Debug, Default)]
struct JunitShape {
    elements: BTreeMap<String, usize>,
    root_attrs: BTreeMap<String, String>,
    suites: Vec<String>,
    /// testcase name -> (property name -> value)
    case_props: BTreeMap<String, BTreeMap<String, String>>,
    failure_messages: Vec<String>,
}

fn parse_junit(xml: &str) -> JunitShape {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut shape = JunitShape::default();
    let mut depth = 0usize;
    let mut current_case: Option<String> = None;
    loop {
        let event = reader
            .read_event()
            .expect("JUnit output is well-formed XML");
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            Event::End(e) => {
                depth -= 1;
                if e.name().as_ref() == b"testcase" {
                    current_case = None;
                }
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let Some(e) = start else { continue };
        let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
        let attrs: BTreeMap<String, String> = e
            .attributes()
            .map(|a| {
                let a = a.expect("attribute parses");
                (
                    String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                    a.unescape_value()
                        .expect("attribute unescapes")
                        .into_owned(),
                )
            })
            .collect();
        if depth == 0 {
            assert_eq!(name, "testsuites", "root element");
            shape.root_attrs = attrs.clone();
        }
        match name.as_str() {
            "testsuite" => shape.suites.push(attrs["name"].clone()),
            "testcase" => {
                shape
                    .case_props
                    .insert(attrs["name"].clone(), BTreeMap::new());
                current_case = (!empty).then(|| attrs["name"].clone());
            }
            "property" => {
                if let Some(case) = &current_case {
                    shape
                        .case_props
                        .entry(case.clone())
                        .or_default()
                        .insert(attrs["name"].clone(), attrs["value"].clone());
                }
            }
            "failure" => shape.failure_messages.push(attrs["message"].clone()),
            _ => {}
        }
        *shape.elements.entry(name).or_default() += 1;
        if !empty {
            depth += 1;
        }
    }
    assert_eq!(depth, 0, "every element is closed");
    shape
}

#[test]
fn junit_is_well_formed_and_complete() {
    let xml = plain(Format::Junit);
    let shape = parse_junit(&xml);
    assert_eq!(
        shape.suites,
        ["hl7v2/ack-semantics", "smart/smart-backend", "perf"],
        "a suite per profile/scenario, then perf"
    );
    assert_eq!(shape.elements["testcase"], 11);
    assert_eq!(
        shape.elements["failure"], 5,
        "3 failed checks + 2 perf regressions"
    );
    assert_eq!(shape.elements["error"], 1);
    assert_eq!(shape.elements["skipped"], 1);
    assert_eq!(shape.root_attrs["tests"], "11");
    assert_eq!(shape.root_attrs["failures"], "5");
    assert_eq!(shape.root_attrs["errors"], "1");

    let props = &shape.case_props["smart-backend.part2-redisclosure-notice"];
    assert_eq!(props["check.id"], "smart-backend.part2-redisclosure-notice");
    assert_eq!(props["check.severity"], "SHALL");
    assert_eq!(props["check.requirement"], "42 CFR §2.32");
    let check_cases = shape
        .case_props
        .iter()
        .filter(|(name, _)| !name.starts_with("perf."))
        .count();
    assert_eq!(check_cases, 8, "every check has its properties");
    let perf = &shape.case_props["perf.mllp.ack_latency.p99"];
    assert_eq!(perf["perf.baseline"], "15");
    assert_eq!(perf["perf.current"], "18.4");
    assert!(
        shape
            .failure_messages
            .iter()
            .any(|m| m.starts_with("mllp.throughput.mean regressed -12.0%"))
    );
}

#[test]
fn junit_single_profile_names_suites_by_scenario() {
    let mut report = common::fixture();
    report.scenarios.truncate(1);
    report.profiles.clear();
    let shape = parse_junit(&render(Format::Junit, &report.finish(), &Redactor::new()));
    assert_eq!(shape.suites, ["ack-semantics", "perf"]);
}

#[test]
fn json_matches_schema_and_round_trips() {
    let json = plain(Format::Json);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let schema: serde_json::Value =
        serde_json::from_str(reports::JSON_SCHEMA).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "fixture violates schema: {errors:#?}");
    assert_eq!(value["schema_version"], 1);

    let back = reports::read_json(json.as_bytes()).expect("reads back");
    assert_eq!(back, common::fixture());

    // The schema is strict enough to catch drift: unknown fields, versions
    // and enum values are rejected.
    let mut bad = value.clone();
    bad["schema_version"] = 2.into();
    assert!(!validator.is_valid(&bad));
    let mut bad = value.clone();
    bad["scenarios"][0]["checks"][0]["outcome"]["status"] = "flaky".into();
    assert!(!validator.is_valid(&bad));
    let mut bad = value;
    bad["summary"]["extra"] = 1.into();
    assert!(!validator.is_valid(&bad));
}

#[test]
fn read_json_rejects_other_versions() {
    let json = plain(Format::Json).replacen("\"schema_version\": 1", "\"schema_version\": 2", 1);
    assert!(matches!(
        reports::read_json(json.as_bytes()),
        Err(reports::ReportError::SchemaVersion(2))
    ));
}

const JWT: &str = "eyJhbGciOiJSUzM4NCIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJhY21lIiwiZXhwIjoxfQ.c2lnbmF0dXJlLXNlZ21lbnQtc2VjcmV0";
const SECRETS: [&str; 8] = [
    "tokBEARER0001",
    "tokACCESS0002",
    "tokREFRESH0003",
    "csHUNTER0004",
    "authCODE0005",
    "registeredSecret0006",
    "basicCREDS0007",
    "c2lnbmF0dXJlLXNlZ21lbnQtc2VjcmV0",
];

/// The fixture with a secret planted in every kind of free-text field.
fn report_with_secrets() -> RunReport {
    let mut r = common::fixture();
    r.sut.name = "engine registeredSecret0006".into();
    let ack = &mut r.scenarios[0];
    ack.title = "ACK with Authorization: Bearer tokBEARER0001".into();
    ack.checks[1].outcome = Outcome::failed_with(
        "token response leaked access_token=tokACCESS0002",
        r#"{"refresh_token": "tokREFRESH0003"}"#,
        format!("client_assertion={JWT}"),
    );
    ack.checks[1].evidence[0].summary =
        "POST /token client_id=x&client_secret=csHUNTER0004&code=authCODE0005".into();
    ack.checks[3].outcome = Outcome::skipped("skipped: config password registeredSecret0006");
    ack.timeline[1].summary = "GET /Patient authorization: Basic basicCREDS0007".into();
    ack.timeline[2].summary = format!("id_token {JWT}");
    let smart = &mut r.scenarios[1];
    smart.checks[3].outcome = Outcome::errored("bearer tokBEARER0001 rejected");
    smart.checks[0].title = "assertion registeredSecret0006".into();
    if let Some(b) = r.perf.as_mut().and_then(|p| p.baseline.as_mut()) {
        b.name = "baseline access_token: tokACCESS0002".into();
    }
    r
}

#[test]
fn no_format_contains_a_secret() {
    let report = report_with_secrets();
    let redactor = Redactor::new().with_secret("registeredSecret0006");
    // Without redaction the secrets would be there: the test plants them.
    let unredacted = serde_json::to_string(&report).unwrap();
    for secret in SECRETS {
        assert!(unredacted.contains(secret), "fixture plants {secret}");
    }
    for format in Format::ALL {
        let out = render(format, &report, &redactor);
        // Undo the writers' own escaping too, so an escaped secret can't hide.
        let decoded = html_escape::decode_html_entities(&out).into_owned();
        for secret in SECRETS {
            assert!(
                !out.contains(secret) && !decoded.contains(secret),
                "{format:?} output leaks {secret}"
            );
        }
        assert!(
            out.contains("[REDACTED]"),
            "{format:?} shows where it redacted"
        );
    }
}

#[test]
fn html_escapes_injection_attempts() {
    let mut r = common::fixture();
    r.sut.name = "<script>alert('sut')</script>".into();
    let ack = &mut r.scenarios[0];
    ack.title = "\"><img src=x onerror=alert(1)>".into();
    ack.checks[0].title = "<script>alert(document.cookie)</script>".into();
    ack.checks[0].requirement = "</style><style>body{display:none}".into();
    ack.checks[1].outcome = Outcome::failed_with(
        "'><svg onload=alert(2)>",
        "</textarea><iframe src=javascript:alert(3)>",
        "]]><!-- -->",
    );
    ack.checks[1].evidence[0].summary = "<a href=\"javascript:alert(4)\">x</a>".into();
    ack.timeline[1].summary = "</title><script>alert(5)</script>".into();
    ack.timeline[1].surface = Surface::Fhir;
    ack.timeline[1].verdict = Some(Verdict::Fail);
    if let Some(p) = r.perf.as_mut() {
        p.metrics[0].name = "<b onmouseover=alert(6)>".into();
        p.throughput_unit = "\"/><script>alert(7)</script>".into();
    }
    let html = render(Format::Html, &r, &Redactor::new());
    let lower = html.to_ascii_lowercase();
    assert_eq!(
        lower.matches("<script").count(),
        1,
        "only the report's own script"
    );
    assert_eq!(lower.matches("</script>").count(), 1);
    assert_eq!(lower.matches("<style").count(), 1);
    assert_eq!(lower.matches("</style>").count(), 1);
    for tag in [
        "<img",
        "<svg onload",
        "<iframe",
        "<a href",
        "<b onmouseover",
        "</textarea",
    ] {
        assert!(!lower.contains(tag), "unescaped {tag}");
    }
    assert!(html.contains("&lt;script&gt;alert(document.cookie)&lt;&#x2F;script&gt;"));
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));

    // The Markdown is rendered by GitHub, which allows some inline HTML.
    let md = render(Format::Markdown, &r, &Redactor::new()).to_ascii_lowercase();
    for tag in ["<img", "<script", "<svg", "<iframe", "<a href"] {
        assert!(!md.contains(tag), "markdown carries {tag}");
    }
    // And JUnit stays well-formed with all of it in attributes and text.
    let shape = parse_junit(&render(Format::Junit, &r, &Redactor::new()));
    assert!(
        shape
            .failure_messages
            .contains(&"'><svg onload=alert(2)>".to_owned())
    );
}

#[test]
fn html_is_self_contained() {
    let html = plain(Format::Html);
    assert!(html.contains("Content-Security-Policy"));
    for needle in [
        "src=\"http",
        "href=\"http",
        "src=\"//",
        "href=\"//",
        "@import",
        "url(",
    ] {
        assert!(!html.contains(needle), "external reference {needle}");
    }
    // Per-check timelines: the failed MSA-2 check has its two events.
    assert!(html.contains("<g class=\"ev v-fail\" data-seq=\"6\">"));
    assert!(html.contains("class=\"chart latency\""));
    assert!(html.contains("class=\"chart throughput\""));
    assert!(html.contains("<g class=\"row regressed\">"));
}

#[test]
fn format_names() {
    for f in Format::ALL {
        assert_eq!(Format::from_name(&format!("{f:?}")), Some(f));
    }
    assert_eq!(Format::from_name("md").map(Format::extension), Some("md"));
    assert_eq!(Format::from_name("pdf"), None);
}

#[test]
fn non_finite_perf_values_do_not_break_any_writer() {
    let mut r = common::fixture();
    let perf = r.perf.as_mut().unwrap();
    perf.metrics[0].mean = f64::NAN;
    perf.metrics[0].max = f64::INFINITY;
    perf.throughput_series[0].value = f64::NAN;
    let redactor = Redactor::new();
    for format in Format::ALL {
        assert!(!render(format, &r, &redactor).is_empty(), "{format:?}");
    }
    let json = render(Format::Json, &r, &redactor);
    let schema: serde_json::Value = serde_json::from_str(reports::JSON_SCHEMA).unwrap();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(jsonschema::validator_for(&schema).unwrap().is_valid(&value));
    let back = reports::read_json(json.as_bytes()).expect("null floats read back");
    assert!(back.perf.unwrap().metrics[0].mean.is_nan());
}

#[test]
fn an_empty_run_renders_in_every_format() {
    let report = RunReport::new(
        reports::ToolInfo::new("ngsim", "0.1.0"),
        reports::SutInfo::new("nothing-ran"),
        "2026-11-23T01:00:00Z",
    )
    .finish();
    assert_eq!(report.summary.total, 0);
    for format in Format::ALL {
        assert!(
            !render(format, &report, &Redactor::new()).is_empty(),
            "{format:?}"
        );
    }
    assert_eq!(
        parse_junit(&render(Format::Junit, &report, &Redactor::new()))
            .suites
            .len(),
        0
    );
}
