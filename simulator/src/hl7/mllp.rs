//! MLLP framing: Release 1 (`0x0B payload 0x1C 0x0D`) plus the Release 2
//! commit blocks (`0x0B 0x06 0x1C 0x0D` commit ACK, `0x0B 0x15 0x1C 0x0D`
//! commit NAK).
//!
//! [`Framer`] is a pure, incremental state machine over a caller-owned
//! buffer (no I/O, no tokio); [`MllpCodec`] wraps it as a
//! `tokio_util::codec::{Decoder, Encoder}`.
//!
//! Behaviour:
//! - Bytes before a start block are skipped and counted; the count is
//!   reported on the next frame ([`MllpFrame::skipped`]).
//! - Frames split across reads and several frames in one read are handled;
//!   an incomplete frame is never rescanned from its start.
//! - A payload longer than the maximum is [`MllpError::FrameTooLarge`]; the
//!   framer then drops bytes up to the end of that frame.
//! - `0x1C` not followed by `0x0D` is [`MllpError::BadEndBlock`]; the framer
//!   drops the frame up to and including that byte and resynchronises.

use std::ops::Range;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use memchr::memchr;
use tokio_util::codec::{Decoder, Encoder};

/// Start block.
pub const SB: u8 = 0x0B;
/// End block (followed by [`CR`]).
pub const EB: u8 = 0x1C;
/// Carriage return closing a frame.
pub const CR: u8 = 0x0D;
/// Release 2 commit acknowledgment payload.
pub const ACK: u8 = 0x06;
/// Release 2 negative commit acknowledgment payload.
pub const NAK: u8 = 0x15;

/// Default maximum payload size: 16 MiB.
pub const DEFAULT_MAX_FRAME: usize = 16 * 1024 * 1024;

/// What a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// An HL7 payload.
    Message,
    /// Release 2 commit ACK block (payload `0x06`).
    CommitAck,
    /// Release 2 commit NAK block (payload `0x15`).
    CommitNak,
}

impl FrameKind {
    fn of(payload: &[u8]) -> Self {
        match payload {
            [ACK] => Self::CommitAck,
            [NAK] => Self::CommitNak,
            _ => Self::Message,
        }
    }
}

/// A decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MllpFrame {
    /// Message or commit block.
    pub kind: FrameKind,
    /// The bytes between the start and end blocks (`[0x06]`/`[0x15]` for commit blocks).
    pub payload: Bytes,
    /// Garbage bytes skipped since the previous frame.
    pub skipped: usize,
}

impl MllpFrame {
    /// A message frame to encode.
    pub fn message(payload: impl Into<Bytes>) -> Self {
        Self {
            kind: FrameKind::Message,
            payload: payload.into(),
            skipped: 0,
        }
    }

    /// A Release 2 commit ACK block.
    pub fn commit_ack() -> Self {
        Self {
            kind: FrameKind::CommitAck,
            payload: Bytes::from_static(&[ACK]),
            skipped: 0,
        }
    }

    /// A Release 2 commit NAK block.
    pub fn commit_nak() -> Self {
        Self {
            kind: FrameKind::CommitNak,
            payload: Bytes::from_static(&[NAK]),
            skipped: 0,
        }
    }
}

/// MLLP errors.
#[derive(Debug, thiserror::Error)]
pub enum MllpError {
    /// A payload exceeded the configured maximum.
    #[error("MLLP frame exceeds the maximum payload size of {limit} bytes")]
    FrameTooLarge {
        /// The configured maximum.
        limit: usize,
    },
    /// An end block not followed by CR.
    #[error("MLLP end block 0x1C at payload offset {offset} is followed by 0x{found:02X}, not CR")]
    BadEndBlock {
        /// Offset of the 0x1C in the payload.
        offset: usize,
        /// The byte after it.
        found: u8,
    },
    /// The stream ended inside a frame.
    #[error("stream ended inside an MLLP frame ({bytes} bytes buffered)")]
    Truncated {
        /// Bytes buffered when the stream ended.
        bytes: usize,
    },
    /// Transport error.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// The result of one [`Framer::decode`] step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Bytes the caller must drop from the front of its buffer.
    pub consumed: usize,
    /// Of those, how many were garbage outside any frame.
    pub skipped: usize,
    /// A complete frame: its kind and payload range (relative to the buffer
    /// passed in, within `..consumed`).
    pub frame: Option<(FrameKind, Range<usize>)>,
}

