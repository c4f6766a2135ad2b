//! Apple's SRP-6a client (RFC 5054 2048-bit group, SHA-256, no user name inside `x`, password
//! pre-hashed with PBKDF2 as `s2k` or `s2k_fo`). The formulas are spelled out in
//! `icloud-protocol.md` §1.4; the fake server in the tests checks them independently.

use num_bigint::BigUint;
use sha2::{Digest, Sha256};

/// The RFC 5054 2048-bit prime.
const N_HEX: &str = "AC6BDB41324A9A9BF166DE5E1389582FAF72B6651987EE07FC3192943DB56050A37329CBB4A099ED8193E0757767A13DD52312AB4B03310DCD7F48A9DA04FD50E8083969EDB767B0CF6095179A163AB3661A05FBD5FAAAE82918A9962F0B93B855F97993EC975EEAA80D740ADBF4FF747359D041D5C33EA71D281E446B14773BCA97B43A23FB801676BD207A436C6481F1D2B9078717461A5B9D32E688F87748544523B524B0D57D5EA77A2775D2ECFA032CFBDBF52FB3786160279004E57AE6AF874E7303CE53299CCC041C7BC308D82A5698F3A8D0C38271AE35F8E9DBFBB694B5C803D89F7AE435DE236D525F54759B65E372FCD68EF20FA7111F9E4AFF73";

/// How Apple pre-hashes the password, as named in `signin/init`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// PBKDF2 over the raw SHA-256 digest.
    S2k,
    /// PBKDF2 over the lowercase hex of the SHA-256 digest.
    S2kFo,
}

impl Protocol {
    /// Parses the server's protocol name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "s2k" => Some(Self::S2k),
            "s2k_fo" => Some(Self::S2kFo),
            _ => None,
        }
    }
}

/// Lowercase hex.
pub fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        write!(s, "{b:02x}").ok();
        s
    })
}

/// The group prime.
fn n() -> BigUint {
    BigUint::parse_bytes(N_HEX.as_bytes(), 16).unwrap_or_default()
}

fn h(parts: &[&[u8]]) -> [u8; 32] {
    let mut d = Sha256::new();
    for p in parts {
        d.update(p);
    }
    d.finalize().into()
}

fn pad(x: &BigUint) -> Vec<u8> {
    let bytes = x.to_bytes_be();
    let mut out = vec![0u8; 256usize.saturating_sub(bytes.len())];
    out.extend_from_slice(&bytes);
    out
}

/// The password key Apple's variant feeds to SRP.
pub fn password_key(password: &str, salt: &[u8], iterations: u32, protocol: Protocol) -> [u8; 32] {
    let digest = h(&[password.as_bytes()]);
    let hex;
    let input: &[u8] = match protocol {
        Protocol::S2k => &digest,
        Protocol::S2kFo => {
            hex = to_hex(&digest);
            hex.as_bytes()
        }
    };
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(input, salt, iterations, &mut out);
    out
}

/// One sign-in attempt's secret exponent and public value.
pub struct Client {
    a: BigUint,
    big_a: BigUint,
}

/// What the client proves in `signin/complete`.
pub struct Proof {
    /// Client evidence.
    pub m1: Vec<u8>,
    /// Expected server evidence (Apple wants it sent too).
    pub m2: Vec<u8>,
}

/// The server's values do not allow a safe exchange.
#[derive(Debug, thiserror::Error)]
#[error("the server sent unsafe SRP values")]
pub struct Unsafe;

impl Client {
    /// A fresh random exponent.
    pub fn new() -> Self {
        let mut bytes = [0u8; 32];
        // A failing system RNG leaves zeros, which `proof` then refuses (A would be 1).
        getrandom::fill(&mut bytes).ok();
        let a = BigUint::from_bytes_be(&bytes);
        let big_a = BigUint::from(2u8).modpow(&a, &n());
        Self { a, big_a }
    }

    /// `A`, minimal big-endian.
    pub fn public(&self) -> Vec<u8> {
        self.big_a.to_bytes_be()
    }

