//! A fast non-cryptographic hasher (FxHash, as in rustc) for the maps of
//! keys the guest keeps; keys come from the host, which already spreads
//! them over workers, and no map is exposed to an attacker choosing keys
//! to slow the guest down more than the input itself could.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FxHash: one multiply per word.
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.hash = (self.hash.rotate_left(5) ^ w).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, mut b: &[u8]) {
        while b.len() >= 8 {
            let mut a = [0u8; 8];
            a.copy_from_slice(&b[..8]);
            self.add(u64::from_le_bytes(a));
            b = &b[8..];
        }
        if b.len() >= 4 {
            let mut a = [0u8; 4];
            a.copy_from_slice(&b[..4]);
            self.add(u32::from_le_bytes(a) as u64);
            b = &b[4..];
        }
        for &c in b {
            self.add(c as u64);
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    /// The multiply leaves the low bits of the hash weak (they depend
    /// only on the low bits of the words), and tables index by low bits:
    /// the rotation brings the well-mixed high bits down, as rustc-hash
    /// 2 does.
    #[inline]
    fn finish(&self) -> u64 {
        self.hash.rotate_left(26)
    }
}

/// A HashMap with FxHash.
pub type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;
