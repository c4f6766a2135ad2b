//! The verifier side of Apple's SRP-6a variant, written from RFC 5054 independently of the
//! client in `src/icloud/srp.rs`, so a wrong password fails here for the right reason.

use num_bigint::BigUint;
use sha2::{Digest, Sha256};

const N_HEX: &str = "AC6BDB41324A9A9BF166DE5E1389582FAF72B6651987EE07FC3192943DB56050A37329CBB4A099ED8193E0757767A13DD52312AB4B03310DCD7F48A9DA04FD50E8083969EDB767B0CF6095179A163AB3661A05FBD5FAAAE82918A9962F0B93B855F97993EC975EEAA80D740ADBF4FF747359D041D5C33EA71D281E446B14773BCA97B43A23FB801676BD207A436C6481F1D2B9078717461A5B9D32E688F87748544523B524B0D57D5EA77A2775D2ECFA032CFBDBF52FB3786160279004E57AE6AF874E7303CE53299CCC041C7BC308D82A5698F3A8D0C38271AE35F8E9DBFBB694B5C803D89F7AE435DE236D525F54759B65E372FCD68EF20FA7111F9E4AFF73";

pub fn n() -> BigUint {
    BigUint::parse_bytes(N_HEX.as_bytes(), 16).unwrap()
}

fn sha(parts: &[&[u8]]) -> Vec<u8> {
    let mut d = Sha256::new();
    for p in parts {
        d.update(p);
    }
    d.finalize().to_vec()
}

fn pad256(x: &BigUint) -> Vec<u8> {
    let b = x.to_bytes_be();
    let mut v = vec![0; 256 - b.len()];
    v.extend(b);
    v
}

/// The verifier stored for an account: v = g^x, x = H(salt | H(":" | P)).
pub fn verifier(password: &str, salt: &[u8], iterations: u32, protocol: &str) -> BigUint {
    let digest = sha(&[password.as_bytes()]);
    let input = if protocol == "s2k_fo" {
        digest
            .iter()
            .fold(String::new(), |s, b| s + &format!("{b:02x}"))
            .into_bytes()
    } else {
        digest
    };
    let mut p = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(&input, salt, iterations, &mut p);
    let x = BigUint::from_bytes_be(&sha(&[salt, &sha(&[b":", &p])]));
    BigUint::from(2u8).modpow(&x, &n())
}

/// One sign-in in progress at the server.
pub struct Pending {
    pub account: String,
    pub a: BigUint,
    pub b: BigUint,
    pub big_b: BigUint,
}

/// B = k v + g^b.
pub fn server_public(v: &BigUint) -> (BigUint, BigUint) {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).unwrap();
    let b = BigUint::from_bytes_be(&bytes);
    let n = n();
    let g = BigUint::from(2u8);
    let k = BigUint::from_bytes_be(&sha(&[&n.to_bytes_be(), &pad256(&g)]));
    let big_b = (k * v + g.modpow(&b, &n)) % &n;
    (b, big_b)
}

/// Checks the client's M1 and M2 for `account` (as typed) against the verifier.
pub fn check(p: &Pending, v: &BigUint, salt: &[u8], m1: &[u8], m2: &[u8]) -> bool {
    let n = n();
    let g = BigUint::from(2u8);
    if (&p.a % &n) == BigUint::ZERO {
        return false;
    }
    let u = BigUint::from_bytes_be(&sha(&[&pad256(&p.a), &pad256(&p.big_b)]));
    let s = (&p.a * v.modpow(&u, &n)).modpow(&p.b, &n);
    let k = sha(&[&s.to_bytes_be()]);
    let hn = sha(&[&n.to_bytes_be()]);
    let hg = sha(&[&pad256(&g)]);
    let x: Vec<u8> = hn.iter().zip(&hg).map(|(a, b)| a ^ b).collect();
    let expect1 = sha(&[
        &x,
        &sha(&[p.account.as_bytes()]),
        salt,
        &p.a.to_bytes_be(),
        &p.big_b.to_bytes_be(),
        &k,
    ]);
    let expect2 = sha(&[&p.a.to_bytes_be(), &expect1, &k]);
    expect1 == m1 && expect2 == m2
}
