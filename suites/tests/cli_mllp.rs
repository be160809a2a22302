//! `ngsim serve`'s MLLP socket-limit flags, proven on the running process.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Start `ngsim serve` with `extra` flags; returns the child and its MLLP address.
fn serve(extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ngsim"))
        .args(["serve", "--http", "127.0.0.1:0", "--mllp", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut mllp = None;
    for line in lines {
        let line = line.unwrap();
        if let Some(addr) = line.trim_start().strip_prefix("MLLP ") {
            mllp = Some(addr.trim().to_owned());
        }
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    (child, mllp.expect("an MLLP line in the banner"))
}

/// A framed ORU^R01 of at least `size` bytes.
fn oru(id: &str, size: usize) -> Vec<u8> {
    let mut m = format!(
        "MSH|^~\\&|LABSYS|LABFAC|NextGen|NGSIM|20260701120000||ORU^R01|{id}|P|2.3\rPID|1||1^^^NextGen^MRN\rOBR|1|P1|F1|2345-7^Glucose^LN\r"
    );
    while m.len() < size {
        m.push_str("NTE|1||a long free-text comment to make the frame large\r");
    }
    let mut framed = vec![0x0B];
    framed.extend_from_slice(m.as_bytes());
    framed.extend_from_slice(&[0x1C, 0x0D]);
    framed
}

#[test]
fn max_frame_bytes_flag_gets_an_ar_nak_and_a_close() {
    let (mut child, addr) = serve(&["--mllp-max-frame-bytes", "1024"]);
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(&oru("BIG-1", 4000)).unwrap();
    // Everything until the listener closes the connection.
    let mut got = Vec::new();
    let closed = s.read_to_end(&mut got).is_ok();
    let text = String::from_utf8_lossy(&got).replace('\r', "\n");
    assert!(
        text.starts_with('\u{b}') && text.ends_with("\u{1c}\n"),
        "{text:?}"
    );
    assert!(
        text.contains("\nMSA|AR|BIG-1"),
        "an AR NAK for MSH-10: {text}"
    );
    assert!(text.contains("1024"), "the limit named in the NAK: {text}");
    assert!(closed, "then the connection is closed");
    // A frame under the limit is served as usual.
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(&oru("SMALL-1", 200)).unwrap();
    let mut b = [0u8; 4096];
    let mut got = Vec::new();
    while !got.ends_with(&[0x1C, 0x0D]) {
        let n = s.read(&mut b).unwrap();
        assert!(n > 0, "closed before the ACK");
        got.extend_from_slice(&b[..n]);
    }
    assert!(String::from_utf8_lossy(&got).contains("MSA|A"), "an ACK");
    assert!(!String::from_utf8_lossy(&got).contains("1024"));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn mllp_limit_flags_are_documented_and_checked() {
    let out = Command::new(env!("CARGO_BIN_EXE_ngsim"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--mllp-max-connections",
        "--mllp-idle-timeout",
        "--mllp-frame-timeout",
        "--mllp-write-timeout",
        "--mllp-max-frame-bytes",
        "--hl7-destination-ca",
    ] {
        assert!(help.contains(flag), "{flag} in --help");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_ngsim"))
        .args(["serve", "--http", "127.0.0.1:0", "--mllp", "127.0.0.1:0"])
        .args(["--hl7-destination", "mllps://127.0.0.1:9"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "an mllps destination without a CA is bad input"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a CA"));
}
