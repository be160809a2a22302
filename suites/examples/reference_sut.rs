//! The reference integration as a process: a correct HL7 receiver with optional
//! `--defect NAME` switches, and `--delay-ms N` to add a known latency to every
//! ACK (for checking `ngsim load`). It writes its `sut.toml` and serves until Ctrl-C.
//!
//! ```sh
//! cargo run -p suites --example reference_sut -- --manifest /tmp/sut.toml [--defect wrong-msa2]
//! ngsim run --sut /tmp/sut.toml --scenario ack-receiver
//! ```

use std::time::Duration;

use suites::reference::{self, Defect};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut manifest = std::path::PathBuf::from("sut.toml");
    let mut defect = None;
    let mut delay = Duration::ZERO;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--manifest" => manifest = args.next().ok_or("--manifest needs a path")?.into(),
            "--defect" => {
                defect = Some(
                    args.next()
                        .ok_or("--defect needs a name")?
                        .parse::<Defect>()?,
                )
            }
            "--delay-ms" => {
                let ms: u64 = args
                    .next()
                    .ok_or("--delay-ms needs a number of milliseconds")?
                    .parse()?;
                delay = Duration::from_millis(ms);
            }
            "--list-defects" => {
                for d in Defect::ALL {
                    println!("{:<22} breaks {}", d.name(), d.caught_by());
                }
                return Ok(());
            }
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    let sut = reference::start_delayed(defect, Duration::from_secs(15), delay).await?;
    std::fs::write(&manifest, sut.manifest_toml(Duration::from_secs(5)))?;
    println!(
        "reference integration: MLLP {} hooks http://{}",
        sut.mllp_addr, sut.hooks_addr
    );
    println!("manifest written to {}; Ctrl-C to stop", manifest.display());
    tokio::signal::ctrl_c().await?;
    Ok(())
}
