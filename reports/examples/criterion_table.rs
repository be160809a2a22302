//! Regenerate the figures table in `benches/README.md` from criterion's output,
//! and optionally compare with a saved baseline (exit code 4 on a regression).
//! `.ci/bench` runs this after `cargo bench`; see the module docs of
//! `reports::criterion` for the regression rule.
//!
//! ```sh
//! cargo run -p reports --example criterion_table -- --criterion-dir target/criterion \
//!     --readme benches/README.md [--baseline main --max-regression 10]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use reports::criterion;

/// Figures the issues ask for that follow from the table: the parser's ratio
/// to hl7-parser, and the 100,000-patient generation time.
fn derived(figs: &[criterion::BenchFigure]) -> String {
    let get = |id: &str| figs.iter().find(|f| f.id == id).map(|f| f.median_ns);
    let mut out = String::new();
    if let (Some(ours), Some(peer)) = (get("parse_walk/ngsim"), get("parse_walk/hl7-parser")) {
        out.push_str(&format!(
            "\n- HL7 parse plus walk of every field: **{:.1}×** hl7-parser 0.3.0 on the same corpus (goal 20×).\n",
            peer / ours
        ));
    }
    if let Some(charts) = get("practice/charts_1000") {
        out.push_str(&format!(
            "- 100,000 patients with full charts: about **{:.2} s** (100 × `practice/charts_1000`; goal under 2 s).\n",
            charts * 100.0 / 1e9
        ));
    }
    if let Some(ack) = get("ack_build") {
        out.push_str(&format!(
            "- ACK build: **{ack:.0} ns** (goal under 1 µs).\n"
        ));
    }
    out
}

fn main() -> ExitCode {
    let mut dir = PathBuf::from("target/criterion");
    let mut readme: Option<PathBuf> = None;
    let mut baseline: Option<String> = None;
    let mut max = 10.0;
    let mut machine = String::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_default();
        match a.as_str() {
            "--criterion-dir" => dir = value().into(),
            "--readme" => readme = Some(value().into()),
            "--baseline" => baseline = Some(value()),
            "--max-regression" => max = value().trim_end_matches('%').parse().unwrap_or(10.0),
            "--machine" => machine = value(),
            other => {
                eprintln!("unknown argument `{other}`");
                return ExitCode::from(2);
            }
        }
    }
    let current = match criterion::read(&dir, "new") {
        Ok(f) if !f.is_empty() => f,
        Ok(_) => {
            eprintln!(
                "no criterion results under {}; run `cargo bench -p benches` first",
                dir.display()
            );
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("cannot read {}: {e}", dir.display());
            return ExitCode::from(2);
        }
    };
    let mut body = format!("{machine}\n\n{}", criterion::markdown_table(&current));
    body.push_str(&derived(&current));
    let mut regressed = false;
    if let Some(name) = &baseline {
        let base = criterion::read(&dir, name).unwrap_or_default();
        if base.is_empty() {
            eprintln!(
                "no baseline `{name}` under {}; save one with `.ci/bench --save-baseline {name}`",
                dir.display()
            );
            return ExitCode::from(2);
        }
        let rows = criterion::compare(&current, &base, max);
        regressed = rows.iter().any(|r| r.regressed);
        let cmp = criterion::markdown_comparison(&rows, name, max);
        println!("{cmp}");
        body.push('\n');
        body.push_str(&cmp);
    }
    print!("{body}");
    if let Some(path) = readme {
        let doc = std::fs::read_to_string(&path).unwrap_or_default();
        match criterion::replace_section(&doc, "figures", &body) {
            Some(new) => {
                if let Err(e) = std::fs::write(&path, new) {
                    eprintln!("cannot write {}: {e}", path.display());
                    return ExitCode::from(3);
                }
            }
            None => {
                eprintln!(
                    "{} has no <!-- begin:figures --> … <!-- end:figures --> markers",
                    path.display()
                );
                return ExitCode::from(2);
            }
        }
    }
    if regressed {
        ExitCode::from(4)
    } else {
        ExitCode::SUCCESS
    }
}