    /// Computes M1 and M2 for the server's salt and `B`.
    #[allow(clippy::many_single_char_names)] // the names of RFC 5054
    pub fn proof(
        &self,
        account: &str,
        key: &[u8; 32],
        salt: &[u8],
        b_bytes: &[u8],
    ) -> Result<Proof, Unsafe> {
        let n = n();
        let g = BigUint::from(2u8);
        let big_b = BigUint::from_bytes_be(b_bytes);
        if (&big_b % &n) == BigUint::ZERO || self.big_a == BigUint::from(1u8) {
            return Err(Unsafe);
        }
        let k = BigUint::from_bytes_be(&h(&[&n.to_bytes_be(), &pad(&g)]));
        let u = BigUint::from_bytes_be(&h(&[&pad(&self.big_a), &pad(&big_b)]));
        if u == BigUint::ZERO {
            return Err(Unsafe);
        }
        let inner = h(&[b":", key]);
        let x = BigUint::from_bytes_be(&h(&[salt, &inner]));
        let kgx = (k * g.modpow(&x, &n)) % &n;
        let base = ((&big_b + &n) - kgx) % &n;
        let s = base.modpow(&(&self.a + &u * &x), &n);
        let big_k = h(&[&s.to_bytes_be()]);
        let hn = h(&[&n.to_bytes_be()]);
        let hg = h(&[&pad(&g)]);
        let xor: Vec<u8> = hn.iter().zip(hg.iter()).map(|(a, b)| a ^ b).collect();
        let a_bytes = self.big_a.to_bytes_be();
        let m1 = h(&[
            &xor,
            &h(&[account.as_bytes()]),
            salt,
            &a_bytes,
            &big_b.to_bytes_be(),
            &big_k,
        ]);
        let m2 = h(&[&a_bytes, &m1, &big_k]);
        Ok(Proof {
            m1: m1.to_vec(),
            m2: m2.to_vec(),
        })
    }
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s2k_and_s2k_fo_differ_and_are_deterministic() {
        let a = password_key("pw", b"salt", 1000, Protocol::S2k);
        let b = password_key("pw", b"salt", 1000, Protocol::S2kFo);
        assert_ne!(a, b);
        assert_eq!(a, password_key("pw", b"salt", 1000, Protocol::S2k));
    }

    #[test]
    #[allow(clippy::many_single_char_names)] // the names of RFC 5054
    fn proof_matches_a_textbook_server() {
        // Server side written out from RFC 5054 (v = g^x, B = kv + g^b, S = (A v^u)^b).
        let n = n();
        let g = BigUint::from(2u8);
        let salt = b"0123456789abcdef";
        let key = password_key("correct horse", salt, 500, Protocol::S2kFo);
        let x = BigUint::from_bytes_be(&h(&[salt, &h(&[b":", &key])]));
        let v = g.modpow(&x, &n);
        let b = BigUint::from(0xDEAD_BEEF_u64) * BigUint::from(0x1234_5678_9ABC_u64);
        let k = BigUint::from_bytes_be(&h(&[&n.to_bytes_be(), &pad(&g)]));
        let big_b = (k * &v + g.modpow(&b, &n)) % &n;
        let c = Client::new();
        let proof = c
            .proof("me@example.com", &key, salt, &big_b.to_bytes_be())
            .unwrap();
        let big_a = BigUint::from_bytes_be(&c.public());
        let u = BigUint::from_bytes_be(&h(&[&pad(&big_a), &pad(&big_b)]));
        let s = (&big_a * v.modpow(&u, &n)).modpow(&b, &n);
        let big_k = h(&[&s.to_bytes_be()]);
        let hn = h(&[&n.to_bytes_be()]);
        let hg = h(&[&pad(&g)]);
        let xor: Vec<u8> = hn.iter().zip(hg.iter()).map(|(a, b)| a ^ b).collect();
        let m1 = h(&[
            &xor,
            &h(&[b"me@example.com"]),
            salt,
            &big_a.to_bytes_be(),
            &big_b.to_bytes_be(),
            &big_k,
        ]);
        assert_eq!(proof.m1, m1.to_vec());
        let wrong = password_key("wrong", salt, 500, Protocol::S2kFo);
        let bad = c
            .proof("me@example.com", &wrong, salt, &big_b.to_bytes_be())
            .unwrap();
        assert_ne!(bad.m1, m1.to_vec());
    }
}
