//! Single-use secrets sent by email (invitation and password-reset links). The link carries
//! 32 random bytes as hex (Twenty's format); the directory stores only their SHA-256, so a
//! leaked database does not hand out working links.

use sha2::{Digest, Sha256};

/// Random bytes in a token: 256 bits, as Twenty's `crypto.randomBytes(32)`.
const TOKEN_BYTES: usize = 32;

/// A fresh token: `(plain, hash)`. The plain value goes into the email only.
pub fn issue() -> Result<(String, String), String> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::getrandom(&mut bytes).map_err(|e| format!("random: {e}"))?;
    let plain = hex::encode(bytes);
    let hash = hash(&plain);
    Ok((plain, hash))
}

/// What the directory stores for a token.
pub fn hash(plain: &str) -> String {
    hex::encode(Sha256::digest(plain.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex_and_stored_only_as_their_hash() {
        let (a, ha) = issue().unwrap();
        let (b, _) = issue().unwrap();
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert_eq!(ha, hash(&a));
        assert_ne!(ha, a);
        // The well-known SHA-256 of "abc".
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
