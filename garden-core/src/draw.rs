//! Deterministic draws: a text hashed to a number in [0, 1), the same on every run and platform.
//! Experiments assign conversations to arms with it, comparisons pick sides, and exports pick the
//! validation split.

use sha2::{Digest, Sha256};

/// The first 53 bits of SHA-256 over `parts` (concatenated), as a fraction of 2⁵³: uniform in
/// [0, 1) and exactly representable as an f64.
pub fn unit_interval(parts: &[&[u8]]) -> f64 {
    let mut sha = Sha256::new();
    for p in parts {
        sha.update(p);
    }
    let digest = sha.finalize();
    let mut top = [0u8; 8];
    top.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(top) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_and_uniform() {
        // sha256("e:s") starts 12101e85ce9aeb13: a draw must not change across versions (a
        // conversation stays in its arm, a split keeps its examples).
        assert_eq!(unit_interval(&[b"e:s"]), 0.07055845991872511);
        assert_eq!(unit_interval(&[b"e", b":", b"s"]), unit_interval(&[b"e:s"]));
        let below = (0..10_000).filter(|i| unit_interval(&[b"exp:", i.to_string().as_bytes()]) < 0.5).count();
        assert!((4_800..5_200).contains(&below), "{below}");
    }
}
