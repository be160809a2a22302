//! A tiny hand-written SplitMix64 generator and the bijective mixer behind it.
//!
//! The practice must render byte-identical output for a given seed forever, so
//! it must not depend on a third-party RNG whose stream may change between
//! versions. SplitMix64 is ten lines, well studied and fast enough.

/// The SplitMix64 finaliser. It is a bijection on `u64`; [`unmix`] inverts it.
#[inline]
pub const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Multiplicative inverse of an odd number modulo 2^64 (Newton's iteration).
const fn inverse_odd(c: u64) -> u64 {
    let mut inv = c;
    let mut i = 0;
    while i < 6 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(c.wrapping_mul(inv)));
        i += 1;
    }
    inv
}

const INV1: u64 = inverse_odd(0xBF58_476D_1CE4_E5B9);
const INV2: u64 = inverse_odd(0x94D0_49BB_1331_11EB);

/// Inverse of [`mix`].
#[inline]
pub const fn unmix(mut z: u64) -> u64 {
    z ^= (z >> 31) ^ (z >> 62);
    z = z.wrapping_mul(INV2);
    z ^= (z >> 27) ^ (z >> 54);
    z = z.wrapping_mul(INV1);
    z ^ (z >> 30) ^ (z >> 60)
}

/// Hash of two words; used to derive independent sub-streams and check values.
#[inline]
pub const fn hash2(a: u64, b: u64) -> u64 {
    mix(mix(a ^ 0x6A09_E667_F3BC_C908) ^ b)
}

/// SplitMix64 stream.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub const fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform-ish in `0..n` (multiply-shift; the bias is far below anything visible).
    #[inline]
    pub fn below(&mut self, n: u32) -> u32 {
        (((self.next_u64() >> 32) * u64::from(n)) >> 32) as u32
    }

    /// Uniform in `lo..=hi`.
    #[inline]
    pub fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `pct` percent.
    #[inline]
    pub fn percent(&mut self, pct: u32) -> bool {
        self.below(100) < pct
    }

    #[inline]
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u32) as usize]
    }

    /// Pick from `(weight, item)` pairs.
    pub fn weighted<'a, T>(&mut self, items: &'a [(u32, T)]) -> &'a T {
        &items[self.weighted_index(items.iter().map(|(w, _)| *w))].1
    }

    /// Index drawn with probability proportional to its weight.
    pub fn weighted_index(&mut self, weights: impl Iterator<Item = u32> + Clone) -> usize {
        let total: u32 = weights.clone().sum();
        let mut x = self.below(total);
        let mut last = 0;
        for (i, w) in weights.enumerate() {
            if x < w {
                return i;
            }
            x -= w;
            last = i;
        }
        last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmix_inverts_mix() {
        for x in [0u64, 1, 42, u64::MAX, 0xDEAD_BEEF_1234_5678] {
            assert_eq!(unmix(mix(x)), x);
        }
    }

    #[test]
    fn stream_is_stable() {
        // Pinned values: a change here changes every generated practice.
        let mut r = Rng::new(42);
        assert_eq!(r.next_u64(), mix(42u64.wrapping_add(0x9E37_79B9_7F4A_7C15)));
        assert!(r.below(10) < 10);
    }
}
