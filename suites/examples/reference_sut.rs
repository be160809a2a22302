//! The reference integration as a process: a correct HL7 receiver with optional
//! `--defect NAME` switches, and `--delay-ms N` to add a known latency to every
//! ACK (for checking `ngsim load`). It writes its `sut.toml` and serves until Ctrl-C.
//! With `--sync` it is the reference sync integration (FHIR, Enterprise and sinks);
//! with `--sim-mllp ADDR` it is instead the client side, an HL7 sender to the
//! simulator listening at ADDR (client defects: `--defect resend-new-id`, …).
//!
//! ```sh
//! cargo run -p suites --example reference_sut -- --manifest /tmp/sut.toml [--defect wrong-msa2]
//! ngsim run --sut /tmp/sut.toml --scenario ack-receiver
//! cargo run -p suites --example reference_sut -- --manifest /tmp/c.toml --sim-mllp 127.0.0.1:2575
//! ngsim run --sut /tmp/c.toml --scenario ack-sender
//! ```
//!
//! With `--sync` it is the syncing integration instead (a backend service with
//! downstream recipients), for the part2-segmentation, write-back-scopes and
//! enterprise-pre-beta scenarios. Its patient panel is computed from the
//! practice seed (`--seed`, default 42, as `ngsim run`'s), and it learns the
//! simulator's URL from the runner's `x-ngsim-simulator` hook header:
//!
//! ```sh
//! cargo run -p suites --example reference_sut -- --sync --manifest /tmp/sync.toml [--defect leak-part2]
//! ngsim run --sut /tmp/sync.toml --scenario part2-segmentation --scenario write-back-scopes
//! ```

use std::time::Duration;

use suites::reference::{self, ClientDefect, ClientTargets, Defect};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut manifest = std::path::PathBuf::from("sut.toml");
    let mut defect = None;
    let mut delay = Duration::ZERO;
    let mut sync = false;
    let mut seed = 42u64;
    let mut client_defect = None;
    let mut sim_mllp: Option<std::net::SocketAddr> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--manifest" => manifest = args.next().ok_or("--manifest needs a path")?.into(),
            "--defect" => {
                let name = args.next().ok_or("--defect needs a name")?;
                match name.parse::<ClientDefect>() {
                    Ok(d) => client_defect = Some(d),
                    Err(_) => defect = Some(name.parse::<Defect>()?),
                }
            }
            "--sim-mllp" => {
                sim_mllp = Some(args.next().ok_or("--sim-mllp needs an address")?.parse()?)
            }
            "--delay-ms" => {
                let ms: u64 = args
                    .next()
                    .ok_or("--delay-ms needs a number of milliseconds")?
                    .parse()?;
                delay = Duration::from_millis(ms);
            }
            "--sync" => sync = true,
            "--seed" => seed = args.next().ok_or("--seed needs a number")?.parse()?,
            "--list-defects" => {
                for d in Defect::ALL {
                    println!("{:<22} breaks {}", d.name(), d.caught_by());
                }
                for d in ClientDefect::ALL {
                    println!("{:<22} breaks {} (client)", d.name(), d.caught_by());
                }
                return Ok(());
            }
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    if sync {
        let practice = simulator::practice::Practice::new(simulator::practice::PracticeConfig {
            seed,
            ..Default::default()
        });
        let cfg = reference::SyncConfig {
            simulator: "http://127.0.0.1:8080".into(),
            panel: reference::sync::default_panel(&practice),
        };
        let sut = reference::start_sync(defect, cfg).await?;
        std::fs::write(&manifest, sut.manifest_toml())?;
        println!(
            "reference sync integration: hooks http://{}",
            sut.hooks_addr
        );
        println!("manifest written to {}; Ctrl-C to stop", manifest.display());
        tokio::signal::ctrl_c().await?;
        return Ok(());
    }
    if let Some(mllp) = sim_mllp {
        let client = reference::start_client(
            client_defect,
            ClientTargets {
                mllp: Some(mllp),
                fhir: None,
            },
        )
        .await?;
        std::fs::write(&manifest, client.manifest_toml())?;
        println!(
            "reference client: sends HL7 to {mllp}; hooks http://{}",
            client.hooks_addr
        );
        println!("manifest written to {}; Ctrl-C to stop", manifest.display());
        tokio::signal::ctrl_c().await?;
        return Ok(());
    }
    if client_defect.is_some() {
        return Err("client defects need --sim-mllp".into());
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
