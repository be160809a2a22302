//! `ngsim gen hl7`: write a corpus of NextGen-shaped HL7 messages, optionally
//! mutated, for fuzzing a parser. Messages are drawn from the synthetic
//! practice of `--seed`: message `i` is about patient `i`, the same person
//! (MRN, name, birth date) `ngsim serve --seed S --patients N` serves.

use std::path::PathBuf;

use anyhow::anyhow;
use clap::{Args, Subcommand};
use simulator::hl7::generators::{MessageType, write_practice_corpus};
use simulator::practice::{Practice, PracticeConfig};

use super::Failure;
use crate::exit_code;

/// Generator subcommands.
#[derive(Debug, Subcommand)]
pub enum GenCommand {
    /// Write HL7 v2 messages, one per file (CR segment terminators, no framing).
    Hl7(GenHl7Args),
}

/// Arguments of `ngsim gen hl7`.
#[derive(Debug, Args)]
pub struct GenHl7Args {
    /// Message type: ADT^A01, ADT^A04, ADT^A08, ORM^O01, ORU^R01, SIU^S12..S15, VXU^V04, DFT^P03.
    #[arg(long = "type", value_name = "TYPE^TRIGGER")]
    pub message_type: String,
    /// How many messages.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub count: usize,
    /// Seed of the synthetic practice: the same seed writes the same files.
    #[arg(long, default_value_t = 42, value_name = "N")]
    pub seed: u64,
    /// Patients in the practice (as for `ngsim serve`); message `i` is
    /// about patient `i mod N`.
    #[arg(long, default_value_t = 1000, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub patients: u32,
    /// Output directory (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Damage each message with one adversarial mutation (escape abuse,
    /// non-ASCII, long fields, odd delimiters, truncation, segment
    /// duplication or loss, bad framing).
    #[arg(long)]
    pub mutate: bool,
}

pub(super) fn run(cmd: GenCommand) -> Result<u8, Failure> {
    let GenCommand::Hl7(args) = cmd;
    let kind: MessageType = args
        .message_type
        .parse()
        .map_err(|e| Failure::bad_input(anyhow!("{e}")))?;
    let practice = Practice::new(PracticeConfig {
        seed: args.seed,
        patients: args.patients,
        ..PracticeConfig::default()
    });
    let summary = write_practice_corpus(&args.out, &practice, kind, args.count, args.mutate)
        .map_err(|e| {
            Failure::infrastructure(anyhow!("cannot write to {}: {e}", args.out.display()))
        })?;
    println!(
        "wrote {} files ({} bytes) to {}",
        summary.files.len(),
        summary.bytes,
        args.out.display()
    );
    Ok(exit_code::OK)
}