impl Step {
    fn drop(n: usize) -> Self {
        Self {
            consumed: n,
            skipped: n,
            frame: None,
        }
    }
}

/// Incremental MLLP framer over a caller-owned buffer.
///
/// Call [`Framer::decode`] with the unconsumed bytes; drop `consumed` bytes
/// from the front; repeat while it consumes something or yields a frame;
/// then read more input.
#[derive(Debug, Clone)]
pub struct Framer {
    max_frame: usize,
    /// Bytes of the current frame already searched for the end block.
    scanned: usize,
    /// Dropping an oversized frame up to its end block.
    discarding: bool,
    /// Bytes to drop after a bad end block.
    pending_drop: usize,
}

impl Default for Framer {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_FRAME)
    }
}

impl Framer {
    /// A framer accepting payloads up to `max_frame` bytes.
    pub fn new(max_frame: usize) -> Self {
        Self {
            max_frame,
            scanned: 0,
            discarding: false,
            pending_drop: 0,
        }
    }

    /// True when a frame has started but not ended.
    pub fn in_frame(&self, buf: &[u8]) -> bool {
        buf.first() == Some(&SB) || self.discarding
    }

    /// One step over the unconsumed bytes.
    pub fn decode(&mut self, buf: &[u8]) -> Result<Step, MllpError> {
        if self.pending_drop > 0 {
            let n = self.pending_drop.min(buf.len());
            self.pending_drop -= n;
            return Ok(Step::drop(n));
        }
        if !self.discarding && buf.first() != Some(&SB) {
            return Ok(Step::drop(memchr(SB, buf).unwrap_or(buf.len())));
        }
        // In a frame, byte 0 is the start block; while discarding it may be
        // the end block kept back by the previous step.
        let from = if self.discarding {
            self.scanned
        } else {
            self.scanned.max(1)
        };
        let found = buf.get(from..).and_then(|rest| memchr(EB, rest));
        let Some(i) = found.map(|i| from + i) else {
            return self.incomplete(buf.len(), buf.len());
        };
        let Some(&after) = buf.get(i + 1) else {
            return self.incomplete(buf.len(), i);
        };
        self.scanned = 0;
        if self.discarding {
            // Drop through this end block, whatever follows it.
            self.discarding = false;
            return Ok(Step::drop(i + 1 + usize::from(after == CR)));
        }
        if after != CR {
            self.pending_drop = i + 1;
            return Err(MllpError::BadEndBlock {
                offset: i - 1,
                found: after,
            });
        }
        if i - 1 > self.max_frame {
            self.pending_drop = i + 2;
            return Err(MllpError::FrameTooLarge {
                limit: self.max_frame,
            });
        }
        Ok(Step {
            consumed: i + 2,
            skipped: 0,
            frame: Some((FrameKind::of(&buf[1..i]), 1..i)),
        })
    }

    /// No complete frame yet: remember how far we searched, enforce the cap.
    fn incomplete(&mut self, len: usize, searched: usize) -> Result<Step, MllpError> {
        if self.discarding {
            // Keep at most the byte that may be an end block.
            self.scanned = 0;
            return Ok(Step::drop(searched));
        }
        self.scanned = searched;
        if len - 1 > self.max_frame {
            self.discarding = true;
            self.scanned = 0;
            return Err(MllpError::FrameTooLarge {
                limit: self.max_frame,
            });
        }
        Ok(Step {
            consumed: 0,
            skipped: 0,
            frame: None,
        })
    }
}

/// Writes one Release 1 frame around `payload`.
pub fn frame_into(payload: &[u8], out: &mut Vec<u8>) {
    out.reserve(payload.len() + 3);
    out.push(SB);
    out.extend_from_slice(payload);
    out.extend_from_slice(&[EB, CR]);
}

/// `tokio_util` codec over [`Framer`].
#[derive(Debug, Clone, Default)]
pub struct MllpCodec {
    framer: Framer,
    skipped: usize,
}

