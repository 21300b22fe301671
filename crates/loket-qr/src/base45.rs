//! Base45 (RFC 9285): the QR alphanumeric-mode friendly text encoding of bytes.
//!
//! Written here (about 50 lines) rather than pulled in as a dependency so that the
//! decoder's strictness is under our control: every input has exactly one encoding.

use thiserror::Error;

/// The 45-character alphabet of RFC 9285 §4, which is exactly QR alphanumeric mode.
const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// Why a text is not valid Base45; kept separate so callers can map it to their own errors.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Base45Error {
    /// A character outside the RFC 9285 alphabet (lowercase letters included).
    #[error("invalid base45 character at position {0}")]
    InvalidChar(usize),
    /// A trailing group of a single character, which no byte sequence encodes to.
    #[error("invalid base45 length {0}")]
    InvalidLength(usize),
    /// A group whose value does not fit in the bytes it stands for (e.g. "GGW" = 65536).
    #[error("base45 group out of range at position {0}")]
    OutOfRange(usize),
}

/// Encodes bytes as Base45 so the QR code can use the dense alphanumeric mode.
pub fn encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(2) * 3);
    let push = |out: &mut String, v: usize| out.push(ALPHABET[v] as char);
    for chunk in input.chunks(2) {
        if let [a, b] = chunk {
            let n = (usize::from(*a) << 8) | usize::from(*b);
            push(&mut out, n % 45);
            push(&mut out, (n / 45) % 45);
            push(&mut out, n / 2025);
        } else {
            let n = usize::from(chunk[0]);
            push(&mut out, n % 45);
            push(&mut out, n / 45);
        }
    }
    out
}

/// Decodes strict Base45 so that a scanned code maps back to exactly one byte string.
pub fn decode(input: &str) -> Result<Vec<u8>, Base45Error> {
    let bytes = input.as_bytes();
    if bytes.len() % 3 == 1 {
        return Err(Base45Error::InvalidLength(bytes.len()));
    }
    let mut values = Vec::with_capacity(bytes.len());
    for (i, c) in bytes.iter().enumerate() {
        let v = ALPHABET
            .iter()
            .position(|a| a == c)
            .ok_or(Base45Error::InvalidChar(i))?;
        values.push(v as u32);
    }
    let mut out = Vec::with_capacity(bytes.len() / 3 * 2 + 1);
    for (gi, group) in values.chunks(3).enumerate() {
        let pos = gi * 3;
        match group {
            [c, d, e] => {
                let n = c + d * 45 + e * 2025;
                if n > 0xFFFF {
                    return Err(Base45Error::OutOfRange(pos));
                }
                out.push((n >> 8) as u8);
                out.push((n & 0xFF) as u8);
            }
            [c, d] => {
                let n = c + d * 45;
                if n > 0xFF {
                    return Err(Base45Error::OutOfRange(pos));
                }
                out.push(n as u8);
            }
            _ => return Err(Base45Error::InvalidLength(bytes.len())),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9285_examples() {
        // RFC 9285 §4.3 and §4.4.
        let cases: &[(&[u8], &str)] = &[
            (b"AB", "BB8"),
            (b"Hello!!", "%69 VD92EX0"),
            (b"base-45", "UJCLQE7W581"),
            (b"ietf!", "QED8WEX0"),
            (b"", ""),
        ];
        for (raw, text) in cases {
            assert_eq!(encode(raw), *text, "encode {raw:?}");
            assert_eq!(decode(text).unwrap(), *raw, "decode {text:?}");
        }
    }

    #[test]
    fn rejects_invalid_input() {
        let cases: &[(&str, Base45Error)] = &[
            ("GGW", Base45Error::OutOfRange(0)),
            ("ZZZ", Base45Error::OutOfRange(0)),
            ("BB8:Z", Base45Error::OutOfRange(3)),
            ("A", Base45Error::InvalidLength(1)),
            ("BB8A", Base45Error::InvalidLength(4)),
            ("bb8", Base45Error::InvalidChar(0)),
            ("BB#", Base45Error::InvalidChar(2)),
        ];
        for (text, err) in cases {
            assert_eq!(decode(text).unwrap_err(), *err, "decode {text:?}");
        }
    }

    #[test]
    fn round_trips_all_byte_pairs() {
        let all: Vec<u8> = (0..=255u8).flat_map(|a| [a, 255 - a, a]).collect();
        assert_eq!(decode(&encode(&all)).unwrap(), all);
        for a in 0..=255u8 {
            assert_eq!(decode(&encode(&[a])).unwrap(), vec![a]);
            assert_eq!(decode(&encode(&[a, 0xFF])).unwrap(), vec![a, 0xFF]);
        }
    }
}
