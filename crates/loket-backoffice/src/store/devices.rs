//! Village laptops the district knows: one-time enrollment codes (only their SHA-256 is kept),
//! each device's Ed25519 public key, revocation, and a log of all three. A device proves itself
//! on every sync request by signing it (`crate::auth`); everything here is one transaction per
//! change.

use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::VerifyingKey;
use loket_sync::protocol::DeviceRef;
use rand::{CryptoRng, Rng, RngCore};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};

use super::{hex, to_sql_err, BackofficeStore};

/// Migration (appended to the store's list): codes, devices and the device log.
pub(super) const MIGRATION: &str = "
    CREATE TABLE enrollment_codes (
        code_sha256 TEXT PRIMARY KEY,
        village_code TEXT NOT NULL,
        device_no INTEGER NOT NULL,
        issued_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT,
        used_by_key TEXT,
        replaced_key INTEGER,
        cancelled_at TEXT
    );
    CREATE INDEX enrollment_codes_device ON enrollment_codes(village_code, device_no);
    CREATE TABLE devices (
        village_code TEXT NOT NULL,
        device_no INTEGER NOT NULL,
        public_key TEXT NOT NULL,
        enrolled_at TEXT NOT NULL,
        revoked_at TEXT,
        last_seen_at TEXT,
        PRIMARY KEY (village_code, device_no)
    ) WITHOUT ROWID;
    -- Every code issued, enrollment, re-enrollment and revocation, for the district's records.
    CREATE TABLE device_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        village_code TEXT NOT NULL,
        device_no INTEGER NOT NULL,
        action TEXT NOT NULL,
        public_key TEXT,
        at TEXT NOT NULL
    );
";

/// How long an enrollment code stays valid after it is issued.
pub const ENROLLMENT_CODE_TTL_HOURS: i64 = 72;

/// Letters and digits no one misreads on paper or over the phone (no 0/O, 1/I/L, U/V pairs).
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTWXYZ";
/// Characters in a code (≈ 49 bits), printed in groups of 4, 4 and 2.
const CODE_LEN: usize = 10;

/// How often a device's "last seen" time is written at most, so reads do not each cost a write.
const LAST_SEEN_RESOLUTION_MINUTES: i64 = 5;

/// Why a code could not be issued or a device not be changed; the CLI and the reviewer page
/// show the words.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The village code is not in the 2025 region table.
    #[error("kode desa {0} tidak dikenal")]
    UnknownVillage(String),
    /// Device numbers are 1–999, as in tracking numbers.
    #[error("nomor perangkat harus 1–999")]
    BadDeviceNo,
    /// The database failed.
    #[error("basis data: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// Why an enrollment was refused; the variant decides the HTTP status (422 for an unknown
/// village or a malformed key, 403 for every code problem), the text is what the operator reads.
#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    /// The village code is not in the 2025 region table.
    #[error("kode desa {0} tidak dikenal")]
    UnknownVillage(String),
    /// The public key is not 32 bytes of hex naming a usable Ed25519 key.
    #[error("kunci publik perangkat tidak valid (harus 64 digit hex kunci Ed25519)")]
    BadPublicKey,
    /// No such code, or a code issued for another village or device.
    #[error(
        "kode pendaftaran salah atau bukan untuk perangkat ini; periksa kode, kode desa dan nomor \
         perangkat, atau minta kode baru ke Disdukcapil"
    )]
    CodeInvalid,
    /// The code was already used (by another key).
    #[error("kode pendaftaran sudah dipakai; minta kode baru ke Disdukcapil")]
    CodeUsed,
    /// A newer code was issued for the device, or the device was revoked, after this one.
    #[error(
        "kode pendaftaran sudah tidak berlaku (diganti kode yang lebih baru atau perangkat \
         dicabut); minta kode baru ke Disdukcapil"
    )]
    CodeCancelled,
    /// More than [`ENROLLMENT_CODE_TTL_HOURS`] passed since the code was issued.
    #[error("kode pendaftaran sudah kedaluwarsa (berlaku 72 jam); minta kode baru ke Disdukcapil")]
    CodeExpired,
    /// The database failed.
    #[error("basis data: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// A freshly issued code: shown once, never stored in clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCode {
    /// The code, grouped for reading (`K7QX-M2PD-9R`).
    pub code: String,
    /// Until when it can be used.
    pub expires_at: DateTime<Utc>,
}

/// A successful enrollment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolled {
    /// When the key was bound.
    pub enrolled_at: DateTime<Utc>,
    /// Whether an earlier key of the same device was replaced.
    pub replaced_key: bool,
}