impl MllpCodec {
    /// A codec accepting payloads up to `max_frame` bytes.
    pub fn new(max_frame: usize) -> Self {
        Self {
            framer: Framer::new(max_frame),
            skipped: 0,
        }
    }
}

impl Decoder for MllpCodec {
    type Item = MllpFrame;
    type Error = MllpError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<MllpFrame>, MllpError> {
        loop {
            let step = self.framer.decode(src)?;
            self.skipped += step.skipped;
            if let Some((kind, range)) = step.frame {
                let chunk = src.split_to(step.consumed).freeze();
                return Ok(Some(MllpFrame {
                    kind,
                    payload: chunk.slice(range),
                    skipped: std::mem::take(&mut self.skipped),
                }));
            }
            if step.consumed == 0 {
                return Ok(None);
            }
            src.advance(step.consumed);
        }
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<MllpFrame>, MllpError> {
        if let Some(frame) = self.decode(src)? {
            return Ok(Some(frame));
        }
        if src.is_empty() && !self.framer.discarding {
            return Ok(None);
        }
        let bytes = src.len();
        src.clear();
        self.framer = Framer::new(self.framer.max_frame);
        Err(MllpError::Truncated { bytes })
    }
}

impl Encoder<MllpFrame> for MllpCodec {
    type Error = MllpError;

    fn encode(&mut self, item: MllpFrame, dst: &mut BytesMut) -> Result<(), MllpError> {
        let payload: &[u8] = match item.kind {
            FrameKind::Message => &item.payload,
            FrameKind::CommitAck => &[ACK],
            FrameKind::CommitNak => &[NAK],
        };
        dst.reserve(payload.len() + 3);
        dst.put_u8(SB);
        dst.put_slice(payload);
        dst.put_slice(&[EB, CR]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(codec: &mut MllpCodec, input: &[u8]) -> Vec<Result<MllpFrame, String>> {
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(f)) => out.push(Ok(f)),
                Ok(None) => break,
                Err(e) => out.push(Err(e.to_string())),
            }
        }
        out
    }

    #[test]
    fn frames_garbage_and_commit_blocks() {
        let mut codec = MllpCodec::default();
        let input = b"junk\x0bMSH|a\x1c\r\x0b\x06\x1c\rxx\x0b\x15\x1c\r";
        let frames: Vec<_> = decode_all(&mut codec, input)
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[0].payload.as_ref(), b"MSH|a");
        assert_eq!((frames[0].kind, frames[0].skipped), (FrameKind::Message, 4));
        assert_eq!(frames[1].kind, FrameKind::CommitAck);
        assert_eq!(
            (frames[2].kind, frames[2].skipped),
            (FrameKind::CommitNak, 2)
        );
    }

    #[test]
    fn too_large_then_recovers() {
        let mut codec = MllpCodec::new(4);
        let mut buf = BytesMut::from(&b"\x0b0123456789"[..]);
        assert!(matches!(
            codec.decode(&mut buf),
            Err(MllpError::FrameTooLarge { limit: 4 })
        ));
        buf.extend_from_slice(b"abc\x1c\r\x0bok\x1c\r");
        let f = codec.decode(&mut buf).unwrap().unwrap();
        assert_eq!(f.payload.as_ref(), b"ok");
        assert_eq!(f.skipped, 16);
    }

    #[test]
    fn bad_end_block_resyncs() {
        let mut codec = MllpCodec::default();
        let out = decode_all(&mut codec, b"\x0bA\x1cB\x0bC\x1c\r");
        assert_eq!(out.len(), 2);
        assert!(out[0].as_ref().unwrap_err().contains("followed by 0x42"));
        assert_eq!(out[1].as_ref().unwrap().payload.as_ref(), b"C");
    }

    #[test]
    fn eof_inside_frame_is_truncated() {
        let mut codec = MllpCodec::default();
        let mut buf = BytesMut::from(&b"\x0bMSH"[..]);
        assert!(matches!(
            codec.decode_eof(&mut buf),
            Err(MllpError::Truncated { bytes: 4 })
        ));
        let mut enc = BytesMut::new();
        codec.encode(MllpFrame::commit_nak(), &mut enc).unwrap();
        assert_eq!(enc.as_ref(), b"\x0b\x15\x1c\r");
    }
}
