//! JUnit XML, the format every CI system ingests, written with quick-junit.
//!
//! * One `<testsuite>` per scenario, named `<scenario id>`, or
//!   `<profile>/<scenario id>` when the run has several profiles.
//! * One `<testcase>` per check, named by the check id, with the scenario id
//!   as `classname` and `check.id`, `check.title`, `check.severity` and
//!   `check.requirement` as testcase `<properties>`.
//! * A failed check is a `<failure>` whose `type` is its level (`SHALL`,
//!   `SHOULD`, `MAY`); an errored check is an `<error>`; a skipped check is
//!   `<skipped>`. Expected/actual values and evidence go in the element text.
//! * With a perf baseline, a `perf` suite holds one testcase per compared
//!   metric, named `perf.<metric>`, failing when it regressed.

use std::fmt::Write as _;
use std::io::Write;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::ReportError;
use crate::model::{CheckResult, Outcome, PerfReport, RunReport};
use crate::redact::Redactor;

/// Writes `report` as JUnit XML, redacted.
pub fn write_junit<W: Write>(
    report: &RunReport,
    redactor: &Redactor,
    out: W,
) -> Result<(), ReportError> {
    let report = redactor.redact_report(report);
    let mut junit = Report::new(format!(
        "{} conformance: {}",
        report.tool.name, report.sut.name
    ));
    junit.set_time(ms(report.duration_ms));
    let several_profiles = report.profiles.len() > 1;
    for scenario in &report.scenarios {
        let name = if several_profiles {
            format!("{}/{}", scenario.profile, scenario.id)
        } else {
            scenario.id.clone()
        };
        let mut suite = TestSuite::new(name);
        suite.add_properties([
            Property::new("scenario.title", scenario.title.as_str()),
            Property::new("profile", scenario.profile.as_str()),
            Property::new("sut", report.sut.name.as_str()),
            Property::new(
                "tool",
                format!("{} {}", report.tool.name, report.tool.version),
            ),
        ]);
        suite.set_time(ms(scenario.checks.iter().map(|c| c.duration_ms).sum()));
        suite.add_test_cases(scenario.checks.iter().map(|c| test_case(&scenario.id, c)));
        junit.add_test_suite(suite);
    }
    if let Some(perf) = &report.perf {
        if let Some(suite) = perf_suite(perf) {
            junit.add_test_suite(suite);
        }
    }
    junit.serialize(out)?;
    Ok(())
}

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

fn test_case(classname: &str, check: &CheckResult) -> TestCase {
    let mut status = match &check.outcome {
        Outcome::Passed => TestCaseStatus::success(),
        Outcome::Failed { message, .. } => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(message.as_str())
                .set_type(check.severity.keyword());
            s
        }
        Outcome::Errored { message } => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_message(message.as_str()).set_type("error");
            s
        }
        Outcome::Skipped { reason } => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(reason.as_str());
            s
        }
    };
    if !matches!(check.outcome, Outcome::Passed) {
        status.set_description(description(check));
    }
    let mut case = TestCase::new(check.id.as_str(), status);
    case.set_classname(classname)
        .set_time(ms(check.duration_ms))
        .add_properties([
            Property::new("check.id", check.id.as_str()),
            Property::new("check.title", check.title.as_str()),
            Property::new("check.severity", check.severity.keyword()),
            Property::new("check.requirement", check.requirement.as_str()),
        ]);
    case
}

/// The element text of a non-passing testcase: what CI shows on click.
fn description(check: &CheckResult) -> String {
    let mut text = format!("{}\nRequirement: {}", check.title, check.requirement);
    if let Outcome::Failed {
        expected, actual, ..
    } = &check.outcome
    {
        if let Some(e) = expected {
            let _ = write!(text, "\nExpected: {e}");
        }
        if let Some(a) = actual {
            let _ = write!(text, "\nActual: {a}");
        }
    }
    for e in &check.evidence {
        match e.journal_seq {
            Some(seq) => {
                let _ = write!(text, "\nEvidence #{seq}: {}", e.summary);
            }
            None => {
                let _ = write!(text, "\nEvidence: {}", e.summary);
            }
        }
    }
    text
}

fn perf_suite(perf: &PerfReport) -> Option<TestSuite> {
    let baseline = perf.baseline.as_ref()?;
    let mut suite = TestSuite::new("perf");
    suite.add_property(Property::new("baseline", baseline.name.as_str()));
    suite.add_property(Property::new(
        "max_regression_pct",
        baseline.max_regression_pct.to_string(),
    ));
    for row in &baseline.rows {
        let status = if row.regressed {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(format!(
                "{} regressed {:+.1}% (limit {}%)",
                row.metric, row.change_pct, baseline.max_regression_pct
            ))
            .set_type("perf-regression")
            .set_description(format!(
                "baseline {}: {}\ncurrent: {}",
                baseline.name, row.baseline, row.current
            ));
            s
        } else {
            TestCaseStatus::success()
        };
        let mut case = TestCase::new(format!("perf.{}", row.metric), status);
        case.set_classname("perf").add_properties([
            Property::new("perf.metric", row.metric.as_str()),
            Property::new("perf.baseline", row.baseline.to_string()),
            Property::new("perf.current", row.current.to_string()),
            Property::new("perf.change_pct", format!("{:.2}", row.change_pct)),
        ]);
        suite.add_test_case(case);
    }
    Some(suite)
}
