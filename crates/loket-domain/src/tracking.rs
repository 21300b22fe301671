//! Offline tracking numbers (DOMAIN.md §8): village code + device number + date + daily counter,
//! unique without any coordination because no two devices of a village share a number.

use chrono::NaiveDate;
use std::fmt;
use std::str::FromStr;

use crate::region::RegionCode;

/// The receipt number a resident quotes when asking about an application, e.g.
/// `7315012003-001-261122-0007`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TrackingNumber(String);

/// Why a tracking number cannot be made or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrackingNumberError {
    /// Device numbers are three digits.
    #[error("nomor perangkat harus 1–999")]
    DeviceOutOfRange,
    /// Four digits a day per device; the 10,000th application of a day cannot be numbered.
    #[error("batas 9.999 permohonan per hari per perangkat tercapai")]
    CounterExhausted,
    /// The text does not look like a tracking number.
    #[error("nomor registrasi tidak dikenali")]
    Shape,
}

impl TrackingNumber {
    /// Makes the number for the `counter`-th application of `date` on this device (1-based).
    pub fn new(
        village: &RegionCode,
        device_no: u16,
        date: NaiveDate,
        counter: u32,
    ) -> Result<Self, TrackingNumberError> {
        if !(1..=999).contains(&device_no) {
            return Err(TrackingNumberError::DeviceOutOfRange);
        }
        if !(1..=9999).contains(&counter) {
            return Err(TrackingNumberError::CounterExhausted);
        }
        Ok(TrackingNumber(format!(
            "{}-{:03}-{}-{:04}",
            village.digits(),
            device_no,
            date.format("%y%m%d"),
            counter
        )))
    }

    /// The printed form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for TrackingNumber {
    type Err = TrackingNumberError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let parts: Vec<&str> = s.split('-').collect();
        let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
        if lens != [10, 3, 6, 4] || !s.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
            return Err(TrackingNumberError::Shape);
        }
        Ok(TrackingNumber(s.to_string()))
    }
}

impl fmt::Display for TrackingNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_and_limits() {
        let village = RegionCode::parse_village("73.15.01.2003").unwrap();
        let date = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let t = TrackingNumber::new(&village, 1, date, 7).unwrap();
        assert_eq!(t.as_str(), "7315012003-001-261122-0007");
        assert_eq!(t.as_str().parse::<TrackingNumber>().unwrap(), t);
        assert_eq!(
            TrackingNumber::new(&village, 0, date, 1),
            Err(TrackingNumberError::DeviceOutOfRange)
        );
        assert_eq!(
            TrackingNumber::new(&village, 1, date, 10_000),
            Err(TrackingNumberError::CounterExhausted)
        );
        assert!("7315012003-001-261122".parse::<TrackingNumber>().is_err());
    }
}
