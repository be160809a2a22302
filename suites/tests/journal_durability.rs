//! Journal durability: `kill -9` during a run leaves a journal file that is
//! valid JSONL up to its last complete line, in sequence order, losing at most
//! the entries of the last flush interval (10 ms) before the kill.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn kill_9_leaves_valid_jsonl_up_to_the_last_complete_line() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ngsim"))
        .args([
            "serve",
            "--http",
            "127.0.0.1:0",
            "--mllp",
            "127.0.0.1:0",
            "--patients",
            "10",
            "--journal",
        ])
        .arg(&journal)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut http = String::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(v) = line.trim_start().strip_prefix("HTTP ") {
            http = v.trim().to_owned();
        }
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    assert!(!http.is_empty());

    // Traffic from a background thread until the kill.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (url, flag) = (format!("{http}/_ngsim/health"), stop.clone());
    let sent = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let c = reqwest::Client::new();
            let mut n = 0u64;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                if c.get(&url).send().await.is_ok() {
                    n += 1;
                }
            }
            n
        })
    });
    std::thread::sleep(Duration::from_millis(400));
    let pid = i32::try_from(child.id()).unwrap();
    #[allow(unsafe_code)]
    // SAFETY: kill(2) on our own child with a standard signal.
    let rc = unsafe { libc::kill(pid, libc::SIGKILL) };
    assert_eq!(rc, 0);
    let status = child.wait().unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let answered = sent.join().unwrap();
    assert!(status.code().is_none(), "killed by a signal");

    let bytes = std::fs::read(&journal).unwrap();
    // Everything up to the last newline is complete lines; after it at most a
    // torn tail, which a reader drops.
    let complete = &bytes[..bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)];
    let mut last_seq = 0;
    let mut lines = 0u64;
    for line in complete.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let e: simulator::journal::Entry = serde_json::from_slice(line)
            .unwrap_or_else(|err| panic!("line {lines} is not a journal entry: {err}"));
        assert!(e.seq > last_seq, "sequence order");
        last_seq = e.seq;
        lines += 1;
    }
    assert!(lines > 0, "entries reached the file before the kill");
    // The health requests that got an answer were journaled before the answer
    // left; the file may miss only the last flush interval's worth.
    assert!(
        lines <= answered + 1,
        "no invented entries: {lines} lines for {answered} answers"
    );
}
