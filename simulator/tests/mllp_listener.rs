//! The inbound listener: ACK policy per profile, duplicates, practice
//! updates visible on other surfaces, and the journal.

#[path = "mllp_support.rs"]
mod support;

use simulator::events::ChangeKind;
use simulator::journal::Surface;
use simulator::practice::PatientIndex;
use support::*;

#[tokio::test]
async fn oru_for_known_patient_is_aa_and_adds_results() {
    let sim = sim_with("nge-5.9.0").await;
    let (mrn, _, pid) = patient(&sim, 3);
    let before = observations(&sim, 3);
    let mut events = sim.state().events.subscribe();
    let mut s = connect(&sim).await;
    let acks = exchange(&mut s, &oru(&mrn, "ORU-1"), 1).await;
    assert_eq!(msa(&acks[0]), ("AA".into(), "ORU-1".into(), String::new()));
    insta::assert_snapshot!("oru_aa_original", redact(&acks[0]));
    let after = sim.practice().chart(PatientIndex(3)).unwrap().observations;
    assert_eq!(after.len(), before + 1);
    let change = events.recv().await.unwrap();
    assert_eq!(change.kind, ChangeKind::ResultsAdded);
    assert_eq!(
        (change.patient_id.as_str(), change.origin.as_str()),
        (pid.as_str(), "mllp-in")
    );
    eventually(|| !entries(&sim, Surface::MllpIn).is_empty()).await;
    let e = entries(&sim, Surface::MllpIn);
    let x = e[0].mllp().unwrap();
    assert_eq!(x.outcome, "accepted");
    assert_eq!(x.msh9.as_deref(), Some("ORU^R01"));
    assert_eq!(x.msh10.as_deref(), Some("ORU-1"));
    assert_eq!(x.ack_code.as_deref(), Some("AA"));
    assert_eq!(x.ack_control_id.as_deref(), Some("ORU-1"));
    assert_eq!(x.sender.as_deref(), Some("LABSYS"));
}

#[tokio::test]
async fn processing_errors_are_ae_with_err_location() {
    let sim = sim_with("nge-5.9.0").await;
    let (mrn, _, _) = patient(&sim, 1);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("unknown patient", oru("99999999", "E1"), "204"),
        (
            "no OBR",
            format!(
                "{}PID|1||{mrn}^^^NextGen^MRN\rOBX|1|NM|1^x^LN||1\r",
                msh("ORU^R01", "E2", "2.3", "")
            )
            .into_bytes(),
            "100",
        ),
        (
            "no PID",
            format!(
                "{}RXA|0|1|20260101|20260101|08^HepB^CVX\r",
                msh("VXU^V04", "E3", "2.3", "")
            )
            .into_bytes(),
            "100",
        ),
        (
            "DFT unknown patient by person number",
            format!(
                "{}PID|1|000099999999|\rFT1|1|||20260701||CG|99213\r",
                msh("DFT^P03", "E4", "2.3", "")
            )
            .into_bytes(),
            "204",
        ),
        (
            "SIU unknown patient",
            format!(
                "{}SCH|A1|A1||||||||||^^30^202607021000\rPID|1||1^^^NextGen^MRN\r",
                msh("SIU^S12", "E5", "2.3", "")
            )
            .into_bytes(),
            "204",
        ),
    ];
    let mut s = connect(&sim).await;
    let mut snaps = Vec::new();
    for (name, msg, err) in cases {
        let acks = exchange(&mut s, &msg, 1).await;
        let (code, _, e) = msa(&acks[0]);
        assert_eq!((code.as_str(), e.as_str()), ("AE", err), "{name}");
        snaps.push(format!("# {name}\n{}", redact(&acks[0])));
    }
    insta::assert_snapshot!("processing_errors", snaps.join("\n\n"));
}

#[tokio::test]
async fn unsupported_type_or_version_is_ar() {
    let sim = sim_with("nge-5.9.0").await;
    let mut s = connect(&sim).await;
    let m = format!("{}PID|1\r", msh("MFN^M02", "R1", "2.3", ""));
    let acks = exchange(&mut s, m.as_bytes(), 1).await;
    assert_eq!(msa(&acks[0]), ("AR".into(), "R1".into(), "200".into()));
    let m = format!("{}PID|1\r", msh("ADT^A04", "R2", "2.9", ""));
    let acks = exchange(&mut s, m.as_bytes(), 1).await;
    assert_eq!(msa(&acks[0]), ("AR".into(), "R2".into(), "203".into()));
    insta::assert_snapshot!("ar_version", redact(&acks[0]));
    eventually(|| entries(&sim, Surface::MllpIn).len() == 2).await;
    assert!(
        entries(&sim, Surface::MllpIn)
            .iter()
            .all(|e| e.mllp().unwrap().outcome == "rejected")
    );
}

