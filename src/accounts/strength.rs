//! Password strength: a pure estimate from length, character classes, common passwords and
//! repeated or sequential characters. No dictionary files.

/// How strong a password looks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Strength {
    /// 0 (trivially guessed) to 4 (strong). Accounts require at least 2.
    pub score: u8,
    /// What would make it stronger, in plain words; empty at score 4.
    pub hint: String,
}

/// The minimum length in characters.
pub(super) const MIN_CHARS: usize = 8;
/// The minimum score an account password needs.
pub(super) const MIN_SCORE: u8 = 2;

/// Passwords tried first by every guesser (lowercase), plus the ones this box invites.
const COMMON: &[&str] = &[
    "password",
    "passwort",
    "motdepasse",
    "12345678",
    "123456789",
    "1234567890",
    "87654321",
    "987654321",
    "11111111",
    "00000000",
    "123123123",
    "qwerty",
    "qwerty123",
    "qwertyuiop",
    "qwertz",
    "azerty",
    "asdfghjkl",
    "zxcvbnm",
    "1q2w3e4r",
    "1qaz2wsx",
    "zaq12wsx",
    "abc123",
    "abcd1234",
    "iloveyou",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "welcome",
    "letmein",
    "monkey",
    "dragon",
    "master",
    "admin",
    "administrator",
    "trustno1",
    "superman",
    "batman",
    "shadow",
    "starwars",
    "whatever",
    "computer",
    "internet",
    "changeme",
    "secret",
    "hello",
    "freedom",
    "summer",
    "winter",
    "hunter",
    "chocolate",
    "family",
    "photos",
    "pictures",
    "shoebox",
    "raspberry",
    "raspberrypi",
];

/// Estimates the strength of `password`.
pub fn password_strength(password: &str) -> Strength {
    let chars: Vec<char> = password.chars().collect();
    if chars.is_empty() {
        return weak(0, "Enter a password");
    }
    if is_common(password) {
        return weak(
            0,
            "This is one of the most common passwords — pick something nobody would guess",
        );
    }
    let effective = effective_len(&chars);
    let bits = effective as f64 * pool_size(&chars).log2();
    let mut score = match bits {
        b if b < 28.0 => 0,
        b if b < 36.0 => 1,
        b if b < 60.0 => 2,
        b if b < 80.0 => 3,
        _ => 4,
    };
    if chars.len() < MIN_CHARS {
        score = score.min(1);
    }
    Strength {
        score,
        hint: hint(score, &chars, effective).to_owned(),
    }
}

fn weak(score: u8, hint: &str) -> Strength {
    Strength {
        score,
        hint: hint.to_owned(),
    }
}

/// The most useful advice for a password of this score.
fn hint(score: u8, chars: &[char], effective: usize) -> &'static str {
    let len = chars.len();
    if score >= 4 {
        ""
    } else if len < MIN_CHARS {
        "Use at least 8 characters — 12 or more is good"
    } else if effective * 4 < len * 3 {
        "Avoid repeated characters and runs like abc or 123"
    } else if len < 12 {
        "Add more characters — 12 or more is good"
    } else if classes(chars) < 3 {
        "Mix in capitals, digits or symbols, or add another word"
    } else {
        "Add another word or a few more characters"
    }
}

/// Whether the password, ignoring case, digits or symbols tacked on at the end, and
/// common letter swaps (`p@ssw0rd`), is on the common list.
fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    if COMMON.contains(&lower.as_str()) {
        return true;
    }
    let base = lower.trim_end_matches(|c: char| !c.is_alphabetic());
    let unswapped: String = base.chars().map(unswap).collect();
    unswapped.chars().count() >= 4 && COMMON.contains(&unswapped.as_str())
}

/// Undoes the usual letter-for-symbol swaps.
fn unswap(c: char) -> char {
    match c {
        '0' => 'o',
        '@' | '4' => 'a',
        '3' => 'e',
        '1' | '!' => 'i',
        '$' | '5' => 's',
        '7' => 't',
        _ => c,
    }
}

/// The length, not counting characters that repeat the previous one or continue a run of
/// consecutive characters (`c` in `abc`, `3` in `123`, `7` in `987`).
fn effective_len(chars: &[char]) -> usize {
    let mut count = 0;
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
        let before = i.checked_sub(2).and_then(|j| chars.get(j)).copied();
        let repeat = prev == Some(c);
        let run = match (before, prev) {
            (Some(b), Some(p)) => {
                let (b, p, c) = (
                    i64::from(u32::from(b)),
                    i64::from(u32::from(p)),
                    i64::from(u32::from(c)),
                );
                (p - b).abs() == 1 && c - p == p - b
            }
            _ => false,
        };
        if !repeat && !run {
            count += 1;
        }
    }
    count
}

/// How many classes of characters occur: lower, upper, digits, others.
fn classes(chars: &[char]) -> usize {
    let has = |f: fn(&char) -> bool| usize::from(chars.iter().any(f));
    has(char::is_ascii_lowercase)
        + has(char::is_ascii_uppercase)
        + has(char::is_ascii_digit)
        + has(|c| !c.is_ascii_alphanumeric())
}

/// The alphabet a guesser would have to try, judged by the classes that occur.
fn pool_size(chars: &[char]) -> f64 {
    let mut pool = 0.0;
    if chars.iter().any(char::is_ascii_lowercase) {
        pool += 26.0;
    }
    if chars.iter().any(char::is_ascii_uppercase) {
        pool += 26.0;
    }
    if chars.iter().any(char::is_ascii_digit) {
        pool += 10.0;
    }
    if chars.iter().any(|c| !c.is_ascii_alphanumeric()) {
        pool += 33.0;
    }
    f64::max(pool, 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(p: &str) -> u8 {
        password_strength(p).score
    }

    #[test]
    fn common_passwords_score_zero_even_decorated() {
        for p in [
            "password",
            "Password",
            "12345678",
            "qwerty123",
            "shoebox",
            "P@ssw0rd",
            "password1!",
            "Shoebox2024",
            "sunshine",
        ] {
            let s = password_strength(p);
            assert_eq!(s.score, 0, "{p}");
            assert!(s.hint.contains("common"), "{p}: {}", s.hint);
        }
    }

    #[test]
    fn repeats_and_runs_score_low() {
        assert_eq!(score("aaaaaaaaaaaa"), 0);
        assert_eq!(score("abcdefghijkl"), 0);
        assert_eq!(score("98765432"), 0);
        let s = password_strength("xyzabcdefg12");
        assert!(s.score < 2);
        assert!(s.hint.contains("repeated"), "{}", s.hint);
    }

    #[test]
    fn short_passwords_are_capped_and_told_the_minimum() {
        let s = password_strength("Xq7#pL");
        assert!(s.score <= 1);
        assert!(s.hint.contains("at least 8"), "{}", s.hint);
        assert_eq!(score(""), 0);
    }

    #[test]
    fn examples_score_as_expected() {
        assert_eq!(score("kitten42"), 2);
        assert_eq!(score("Tr0ub4dor&3"), 3);
        assert_eq!(score("correct horse battery staple"), 4);
        assert_eq!(score("Gx7#mQ2!vR9$"), 3);
        assert_eq!(score("Gx7#mQ2!vR9$k"), 4);
    }

    #[test]
    fn hints_point_at_the_next_step() {
        assert!(password_strength("kitten42").hint.contains("12 or more"));
        assert!(password_strength("kittenpuppy42").hint.contains("capitals"));
        assert!(
            password_strength("correct horse battery staple")
                .hint
                .is_empty()
        );
    }
}