/// What the server knows of one device, for authenticating its requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAuth {
    /// The enrolled public key.
    pub public_key: VerifyingKey,
    /// Set once the district revoked the device.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// One enrolled device, for `loket device list` and the reviewer page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    /// Which device.
    pub device: DeviceRef,
    /// Its public key, hex.
    pub public_key: String,
    /// When its current key was enrolled.
    pub enrolled_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it last made an authenticated request (to within a few minutes).
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// A code issued and not yet used, cancelled or expired (the code itself is not kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCode {
    /// The device it will enroll.
    pub device: DeviceRef,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// Until when it can be used.
    pub expires_at: DateTime<Utc>,
}

/// What a revocation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    /// The device is revoked now.
    Revoked,
    /// It was revoked already; nothing changed.
    AlreadyRevoked,
    /// No such device was ever enrolled; only its outstanding codes (if any) were cancelled.
    NotEnrolled,
}

/// The code as stored: SHA-256 of its canonical form (dashes and spaces dropped, upper case).
fn code_hash(code: &str) -> String {
    hex(&Sha256::digest(
        loket_sync::auth::normalize_code(code).as_bytes(),
    ))
}

fn check_device(device: &DeviceRef) -> Result<(), DeviceError> {
    loket_domain::RegionCode::parse_village(&device.village_code)
        .map_err(|_| DeviceError::UnknownVillage(device.village_code.clone()))?;
    if !(1..=999).contains(&device.device_no) {
        return Err(DeviceError::BadDeviceNo);
    }
    Ok(())
}

fn parse_time(col: usize, text: &str) -> rusqlite::Result<DateTime<Utc>> {
    text.parse().map_err(|e| to_sql_err(col, e))
}

fn parse_opt_time(col: usize, text: Option<String>) -> rusqlite::Result<Option<DateTime<Utc>>> {
    text.map(|t| parse_time(col, &t)).transpose()
}

fn log(
    tx: &rusqlite::Transaction<'_>,
    device: &DeviceRef,
    action: &str,
    public_key: Option<&str>,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO device_log(village_code, device_no, action, public_key, at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            device.village_code,
            device.device_no,
            action,
            public_key,
            now.to_rfc3339()
        ],
    )?;
    Ok(())
}