#[tokio::test]
async fn enhanced_profile_sends_ca_then_aa_per_msh15_16() {
    let sim = sim_with("nge-5.9.2").await;
    let (mrn, _, _) = patient(&sim, 2);
    let mut s = connect(&sim).await;
    let mut m = oru(&mrn, "EN-1");
    let hdr = msh("ORU^R01", "EN-1", "2.5.1", "|||AL|AL");
    let old = msh("ORU^R01", "EN-1", "2.3", "");
    m = String::from_utf8(m)
        .unwrap()
        .replace(&old, &hdr)
        .into_bytes();
    let acks = exchange(&mut s, &m, 2).await;
    assert_eq!(msa(&acks[0]).0, "CA");
    assert_eq!(msa(&acks[1]).0, "AA");
    insta::assert_snapshot!(
        "enhanced_ca_aa",
        format!("{}\n---\n{}", redact(&acks[0]), redact(&acks[1]))
    );
    // MSH-15 NE, MSH-16 ER on success: no ACK at all; the next message's ACK comes first.
    let quiet = msh("ORU^R01", "EN-2", "2.5.1", "|||NE|ER");
    let m2 = String::from_utf8(oru(&mrn, "EN-2"))
        .unwrap()
        .replace(&msh("ORU^R01", "EN-2", "2.3", ""), &quiet);
    let m3 = String::from_utf8(oru(&mrn, "EN-3")).unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut s, &frame(m2.as_bytes()))
        .await
        .unwrap();
    let acks = exchange(&mut s, m3.as_bytes(), 1).await;
    // Blank MSH-15/16: original mode, one AA, for EN-3.
    assert_eq!(msa(&acks[0]), ("AA".into(), "EN-3".into(), String::new()));
}

#[tokio::test]
async fn mirth_msh15_gate() {
    let mut profile = simulator::profile::ProfileLoader::default()
        .load("nge-5.9.0")
        .unwrap();
    profile.hl7.msh15_gate = true;
    let sim = simulator::Simulator::builder()
        .profile(profile)
        .patients(20)
        .mllp_addr(LOOPBACK.parse().unwrap())
        .start()
        .await
        .unwrap();
    let (mrn, _, _) = patient(&sim, 0);
    let mut s = connect(&sim).await;
    let with = |id: &str, gate: &str| {
        String::from_utf8(oru(&mrn, id)).unwrap().replace(
            &msh("ORU^R01", id, "2.3", ""),
            &msh("ORU^R01", id, "2.3", gate),
        )
    };
    // ER on success: no ACK. SU on success: AA.
    tokio::io::AsyncWriteExt::write_all(&mut s, &frame(with("G1", "|||ER|AL").as_bytes()))
        .await
        .unwrap();
    let acks = exchange(&mut s, with("G2", "|||SU|NE").as_bytes(), 1).await;
    assert_eq!(msa(&acks[0]), ("AA".into(), "G2".into(), String::new()));
}

#[tokio::test]
async fn duplicate_msh10_gets_the_stored_ack_without_reprocessing() {
    let sim = sim_with("nge-5.9.0").await;
    let (mrn, _, _) = patient(&sim, 4);
    let before = observations(&sim, 4);
    let mut s = connect(&sim).await;
    let first = exchange(&mut s, &oru(&mrn, "DUP-1"), 1).await;
    let mut s2 = connect(&sim).await;
    let again = exchange(&mut s2, &oru(&mrn, "DUP-1"), 1).await;
    assert_eq!(first, again, "the stored ACK bytes, not a new ACK");
    assert_eq!(observations(&sim, 4), before + 1);
    // Another sender with the same control id is processed.
    let other = String::from_utf8(oru(&mrn, "DUP-1"))
        .unwrap()
        .replace("LABSYS|LABFAC", "OTHER|LABFAC");
    let third = exchange(&mut s2, other.as_bytes(), 1).await;
    assert_ne!(first, third);
    eventually(|| entries(&sim, Surface::MllpIn).len() == 3).await;
    let outcomes: Vec<_> = entries(&sim, Surface::MllpIn)
        .iter()
        .map(|e| e.mllp().unwrap().outcome.clone())
        .collect();
    assert_eq!(outcomes, ["accepted", "duplicate", "accepted"]);
}

