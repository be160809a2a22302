use std::time::Duration;

use super::*;

fn event(j: &Journal, name: &str) -> u64 {
    j.record(
        Surface::Control,
        None,
        Detail::Event {
            name: name.into(),
            notes: vec![],
        },
    )
}

fn name(e: &Entry) -> &str {
    match &e.detail {
        Detail::Event { name, .. } => name,
        _ => "",
    }
}

#[test]
fn sequence_is_monotonic_and_bounded() {
    let j = Journal::new(3);
    let seqs: Vec<u64> = (0..5).map(|i| event(&j, &format!("e{i}"))).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    let kept: Vec<u64> = j.snapshot().iter().map(|e| e.seq).collect();
    assert_eq!(kept, [3, 4, 5]);
    let st = j.stats();
    assert_eq!(
        (st.first_seq, st.next_seq, st.evicted, st.capacity),
        (3, 6, 2, 3)
    );
    // Asking from an evicted sequence starts at the oldest kept entry.
    assert_eq!(j.entries(1, 10, |_| true).len(), 3);
    assert_eq!(j.entries(5, 10, |_| true).len(), 1);
    assert_eq!(j.entries(6, 10, |_| true).len(), 0);
}

#[tokio::test(start_paused = true)]
async fn wait_for_wakes_on_a_matching_entry() {
    let j = Journal::new(100);
    event(&j, "before");
    let j2 = j.clone();
    let waiter = tokio::spawn(async move {
        j2.wait_for(2, Duration::from_secs(5), |e| name(e) == "target")
            .await
    });
    tokio::task::yield_now().await;
    event(&j, "other");
    event(&j, "target");
    let hit = waiter.await.unwrap().expect("found");
    assert_eq!((hit.seq, name(&hit)), (3, "target"));
}

#[tokio::test(start_paused = true)]
async fn wait_for_times_out_on_virtual_time() {
    let j = Journal::new(100);
    event(&j, "target");
    // Entries before `since` do not count.
    let r = j
        .wait_for(2, Duration::from_secs(30), |e| name(e) == "target")
        .await;
    assert!(r.is_none());
}

#[test]
fn file_sink_writes_every_entry_as_jsonl() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let j = Journal::with_file(2, &path).unwrap();
    for i in 0..50 {
        event(&j, &format!("e{i}"));
    }
    j.flush();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<Entry> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 50, "the file keeps what memory evicts");
    assert!(lines.windows(2).all(|w| w[0].seq + 1 == w[1].seq));
}
