//! HL7 v2 hot paths: parse plus every-field walk (ours vs hl7-parser 0.3.0)
//! over the committed 5-message corpus, ACK building, and MLLP decoding.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use simulator::hl7::ack::{self, Ack};
use simulator::hl7::mllp::{self, Framer};
use simulator::hl7::parse::ParseBuffer;
use simulator::hl7::{AckCode, Message, ParseOptions, SequentialIds};

fn corpus() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/hl7v2/corpus");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("fixtures/hl7v2/corpus")
        .map(|e| e.expect("dir entry").path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|f| std::fs::read(f).expect("corpus file"))
        .collect()
}

#[inline(never)]
fn ours(buffer: ParseBuffer, bytes: &[u8]) -> (usize, ParseBuffer) {
    let m = Message::parse_in(bytes, ParseOptions::default(), buffer).expect("corpus parses");
    let mut n = 0;
    for seg in m.segments() {
        for field in seg.fields() {
            for rep in field.repetitions() {
                for comp in rep.components() {
                    for sub in comp.subcomponents() {
                        n += sub.len();
                    }
                }
            }
        }
    }
    (n, m.into_buffer())
}

#[inline(never)]
fn theirs(text: &str) -> usize {
    let m = hl7_parser::Message::parse(text).expect("corpus parses");
    let mut n = 0;
    for seg in m.segments() {
        for field in seg.fields() {
            for rep in field.repeats() {
                for comp in rep.components() {
                    for sub in comp.subcomponents() {
                        n += sub.raw_value().len();
                    }
                }
            }
        }
    }
    n
}

fn parse_walk(c: &mut Criterion) {
    let corpus = corpus();
    let total: usize = corpus.iter().map(Vec::len).sum();
    let texts: Vec<&str> = corpus
        .iter()
        .map(|b| std::str::from_utf8(b).expect("ASCII corpus"))
        .collect();
    let mut group = c.benchmark_group("parse_walk");
    group.throughput(Throughput::Bytes(total as u64));
    group.bench_function("ngsim", |b| {
        let mut buffer = Some(ParseBuffer::default());
        b.iter(|| {
            let mut n = 0;
            for bytes in &corpus {
                let (k, buf) = ours(buffer.take().unwrap_or_default(), black_box(bytes));
                buffer = Some(buf);
                n += k;
            }
            n
        });
    });
    group.bench_function("ngsim_fresh_alloc", |b| {
        b.iter(|| {
            corpus
                .iter()
                .map(|bytes| ours(ParseBuffer::default(), black_box(bytes)).0)
                .sum::<usize>()
        });
    });
    group.bench_function("hl7-parser", |b| {
        b.iter(|| texts.iter().map(|t| theirs(black_box(t))).sum::<usize>());
    });
    group.finish();
}

fn ack_build(c: &mut Criterion) {
    let corpus = corpus();
    let m = Message::parse(&corpus[0]).expect("corpus parses");
    let spec = Ack {
        code: AckCode::AA,
        text: None,
        error: None,
        timestamp: "20250101120000",
    };
    let mut ids = SequentialIds::new("ACK", 1);
    let mut out = Vec::with_capacity(512);
    c.bench_function("ack_build", |b| {
        b.iter(|| {
            out.clear();
            ack::write_ack(black_box(&m), &spec, &mut ids, &mut out);
            out.len()
        });
    });
}

fn mllp_decode(c: &mut Criterion) {
    let mut stream = Vec::new();
    for bytes in &corpus() {
        mllp::frame_into(bytes, &mut stream);
    }
    let mut group = c.benchmark_group("mllp_decode");
    group.throughput(Throughput::Bytes(stream.len() as u64));
    group.bench_function("corpus_stream", |b| {
        b.iter(|| {
            let mut framer = Framer::default();
            let mut rest = black_box(&stream[..]);
            let mut n = 0;
            while let Ok(step) = framer.decode(rest) {
                if let Some((_, range)) = step.frame {
                    n += range.len();
                }
                if step.consumed == 0 {
                    break;
                }
                rest = &rest[step.consumed..];
            }
            n
        });
    });
    group.finish();
}

criterion_group!(benches, parse_walk, ack_build, mllp_decode);
criterion_main!(benches);