#[tokio::test]
async fn adt_siu_vxu_dft_change_the_practice() {
    let sim = sim_with("nge-5.9.0").await;
    let mut s = connect(&sim).await;
    // A04 for a new person registers them.
    let n0 = sim.practice().patient_count();
    let a04 = format!(
        "{}EVN|A04|20260701\rPID|1||NEW123^^^LAB^MRN||Newperson^Nora^Q||19800214|F|||1 Main St^^Springfield^IL^62701||555-0100\rPV1|1|O\r",
        msh("ADT^A04", "A04-1", "2.3", "")
    );
    let acks = exchange(&mut s, a04.as_bytes(), 1).await;
    assert_eq!(msa(&acks[0]).0, "AA");
    assert_eq!(sim.practice().patient_count(), n0 + 1);
    let created = sim.practice().patient(PatientIndex(n0)).unwrap();
    assert_eq!(
        (created.name.family.as_str(), created.name.given.as_str()),
        ("Newperson", "Nora")
    );
    // A04 for an existing MRN matches.
    let (mrn, pn, _) = patient(&sim, 5);
    let a04b = format!(
        "{}PID|1|{pn}|{mrn}^^^NextGen^MRN||X^Y||19800101|M\r",
        msh("ADT^A04", "A04-2", "2.3", "")
    );
    assert_eq!(msa(&exchange(&mut s, a04b.as_bytes(), 1).await[0]).0, "AA");
    assert_eq!(sim.practice().patient_count(), n0 + 1);
    // A08 updates by person number.
    let a08 = format!(
        "{}PID|1|{pn}|||Renamed^Rita\r",
        msh("ADT^A08", "A08-1", "2.3", "")
    );
    assert_eq!(msa(&exchange(&mut s, a08.as_bytes(), 1).await[0]).0, "AA");
    assert_eq!(
        sim.practice().patient(PatientIndex(5)).unwrap().name.family,
        "Renamed"
    );
    // SIU S12 books, S15 cancels.
    let appts = sim
        .practice()
        .chart(PatientIndex(5))
        .unwrap()
        .appointments
        .len();
    let s12 = format!(
        "{}SCH|||||||^Office Visit||30|MIN|^^30^202607081030\rPID|1|{pn}|{mrn}^^^NextGen^MRN\r",
        msh("SIU^S12", "S12-1", "2.3", "")
    );
    assert_eq!(msa(&exchange(&mut s, s12.as_bytes(), 1).await[0]).0, "AA");
    let chart = sim.practice().chart(PatientIndex(5)).unwrap();
    assert_eq!(chart.appointments.len(), appts + 1);
    let booked = chart
        .appointments
        .iter()
        .find(|a| a.appointment_date.to_string() == "2026-07-08")
        .unwrap();
    assert_eq!(booked.begin_time.hhmm(), "1030");
    let s15 = format!(
        "{}SCH|{}\rPID|1|{pn}|{mrn}^^^NextGen^MRN\r",
        msh("SIU^S15", "S15-1", "2.3", ""),
        booked.id
    );
    assert_eq!(msa(&exchange(&mut s, s15.as_bytes(), 1).await[0]).0, "AA");
    let chart = sim.practice().chart(PatientIndex(5)).unwrap();
    assert!(
        chart
            .appointments
            .iter()
            .find(|a| a.id == booked.id)
            .unwrap()
            .is_cancelled
    );
    // VXU adds an immunization, DFT a pending charge in the holding tank.
    let vxu = format!(
        "{}PID|1|{pn}\rRXA|0|1|20260701|20260701|08^HepB^CVX|0.5|||||||||LOT9||MSD^Merck^MVX\r",
        msh("VXU^V04", "V1", "2.3", "")
    );
    assert_eq!(msa(&exchange(&mut s, vxu.as_bytes(), 1).await[0]).0, "AA");
    assert!(
        sim.practice()
            .chart(PatientIndex(5))
            .unwrap()
            .immunizations
            .iter()
            .any(|i| i.lot_number == "LOT9")
    );
    let pending = sim.practice().pending_charges().len();
    let dft = format!(
        "{}PID|1|{pn}\rFT1|1|||20260701||CG||||1|125.00||||||||||||||99213^Office visit^CPT\r",
        msh("DFT^P03", "D1", "2.3", "")
    );
    assert_eq!(msa(&exchange(&mut s, dft.as_bytes(), 1).await[0]).0, "AA");
    let tank = sim.practice().pending_charges();
    assert_eq!(tank.len(), pending + 1);
    assert_eq!(
        (
            tank.last().unwrap().cpt.code.as_ref(),
            tank.last().unwrap().amount_cents
        ),
        ("99213", 12500)
    );
}