impl BackofficeStore {
    /// Issues a one-time enrollment code for `device`, valid for 72 hours; earlier unused codes
    /// of the same device stop working. Only the code's SHA-256 is stored.
    pub fn issue_enrollment_code<R: RngCore + CryptoRng>(
        &mut self,
        device: &DeviceRef,
        now: DateTime<Utc>,
        rng: &mut R,
    ) -> Result<IssuedCode, DeviceError> {
        check_device(device)?;
        let raw: String = (0..CODE_LEN)
            .map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char)
            .collect();
        let code = format!("{}-{}-{}", &raw[..4], &raw[4..8], &raw[8..]);
        let expires_at = now + Duration::hours(ENROLLMENT_CODE_TTL_HOURS);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "UPDATE enrollment_codes SET cancelled_at = ?3
             WHERE village_code = ?1 AND device_no = ?2 AND used_at IS NULL AND cancelled_at IS NULL",
            params![device.village_code, device.device_no, now.to_rfc3339()],
        )?;
        tx.execute(
            "INSERT INTO enrollment_codes(code_sha256, village_code, device_no, issued_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                code_hash(&code),
                device.village_code,
                device.device_no,
                now.to_rfc3339(),
                expires_at.to_rfc3339()
            ],
        )?;
        log(&tx, device, "code_issued", None, now)?;
        tx.commit()?;
        Ok(IssuedCode { code, expires_at })
    }

    /// Binds `device` to `public_key_hex` with a one-time `code`, in one transaction: the code
    /// is used up, the key replaces any earlier one (a revoked device comes back this way) and
    /// the log says so. Repeating a used code with the same key gives the same answer again, so
    /// a laptop whose connection broke after the server committed can simply retry.
    pub fn enroll_device(
        &mut self,
        code: &str,
        device: &DeviceRef,
        public_key_hex: &str,
        now: DateTime<Utc>,
    ) -> Result<Enrolled, EnrollError> {
        loket_domain::RegionCode::parse_village(&device.village_code)
            .map_err(|_| EnrollError::UnknownVillage(device.village_code.clone()))?;
        let mut key = [0u8; 32];
        ::hex::decode_to_slice(public_key_hex, &mut key).map_err(|_| EnrollError::BadPublicKey)?;
        let public_key = VerifyingKey::from_bytes(&key).map_err(|_| EnrollError::BadPublicKey)?;
        if public_key.is_weak() {
            return Err(EnrollError::BadPublicKey);
        }
        let public_key_hex = hex(public_key.as_bytes());

        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        type CodeRow = (
            String,
            u16,
            String,
            Option<String>,
            Option<String>,
            Option<bool>,
            Option<String>,
        );
        let hash = code_hash(code);
        let row: Option<CodeRow> = tx
            .query_row(
                "SELECT village_code, device_no, expires_at, used_at, used_by_key, replaced_key,
                        cancelled_at
                 FROM enrollment_codes WHERE code_sha256 = ?1",
                [&hash],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                },
            )
            .optional()?;
        let Some((village, device_no, expires_at, used_at, used_by, replaced, cancelled)) = row
        else {
            return Err(EnrollError::CodeInvalid);
        };
        if village != device.village_code || device_no != device.device_no {
            return Err(EnrollError::CodeInvalid);
        }
        if used_at.is_some() {
            // The same laptop retrying after a lost answer: same answer, nothing changes.
            let current: Option<(String, String, Option<String>)> = tx
                .query_row(
                    "SELECT public_key, enrolled_at, revoked_at FROM devices
                     WHERE village_code = ?1 AND device_no = ?2",
                    params![device.village_code, device.device_no],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            return match current {
                Some((key, enrolled_at, None))
                    if key == public_key_hex && used_by.as_deref() == Some(&public_key_hex) =>
                {
                    Ok(Enrolled {
                        enrolled_at: parse_time(1, &enrolled_at)?,
                        replaced_key: replaced.unwrap_or(false),
                    })
                }
                _ => Err(EnrollError::CodeUsed),
            };
        }
        if cancelled.is_some() {
            return Err(EnrollError::CodeCancelled);
        }
        if parse_time(2, &expires_at)? < now {
            return Err(EnrollError::CodeExpired);
        }
        let replaced_key = tx
            .query_row(
                "SELECT 1 FROM devices WHERE village_code = ?1 AND device_no = ?2",
                params![device.village_code, device.device_no],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        tx.execute(
            "INSERT INTO devices(village_code, device_no, public_key, enrolled_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(village_code, device_no) DO UPDATE SET
                public_key = excluded.public_key, enrolled_at = excluded.enrolled_at,
                revoked_at = NULL, last_seen_at = NULL",
            params![
                device.village_code,
                device.device_no,
                public_key_hex,
                now.to_rfc3339()
            ],
        )?;
        tx.execute(
            "UPDATE enrollment_codes SET used_at = ?2, used_by_key = ?3, replaced_key = ?4
             WHERE code_sha256 = ?1",
            params![hash, now.to_rfc3339(), public_key_hex, replaced_key],
        )?;
        let action = if replaced_key {
            "re_enrolled"
        } else {
            "enrolled"
        };
        log(&tx, device, action, Some(&public_key_hex), now)?;
        tx.commit()?;
        Ok(Enrolled {
            enrolled_at: now,
            replaced_key,
        })
    }

    /// The key and revocation state of `device`, or `None` when it was never enrolled.
    pub fn device_auth(&self, device: &DeviceRef) -> rusqlite::Result<Option<DeviceAuth>> {
        let row: Option<(String, Option<String>)> = self
            .conn
            .query_row(
                "SELECT public_key, revoked_at FROM devices WHERE village_code = ?1 AND device_no = ?2",
                params![device.village_code, device.device_no],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((key_hex, revoked_at)) = row else {
            return Ok(None);
        };
        let mut key = [0u8; 32];
        ::hex::decode_to_slice(&key_hex, &mut key).map_err(|e| to_sql_err(0, e))?;
        Ok(Some(DeviceAuth {
            public_key: VerifyingKey::from_bytes(&key).map_err(|e| to_sql_err(0, e))?,
            revoked_at: parse_opt_time(1, revoked_at)?,
        }))
    }

    /// Notes that `device` made an authenticated request at `now` (written at most every few
    /// minutes).
    pub fn touch_device(&self, device: &DeviceRef, now: DateTime<Utc>) -> rusqlite::Result<()> {
        let stale = now - Duration::minutes(LAST_SEEN_RESOLUTION_MINUTES);
        self.conn.execute(
            "UPDATE devices SET last_seen_at = ?3
             WHERE village_code = ?1 AND device_no = ?2
               AND (last_seen_at IS NULL OR last_seen_at < ?4)",
            params![
                device.village_code,
                device.device_no,
                now.to_rfc3339(),
                stale.to_rfc3339()
            ],
        )?;
        Ok(())
    }

    /// Revokes `device`: every later request of it is refused until it enrolls again with a new
    /// code. Its outstanding codes are cancelled too. Its applications stay.
    pub fn revoke_device(
        &mut self,
        device: &DeviceRef,
        now: DateTime<Utc>,
    ) -> Result<Revocation, DeviceError> {
        check_device(device)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "UPDATE enrollment_codes SET cancelled_at = ?3
             WHERE village_code = ?1 AND device_no = ?2 AND used_at IS NULL AND cancelled_at IS NULL",
            params![device.village_code, device.device_no, now.to_rfc3339()],
        )?;
        let revoked: Option<Option<String>> = tx
            .query_row(
                "SELECT revoked_at FROM devices WHERE village_code = ?1 AND device_no = ?2",
                params![device.village_code, device.device_no],
                |r| r.get(0),
            )
            .optional()?;
        let outcome = match revoked {
            None => Revocation::NotEnrolled,
            Some(Some(_)) => Revocation::AlreadyRevoked,
            Some(None) => {
                tx.execute(
                    "UPDATE devices SET revoked_at = ?3 WHERE village_code = ?1 AND device_no = ?2",
                    params![device.village_code, device.device_no, now.to_rfc3339()],
                )?;
                log(&tx, device, "revoked", None, now)?;
                Revocation::Revoked
            }
        };
        tx.commit()?;
        Ok(outcome)
    }

    /// Every device ever enrolled, by village and number.
    pub fn devices(&self) -> rusqlite::Result<Vec<DeviceRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT village_code, device_no, public_key, enrolled_at, revoked_at, last_seen_at
             FROM devices ORDER BY village_code, device_no",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(DeviceRecord {
                device: DeviceRef {
                    village_code: r.get(0)?,
                    device_no: r.get(1)?,
                },
                public_key: r.get(2)?,
                enrolled_at: parse_time(3, &r.get::<_, String>(3)?)?,
                revoked_at: parse_opt_time(4, r.get(4)?)?,
                last_seen_at: parse_opt_time(5, r.get(5)?)?,
            })
        })?;
        rows.collect()
    }

    /// Codes issued and still usable at `now`.
    pub fn pending_codes(&self, now: DateTime<Utc>) -> rusqlite::Result<Vec<PendingCode>> {
        let mut stmt = self.conn.prepare(
            "SELECT village_code, device_no, issued_at, expires_at FROM enrollment_codes
             WHERE used_at IS NULL AND cancelled_at IS NULL
             ORDER BY village_code, device_no, issued_at",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(PendingCode {
                device: DeviceRef {
                    village_code: r.get(0)?,
                    device_no: r.get(1)?,
                },
                issued_at: parse_time(2, &r.get::<_, String>(2)?)?,
                expires_at: parse_time(3, &r.get::<_, String>(3)?)?,
            })
        })?;
        let all: rusqlite::Result<Vec<PendingCode>> = rows.collect();
        Ok(all?.into_iter().filter(|c| c.expires_at >= now).collect())
    }

    /// The PDF of `doc_number`, only if it belongs to an application `device` sent; another
    /// device gets `None`, exactly as for an unknown number.
    pub fn document_pdf_for_device(
        &self,
        doc_number: &str,
        device: &DeviceRef,
    ) -> rusqlite::Result<Option<Vec<u8>>> {
        self.conn
            .query_row(
                "SELECT d.pdf FROM documents d JOIN applications a ON a.id = d.application_id
                 WHERE d.doc_number = ?1 AND a.village_code = ?2 AND a.device_no = ?3",
                params![doc_number, device.village_code, device.device_no],
                |r| r.get(0),
            )
            .optional()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rand::SeedableRng;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap()
    }

    fn device(no: u16) -> DeviceRef {
        DeviceRef {
            village_code: "7315012003".into(),
            device_no: no,
        }
    }

    fn key(seed: u8) -> String {
        hex(ed25519_dalek::SigningKey::from_bytes(&[seed; 32])
            .verifying_key()
            .as_bytes())
    }

    fn store() -> (tempfile::TempDir, BackofficeStore) {
        let dir = tempfile::tempdir().unwrap();
        let s = BackofficeStore::open(&dir.path().join("b.sqlite")).unwrap();
        (dir, s)
    }

    #[test]
    fn codes_are_readable_single_use_and_expire() {
        let (_d, mut s) = store();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let issued = s
            .issue_enrollment_code(&device(1), now(), &mut rng)
            .unwrap();
        assert_eq!(issued.code.len(), 12);
        assert_eq!(issued.code.matches('-').count(), 2);
        assert!(issued
            .code
            .bytes()
            .all(|b| b == b'-' || CODE_ALPHABET.contains(&b)));
        assert_eq!(issued.expires_at, now() + Duration::hours(72));

        // Typed in lower case without dashes; bound to the device it was issued for.
        let typed = issued.code.replace('-', "").to_lowercase();
        assert!(matches!(
            s.enroll_device(&typed, &device(2), &key(1), now()),
            Err(EnrollError::CodeInvalid)
        ));
        let first = s.enroll_device(&typed, &device(1), &key(1), now()).unwrap();
        assert!(!first.replaced_key);
        // A retry with the same key is the same answer; another key is refused.
        let later = now() + Duration::minutes(1);
        assert_eq!(
            s.enroll_device(&issued.code, &device(1), &key(1), later)
                .unwrap(),
            first
        );
        assert!(matches!(
            s.enroll_device(&issued.code, &device(1), &key(2), later),
            Err(EnrollError::CodeUsed)
        ));

        // Expired after 72 hours; superseded by a newer code at once.
        let old = s
            .issue_enrollment_code(&device(3), now(), &mut rng)
            .unwrap();
        let late = now() + Duration::hours(72) + Duration::seconds(1);
        assert!(matches!(
            s.enroll_device(&old.code, &device(3), &key(3), late),
            Err(EnrollError::CodeExpired)
        ));
        let newer = s
            .issue_enrollment_code(&device(3), now(), &mut rng)
            .unwrap();
        assert!(matches!(
            s.enroll_device(&old.code, &device(3), &key(3), now()),
            Err(EnrollError::CodeCancelled)
        ));
        s.enroll_device(&newer.code, &device(3), &key(3), now())
            .unwrap();
    }

    #[test]
    fn revoking_refuses_until_a_new_code_re_enrolls() {
        let (_d, mut s) = store();
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        assert_eq!(
            s.revoke_device(&device(1), now()).unwrap(),
            Revocation::NotEnrolled
        );
        let c = s
            .issue_enrollment_code(&device(1), now(), &mut rng)
            .unwrap();
        s.enroll_device(&c.code, &device(1), &key(1), now())
            .unwrap();
        assert_eq!(
            s.revoke_device(&device(1), now()).unwrap(),
            Revocation::Revoked
        );
        assert_eq!(
            s.revoke_device(&device(1), now()).unwrap(),
            Revocation::AlreadyRevoked
        );
        assert!(s
            .device_auth(&device(1))
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some());
        // The used code does not bring it back, even with the old key.
        assert!(matches!(
            s.enroll_device(&c.code, &device(1), &key(1), now()),
            Err(EnrollError::CodeUsed)
        ));
        let again = s
            .issue_enrollment_code(&device(1), now(), &mut rng)
            .unwrap();
        let e = s
            .enroll_device(&again.code, &device(1), &key(4), now())
            .unwrap();
        assert!(e.replaced_key);
        let auth = s.device_auth(&device(1)).unwrap().unwrap();
        assert_eq!(auth.revoked_at, None);
        assert_eq!(hex(auth.public_key.as_bytes()), key(4));
        let log: Vec<String> = s
            .conn
            .prepare("SELECT action FROM device_log ORDER BY seq")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            log,
            [
                "code_issued",
                "enrolled",
                "revoked",
                "code_issued",
                "re_enrolled"
            ]
        );
    }

    #[test]
    fn bad_villages_and_keys_are_refused() {
        let (_d, mut s) = store();
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let mut unknown = device(1);
        unknown.village_code = "9999999999".into();
        assert!(matches!(
            s.issue_enrollment_code(&unknown, now(), &mut rng),
            Err(DeviceError::UnknownVillage(_))
        ));
        assert!(matches!(
            s.issue_enrollment_code(&device(0), now(), &mut rng),
            Err(DeviceError::BadDeviceNo)
        ));
        assert!(matches!(
            s.enroll_device("AAAA-AAAA-AA", &unknown, &key(1), now()),
            Err(EnrollError::UnknownVillage(_))
        ));
        let c = s
            .issue_enrollment_code(&device(1), now(), &mut rng)
            .unwrap();
        for bad in ["zz".repeat(32), "00".repeat(31), "00".repeat(32)] {
            assert!(
                matches!(
                    s.enroll_device(&c.code, &device(1), &bad, now()),
                    Err(EnrollError::BadPublicKey)
                ),
                "{bad}"
            );
        }
    }
}
