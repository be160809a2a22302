//! The reference integration as a process: a correct HL7 receiver with optional
//! `--defect NAME` switches. It writes its `sut.toml` and serves until Ctrl-C.
//! With `--sim-mllp ADDR` it is instead the client side, an HL7 sender to the
//! simulator listening at ADDR (client defects: `--defect resend-new-id`, …).
//!
//! ```sh
//! cargo run -p suites --example reference_sut -- --manifest /tmp/sut.toml [--defect wrong-msa2]
//! ngsim run --sut /tmp/sut.toml --scenario ack-receiver
//! cargo run -p suites --example reference_sut -- --manifest /tmp/c.toml --sim-mllp 127.0.0.1:2575
//! ngsim run --sut /tmp/c.toml --scenario ack-sender
//! ```

use std::time::Duration;

use suites::reference::{self, ClientDefect, ClientTargets, Defect};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut manifest = std::path::PathBuf::from("sut.toml");
    let mut defect = None;
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
    let sut = reference::start(defect, Duration::from_secs(15)).await?;
    std::fs::write(&manifest, sut.manifest_toml(Duration::from_secs(5)))?;
    println!(
        "reference integration: MLLP {} hooks http://{}",
        sut.mllp_addr, sut.hooks_addr
    );
    println!("manifest written to {}; Ctrl-C to stop", manifest.display());
    tokio::signal::ctrl_c().await?;
    Ok(())
}
