//! proptest strategies (feature `proptest`), for users who fuzz their own
//! parsers and for ngsim's own property tests.

use proptest::prelude::*;

use super::super::build::{MessageBuilder, SegmentBuilder};
use super::super::delim::Delimiters;
use super::context::{MessageContext, sample_context};
use super::messages::{MessageType, generate};
use super::mutate::{Mutation, mutate};
use super::rng::Rng;

/// Any generator message type.
pub fn message_type() -> impl Strategy<Value = MessageType> {
    proptest::sample::select(MessageType::ALL.to_vec())
}

/// A synthetic context.
pub fn context() -> impl Strategy<Value = MessageContext> {
    (any::<u64>(), any::<u64>()).prop_map(|(seed, index)| sample_context(seed, index))
}

/// A valid NextGen-shaped message of any type.
pub fn nextgen_message() -> impl Strategy<Value = MessageBuilder> {
    (message_type(), context()).prop_map(|(t, c)| generate(t, &c))
}

/// A valid NextGen-shaped message of any type drawn from a small synthetic
/// practice (seed and patient drawn too): real practice patients, visits,
/// results, appointments, vaccinations and charges.
#[cfg(not(ngsim_hl7_only))]
pub fn practice_message() -> impl Strategy<Value = MessageBuilder> {
    (message_type(), 0u64..32, 0u64..100).prop_map(|(t, seed, index)| {
        let practice = crate::practice::Practice::new(crate::practice::PracticeConfig {
            seed,
            patients: 100,
            ..crate::practice::PracticeConfig::default()
        });
        super::corpus::practice_message(&practice, t, index).expect("the practice has patients")
    })
}

/// A mutated NextGen-shaped message (bytes that may or may not parse).
pub fn mutated_message() -> impl Strategy<Value = Vec<u8>> {
    let mutation = proptest::sample::select(Mutation::ALL.to_vec());
    (nextgen_message(), mutation, any::<u64>())
        .prop_map(|(b, m, seed)| mutate(&b, m, &mut Rng::new(seed)))
}

/// A valid delimiter set (sometimes with the v2.7 fifth character).
pub fn delimiters() -> impl Strategy<Value = Delimiters> {
    let punct: Vec<u8> = (0x21u8..0x7F).filter(u8::is_ascii_punctuation).collect();
    (
        proptest::sample::subsequence(punct, 6),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(|(mut set, five, seed)| {
            let mut rng = Rng::new(seed);
            for i in (1..set.len()).rev() {
                set.swap(i, rng.below(i + 1));
            }
            let n = if five { 5 } else { 4 };
            Delimiters::from_msh(set[0], &set[1..=n]).expect("distinct punctuation")
        })
}

/// Any value, including delimiters, control bytes and invalid UTF-8.
pub fn value_bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![
            4 => b'a'..=b'z',
            1 => proptest::sample::select(b"|^~\\&#\r\n\x00\x0b\x1c \xe9\xff".to_vec()),
            1 => any::<u8>(),
        ],
        0..12,
    )
}

/// A printable-ASCII value without delimiter characters (for comparing
/// raw values with other parsers).
pub fn plain_ascii() -> impl Strategy<Value = String> {
    "[A-Za-z0-9 .,:;()/-]{0,10}"
}

fn segment_id() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec!["PID", "PV1", "OBX", "NTE", "ZPI", "IN1"])
            .prop_map(str::to_owned),
        "[A-Z][A-Z0-9]{2}".prop_filter("not MSH", |s| s != "MSH"),
    ]
}

/// `(path within a segment, value)` pairs at every level, fields from `first`.
fn writes<V: Strategy>(value: V, first: usize) -> impl Strategy<Value = Vec<(String, V::Value)>> {
    let rep = proptest::option::of(1usize..3);
    let comp = proptest::option::of((1usize..4, proptest::option::of(1usize..3)));
    let spec = (first..first + 7, rep, comp).prop_map(|(f, r, c)| {
        let mut s = f.to_string();
        if let Some(r) = r {
            s.push_str(&format!("[{r}]"));
        }
        if let Some((c, sub)) = c {
            s.push_str(&format!(".{c}"));
            if let Some(sub) = sub {
                s.push_str(&format!(".{sub}"));
            }
        }
        s
    });
    proptest::collection::vec((spec, value), 0..6)
}

type Writes<V> = Vec<(String, V)>;

/// Applies MSH writes, then appends each segment and applies its writes.
fn assemble<V>(
    mut b: MessageBuilder,
    msh: Writes<V>,
    segs: Vec<(String, Writes<V>)>,
    new_segment: fn(&str) -> SegmentBuilder,
    set: impl Fn(&mut MessageBuilder, &str, &V),
) -> MessageBuilder {
    for (spec, v) in msh {
        set(&mut b, &format!("MSH-{spec}"), &v);
    }
    for (id, writes) in segs {
        let n = b
            .segments()
            .iter()
            .filter(|s| s.id() == id.as_bytes())
            .count()
            + 1;
        b.push(new_segment(&id));
        for (spec, v) in writes {
            set(&mut b, &format!("{id}[{n}]-{spec}"), &v);
        }
    }
    b
}

/// An arbitrary message: any delimiters, segments and values (escaped).
pub fn arbitrary_message() -> impl Strategy<Value = MessageBuilder> {
    let segs = proptest::collection::vec((segment_id(), writes(value_bytes(), 1)), 0..6);
    (delimiters(), writes(value_bytes(), 3), segs).prop_map(|(d, msh, segs)| {
        let new = |id: &str| SegmentBuilder::new(id).expect("generated id");
        assemble(
            MessageBuilder::with_delimiters(d),
            msh,
            segs,
            new,
            |b, p, v| {
                b.set_bytes(p, v).expect("generated path");
            },
        )
    })
}

/// A well-formed ASCII message with default delimiters, 4 encoding
/// characters and delimiter-free values (the subset other parsers agree on).
pub fn well_formed_ascii() -> impl Strategy<Value = MessageBuilder> {
    let segs = proptest::collection::vec((segment_id(), writes(plain_ascii(), 1)), 1..6);
    (writes(plain_ascii(), 3), segs).prop_map(|(msh, segs)| {
        let mut b = MessageBuilder::new();
        b.set("MSH-3", "APP").expect("static path");
        // hl7-parser 0.3.0 silently stops at a segment with no fields, so
        // every segment here has field 1.
        let new = |id: &str| SegmentBuilder::new(id).expect("generated id").push_raw("1");
        assemble(b, msh, segs, new, |b, p, v| {
            b.set(p, v).expect("generated path");
        })
    })
}
