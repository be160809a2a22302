//! Feed arbitrary bytes to the MLLP framer in chunks whose sizes come from
//! the input; frames must lie inside the buffer and respect the cap, and
//! the framer must always make progress.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod hl7_module;
use hl7_module::hl7::mllp::Framer;

fuzz_target!(|data: &[u8]| {
    let Some((&control, data)) = data.split_first() else { return };
    let max = usize::from(control);
    let chunk = usize::from(control % 7) + 1;
    let mut framer = Framer::new(max);
    let mut buf = Vec::new();
    for piece in data.chunks(chunk) {
        buf.extend_from_slice(piece);
        for _ in 0..=buf.len() * 2 + 4 {
            match framer.decode(&buf) {
                Ok(step) => {
                    assert!(step.consumed <= buf.len());
                    assert!(step.skipped <= step.consumed);
                    if let Some((_, range)) = &step.frame {
                        assert!(range.end <= step.consumed && range.len() <= max);
                    }
                    buf.drain(..step.consumed);
                    if step.consumed == 0 {
                        break;
                    }
                }
                Err(_) => {}
            }
        }
    }
});
