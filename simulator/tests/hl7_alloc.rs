//! Allocation count of parsing plus walking every field, repetition,
//! component and subcomponent of the corpus: one `Vec` per message (the
//! segment spans), none with a recycled buffer, independent of field count.
//!
//! A counting `#[global_allocator]` needs `unsafe impl GlobalAlloc`; this
//! test binary is the one place `unsafe_code` is allowed.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use simulator::hl7::parse::ParseBuffer;
use simulator::hl7::{Message, ParseOptions};

struct Counting;

thread_local! {
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let before = COUNT.with(Cell::get);
    let out = f();
    (COUNT.with(Cell::get) - before, out)
}

fn corpus() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/hl7v2/corpus");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|f| std::fs::read(f).unwrap())
        .collect()
}

/// Walks everything and decodes every value (escape-free values borrow).
fn walk(m: &Message<'_>) -> (usize, usize) {
    let (mut values, mut bytes) = (0, 0);
    for seg in m.segments() {
        for field in seg.fields() {
            for rep in field.repetitions() {
                for comp in rep.components() {
                    for sub in comp.subcomponents() {
                        values += 1;
                        bytes += sub.len();
                    }
                }
            }
        }
    }
    (values, bytes)
}

#[test]
fn one_allocation_per_message_and_none_when_recycled() {
    let corpus = corpus();
    assert_eq!(corpus.len(), 5);
    let mut total_values = 0;
    for bytes in &corpus {
        let (n, (values, _)) = allocations(|| {
            let m = Message::parse(bytes).unwrap();
            walk(&m)
        });
        assert!(values > 50);
        total_values += values;
        assert_eq!(n, 1, "a fresh parse allocates only the span Vec");
    }
    assert!(total_values > 1000, "{total_values} values walked");

    // Recycle the span buffer: after warm-up, zero allocations.
    let mut buffer = ParseBuffer::default();
    for bytes in &corpus {
        buffer = Message::parse_in(bytes, ParseOptions::default(), buffer)
            .unwrap()
            .into_buffer();
    }
    for bytes in &corpus {
        let (n, b) = allocations(|| {
            let m = Message::parse_in(bytes, ParseOptions::default(), buffer).unwrap();
            walk(&m);
            m.into_buffer()
        });
        buffer = b;
        assert_eq!(n, 0, "a recycled parse allocates nothing");
    }
}

#[test]
fn decoding_escape_free_values_does_not_allocate() {
    let msg = b"MSH|^~\\&|APP|FAC\rPID|1||42^^^NextGen^MRN||DOE^JANE\r";
    let m = Message::parse(msg).unwrap();
    let (n, total) = allocations(|| {
        let mut total = 0;
        for seg in m.segments() {
            for field in seg.fields().skip(2) {
                total += field.decoded().len();
            }
        }
        total
    });
    assert!(total > 0);
    assert_eq!(n, 0);
}
