//! HL7 v2 core: a zero-copy parser, escapes, an owned builder and encoder,
//! ACK building and reading, MLLP framing and message generators.
//!
//! One concept per file:
//! - [`delim`]: the delimiter set read from MSH-1/MSH-2.
//! - [`parse`]: the zero-copy [`Message`] view and its strict/lenient scanner.
//! - [`path`]: field paths such as `PID-3[2].1` or `OBX[5]-5`.
//! - [`escape`]: escape decoding/encoding and MSH-18 character sets.
//! - [`build`] and [`encode`]: the owned [`MessageBuilder`] and its wire form.
//! - [`ack`]: ACK/NAK construction (original and enhanced mode) and reading.
//! - [`mllp`]: MLLP Release 1 framing plus Release 2 commit blocks.
//! - [`generators`]: deterministic NextGen-shaped generators and adversarial mutations.
//! - [`error`]: the error enums with byte offsets.

pub mod ack;
pub mod build;
pub mod delim;
pub mod encode;
pub mod error;
pub mod escape;
pub mod generators;
pub mod mllp;
pub mod parse;
pub mod path;

pub use ack::{
    Ack, AckCode, AckMode, AckPolicy, ControlIds, ErrorDetail, ErrorLocation, SequentialIds,
};
pub use build::{MessageBuilder, SegmentBuilder};
pub use delim::Delimiters;
pub use error::{EncodeError, ParseError, PathError};
pub use escape::Charset;
pub use mllp::{FrameKind, Framer, MllpCodec, MllpError, MllpFrame};
pub use parse::{Component, Field, Message, ParseBuffer, ParseOptions, Repetition, Segment};
pub use path::Path;
