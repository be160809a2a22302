//! Shared helpers for the `mllp_*` tests (included with `#[path]`).
#![allow(dead_code)]

use std::time::Duration;

use simulator::RunningSimulator;
use simulator::hl7::Message;
use simulator::journal::{Entry, Surface};
use simulator::practice::PatientIndex;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

pub const LOOPBACK: &str = "127.0.0.1:0";

pub async fn sim_with(profile: &str) -> RunningSimulator {
    simulator::Simulator::builder()
        .profile_named(profile)
        .unwrap()
        .patients(50)
        .mllp_addr(LOOPBACK.parse().unwrap())
        .start()
        .await
        .unwrap()
}

pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    simulator::hl7::mllp::frame_into(payload, &mut v);
    v
}

/// Read `n` frames' payloads (commit blocks included as `[0x06]`).
pub async fn read_frames<S: AsyncRead + Unpin>(io: &mut S, n: usize) -> Vec<Vec<u8>> {
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let mut chunk = [0u8; 4096];
    while out.len() < n {
        while let Some(start) = buf.iter().position(|b| *b == 0x0B) {
            let Some(end) = buf[start..].windows(2).position(|w| w == [0x1C, 0x0D]) else {
                break;
            };
            out.push(buf[start + 1..start + end].to_vec());
            buf.drain(..start + end + 2);
        }
        if out.len() >= n {
            break;
        }
        let k = tokio::time::timeout(Duration::from_secs(10), io.read(&mut chunk))
            .await
            .expect("reply in time")
            .unwrap();
        assert!(k > 0, "peer closed after {} frames", out.len());
        buf.extend_from_slice(&chunk[..k]);
    }
    out
}

/// Send one message and read `acks` frames back.
pub async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut S,
    payload: &[u8],
    acks: usize,
) -> Vec<Vec<u8>> {
    io.write_all(&frame(payload)).await.unwrap();
    read_frames(io, acks).await
}

/// `(MSA-1, MSA-2, ERR-3.1 or ERR-1.4.1)` of an ACK.
pub fn msa(ack: &[u8]) -> (String, String, String) {
    let m = Message::parse(ack).unwrap();
    let v = simulator::hl7::ack::read_ack(&m).unwrap();
    (
        v.code.as_str().to_owned(),
        String::from_utf8_lossy(v.control_id).into_owned(),
        v.error_code.map(|c| c.to_string()).unwrap_or_default(),
    )
}

/// Redact MSH-7 and MSH-10 of an ACK for snapshots.
pub fn redact(ack: &[u8]) -> String {
    let text = String::from_utf8_lossy(ack).replace('\r', "\n");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if let Some(msh) = lines.first_mut() {
        let mut f: Vec<&str> = msh.split('|').collect();
        if f.len() > 9 {
            f[6] = "<TS>";
            f[9] = "<ACK-ID>";
        }
        *msh = f.join("|");
    }
    lines.join("\n")
}

/// Journal entries on a surface.
pub fn entries(sim: &RunningSimulator, surface: Surface) -> Vec<Entry> {
    sim.journal()
        .snapshot()
        .iter()
        .filter(|e| e.surface == surface)
        .map(|e| (**e).clone())
        .collect()
}

/// Poll until `f` holds (the journal is written after the ACK).
pub async fn eventually(f: impl FnMut() -> bool) {
    eventually_within(Duration::from_secs(5), f).await;
}

/// Poll every 10 ms until `f` holds, for at most `limit` (of virtual time
/// under `tokio::time::pause`, where the polls cost nothing).
pub async fn eventually_within(limit: Duration, mut f: impl FnMut() -> bool) {
    let end = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < end {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(f(), "condition not reached within {limit:?}");
}

/// `(mrn, person number, person id)` of generated patient `i`.
pub fn patient(sim: &RunningSimulator, i: u32) -> (String, String, String) {
    let p = sim.practice().patient(PatientIndex(i)).unwrap();
    (p.mrn.clone(), p.person_number.clone(), p.id.to_string())
}

pub fn msh(kind: &str, id: &str, version: &str, msh15_16: &str) -> String {
    format!(
        "MSH|^~\\&|LABSYS|LABFAC|NextGen|NGSIM|20260701120000||{kind}|{id}|P|{version}{msh15_16}\r"
    )
}

pub fn oru(mrn: &str, id: &str) -> Vec<u8> {
    format!(
        "{}PID|1||{mrn}^^^NextGen^MRN||Doe^Jane\rOBR|1|P1|F1|2345-7^Glucose^LN|||20260701100000\rOBX|1|NM|2345-7^Glucose^LN||105|mg/dL|70-99|H|||F|||20260701100000\r",
        msh("ORU^R01", id, "2.3", "")
    )
    .into_bytes()
}

pub async fn connect(sim: &RunningSimulator) -> tokio::net::TcpStream {
    tokio::net::TcpStream::connect(sim.mllp_addr().unwrap())
        .await
        .unwrap()
}

pub async fn shutdown_write<S: AsyncWrite + Unpin>(io: &mut S) {
    let _ = io.shutdown().await;
}

/// Frames a destination received.
pub type Inbox = std::sync::Arc<parking_lot::Mutex<Vec<Vec<u8>>>>;

/// A destination on loopback that answers every message with AA and keeps
/// the payloads it received.
pub async fn aa_destination() -> (std::net::SocketAddr, Inbox) {
    let l = tokio::net::TcpListener::bind(LOOPBACK).await.unwrap();
    let addr = l.local_addr().unwrap();
    let got = Inbox::default();
    let rec = got.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            tokio::spawn(answer_aa(s, rec.clone()));
        }
    });
    (addr, got)
}

/// Answer every message on `s` with AA, keeping the payloads in `rec`.
pub async fn answer_aa<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, rec: Inbox) {
    let mut ids = simulator::hl7::SequentialIds::new("D", 1);
    loop {
        let frames = read_frames(&mut s, 1).await;
        let m = Message::parse(&frames[0]).unwrap();
        rec.lock().push(frames[0].clone());
        let a = simulator::hl7::ack::build_ack(
            &m,
            &simulator::hl7::Ack {
                code: simulator::hl7::AckCode::AA,
                text: None,
                error: None,
                timestamp: "20260701",
            },
            &mut ids,
        );
        if s.write_all(&frame(&a)).await.is_err() {
            return;
        }
    }
}

/// Announce that generated patient `i` was updated (the sender's trigger).
pub fn publish_update(sim: &RunningSimulator, i: u32) {
    let (_, _, id) = patient(sim, i);
    sim.state()
        .events
        .publish(simulator::events::PracticeChange {
            kind: simulator::events::ChangeKind::PatientUpdated,
            patient_id: id,
            record_id: None,
            origin: "control".into(),
        });
}

/// The default profile with one outbound destination.
pub async fn sim_sending_to_default(addr: std::net::SocketAddr) -> RunningSimulator {
    simulator::Simulator::builder()
        .patients(20)
        .mllp_destinations([simulator::mllp::Destination::new(addr)])
        .start()
        .await
        .unwrap()
}

/// Observations in patient `i`'s chart.
pub fn observations(sim: &RunningSimulator, i: u32) -> usize {
    sim.practice()
        .chart(PatientIndex(i))
        .unwrap()
        .observations
        .len()
}
