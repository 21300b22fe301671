//! Kemendagri region codes (Kepmendagri 300.2.2-2138/2025), compiled into the binary so that a
//! village laptop can name any province, regency, kecamatan or village without a network.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

/// The decree the compiled-in table comes from; stored beside data that depends on it.
pub const REGION_DATA_VERSION: &str = "kepmendagri-300.2.2-2138-2025";

static CSV: &str = include_str!("../../../assets/wilayah/wilayah-2025.csv");

fn table() -> &'static HashMap<&'static str, &'static str> {
    static TABLE: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    TABLE.get_or_init(|| {
        CSV.lines()
            .skip(1)
            .filter_map(|line| line.split_once(','))
            .map(|(code, name)| (code, name.trim_matches('"')))
            .collect()
    })
}

/// Looks up the official name of a dotted region code such as `73.15` or `73.15.01.2001`.
pub fn region_name(dotted_code: &str) -> Option<&'static str> {
    table().get(dotted_code).copied()
}

/// A village (desa/kelurahan) code, kept as its 10 digits; parsing proves it exists in the decree.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegionCode {
    digits: String,
}

/// Why a string is not a known village code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionError {
    /// The text does not have the `PP.KK.CC.DDDD` shape.
    #[error("kode wilayah harus berbentuk PP.KK.CC.DDDD (10 angka)")]
    Shape,
    /// The shape is right but the decree has no such village.
    #[error("kode wilayah {0} tidak ada dalam Kepmendagri 2025")]
    Unknown(String),
}

impl RegionCode {
    /// Parses a village code written with or without dots.
    pub fn parse_village(input: &str) -> Result<Self, RegionError> {
        let digits: String = input.chars().filter(|c| *c != '.').collect();
        if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RegionError::Shape);
        }
        let code = RegionCode { digits };
        if region_name(&code.dotted()).is_none() {
            return Err(RegionError::Unknown(code.dotted()));
        }
        Ok(code)
    }

    /// The 10 digits, as used inside tracking numbers.
    pub fn digits(&self) -> &str {
        &self.digits
    }

    /// The dotted form `PP.KK.CC.DDDD`, as printed and as keyed in the decree.
    pub fn dotted(&self) -> String {
        let d = &self.digits;
        format!("{}.{}.{}.{}", &d[0..2], &d[2..4], &d[4..6], &d[6..10])
    }

    /// The regency (kabupaten/kota) this village belongs to, `PP.KK`.
    pub fn regency_dotted(&self) -> String {
        format!("{}.{}", &self.digits[0..2], &self.digits[2..4])
    }

    /// The village's official name.
    pub fn name(&self) -> &'static str {
        region_name(&self.dotted()).unwrap_or("?")
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.dotted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_match_the_decree() {
        let t = table();
        let level = |dots: usize| t.keys().filter(|k| k.matches('.').count() == dots).count();
        assert_eq!(level(0), 38);
        assert_eq!(level(1), 514);
        assert_eq!(level(2), 7285);
        assert_eq!(level(3), 83762);
    }

    #[test]
    fn pinrang_is_known() {
        assert_eq!(region_name("73.15"), Some("Kabupaten Pinrang"));
        let village = RegionCode::parse_village("7315012003").unwrap();
        assert_eq!(village.regency_dotted(), "73.15");
        assert!(RegionCode::parse_village("73.15.01.9999").is_err());
        assert_eq!(RegionCode::parse_village("73.15"), Err(RegionError::Shape));
    }
}