#[tokio::test]
async fn many_connections_at_once() {
    let sim = sim_with("nge-5.9.0").await;
    let (mrn, _, _) = patient(&sim, 7);
    let mut tasks = Vec::new();
    for c in 0..8 {
        let addr = sim.mllp_addr().unwrap();
        let mrn = mrn.clone();
        tasks.push(tokio::spawn(async move {
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            for k in 0..5 {
                let id = format!("C{c}-{k}");
                let acks = exchange(&mut s, &oru(&mrn, &id), 1).await;
                assert_eq!(msa(&acks[0]).1, id);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    eventually(|| entries(&sim, Surface::MllpIn).len() == 40).await;
}

/// A duplicate racing its original on other connections is processed once:
/// every connection gets the same stored ACK, the practice changes once per
/// control id, and the journal has one processing entry per control id.
/// The senders are plain threads released together by a barrier, so the
/// listener's tasks handle the copies at the same time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn duplicate_racing_on_several_connections_is_processed_once() {
    const ROUNDS: usize = 300;
    const CONNS: usize = 4;
    let sim = sim_with("nge-5.9.0").await;
    let (mrn, _, _) = patient(&sim, 9);
    let before = observations(&sim, 9);
    let addr = sim.mllp_addr().unwrap();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(CONNS));
    let senders: Vec<_> = (0..CONNS)
        .map(|_| {
            let (barrier, mrn) = (barrier.clone(), mrn.clone());
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let mut s = std::net::TcpStream::connect(addr).unwrap();
                s.set_nodelay(true).unwrap();
                s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
                    .unwrap();
                let mut acks = Vec::new();
                for k in 0..ROUNDS {
                    let framed = frame(&oru(&mrn, &format!("RACE-{k}")));
                    barrier.wait();
                    s.write_all(&framed).unwrap();
                    let mut got = Vec::new();
                    let mut b = [0u8; 2048];
                    while !got.ends_with(&[0x1C, 0x0D]) {
                        let n = s.read(&mut b).unwrap();
                        assert!(n > 0, "closed in round {k}");
                        got.extend_from_slice(&b[..n]);
                    }
                    acks.push(got);
                }
                acks
            })
        })
        .collect();
    let acks: Vec<Vec<Vec<u8>>> = tokio::task::spawn_blocking(move || {
        senders.into_iter().map(|t| t.join().unwrap()).collect()
    })
    .await
    .unwrap();
    for k in 0..ROUNDS {
        for c in 1..CONNS {
            assert_eq!(
                String::from_utf8_lossy(&acks[c][k]),
                String::from_utf8_lossy(&acks[0][k]),
                "round {k}: the same stored ACK bytes"
            );
        }
        assert_eq!(msa(&acks[0][k][1..acks[0][k].len() - 2]).0, "AA");
    }
    assert_eq!(observations(&sim, 9), before + ROUNDS, "one change per id");
    eventually(|| entries(&sim, Surface::MllpIn).len() == CONNS * ROUNDS).await;
    let mut accepted = std::collections::HashMap::<String, usize>::new();
    let mut duplicates = 0;
    for e in entries(&sim, Surface::MllpIn) {
        let x = e.mllp().unwrap();
        match x.outcome.as_str() {
            "accepted" => {
                *accepted
                    .entry(x.msh10.as_deref().unwrap().to_owned())
                    .or_default() += 1
            }
            "duplicate" => duplicates += 1,
            other => panic!("unexpected outcome {other}"),
        }
    }
    assert_eq!(accepted.len(), ROUNDS);
    assert!(
        accepted.values().all(|n| *n == 1),
        "one processing entry per id"
    );
    assert_eq!(duplicates, (CONNS - 1) * ROUNDS);
}

/// Frames pipelined in one write are each ACKed once, in order, and each
/// journaled once (the listener writes their ACKs together).
#[tokio::test]
async fn pipelined_frames_are_each_acked_once_in_order() {
    let sim = sim_with("nge-5.9.0").await;
    let (mrn, _, _) = patient(&sim, 8);
    let ids: Vec<String> = (0..20).map(|k| format!("PIPE-{k}")).collect();
    let mut burst = Vec::new();
    for id in &ids {
        burst.extend_from_slice(&frame(&oru(&mrn, id)));
    }
    let mut s = connect(&sim).await;
    tokio::io::AsyncWriteExt::write_all(&mut s, &burst)
        .await
        .unwrap();
    let acks = read_frames(&mut s, ids.len()).await;
    let echoed: Vec<String> = acks.iter().map(|a| msa(a).1).collect();
    assert_eq!(echoed, ids);
    eventually(|| entries(&sim, Surface::MllpIn).len() == ids.len()).await;
    let journaled: Vec<String> = entries(&sim, Surface::MllpIn)
        .iter()
        .map(|e| e.mllp().unwrap().msh10.as_deref().unwrap().to_owned())
        .collect();
    assert_eq!(journaled, ids);
}
