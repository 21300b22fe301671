//! Residents and family members already known on this laptop, so the operator picks them
//! instead of retyping (KK members for a KK change, parents for a birth certificate). Every
//! registered application teaches the table: the applicant in full, and the other people its
//! service fields name (`mother_nik` + `mother_name`…) by NIK and name only.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use loket_domain::Applicant;
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// A person known on this laptop; only the applicant of some application has every field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resident {
    /// NIK, the key.
    pub nik: String,
    /// Name as last recorded.
    pub full_name: String,
    /// Place of birth, when known.
    pub birth_place: Option<String>,
    /// `YYYY-MM-DD`, when known.
    pub birth_date: Option<String>,
    /// `male` / `female`, when known.
    pub sex: Option<String>,
    /// Address, when known.
    pub address: Option<String>,
    /// Phone, when known.
    pub phone: Option<String>,
    /// The family card the person was last recorded on, when known.
    pub nomor_kk: Option<String>,
}

/// Service fields that name a further person: the NIK field, the name field, and whether the
/// person shares the application's `nomor_kk` (parents of a newborn, a KK member).
const RELATED: &[(&str, &str, bool)] = &[
    ("mother_nik", "mother_name", true),
    ("father_nik", "father_name", true),
    ("member_nik", "member_name", true),
    ("head_nik", "head_name", false),
    ("deceased_nik", "deceased_name", false),
    ("husband_nik", "husband_name", false),
    ("wife_nik", "wife_name", false),
    ("child_nik", "child_name", true),
];

pub(crate) fn learn(
    conn: &Connection,
    applicant: &Applicant,
    fields: &BTreeMap<String, String>,
    now: DateTime<FixedOffset>,
) -> Result<(), StoreError> {
    let kk = fields.get("nomor_kk").cloned();
    let sex = match applicant.sex {
        loket_domain::Sex::Male => "male",
        loket_domain::Sex::Female => "female",
    };
    conn.execute(
        "INSERT INTO residents(nik, full_name, birth_place, birth_date, sex, address, phone,
                               nomor_kk, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULLIF(?7, ''), ?8, ?9)
         ON CONFLICT(nik) DO UPDATE SET full_name = excluded.full_name,
            birth_place = excluded.birth_place, birth_date = excluded.birth_date,
            sex = excluded.sex, address = excluded.address,
            phone = COALESCE(excluded.phone, phone),
            nomor_kk = COALESCE(excluded.nomor_kk, nomor_kk), updated_at = excluded.updated_at",
        params![
            applicant.nik.as_str(),
            applicant.full_name,
            applicant.birth_place,
            applicant.birth_date.to_string(),
            sex,
            applicant.address,
            applicant.phone,
            kk,
            now.to_rfc3339(),
        ],
    )?;
    for (nik_field, name_field, shares_kk) in RELATED {
        let (Some(nik), Some(name)) = (fields.get(*nik_field), fields.get(*name_field)) else {
            continue;
        };
        let kk = if *shares_kk { kk.clone() } else { None };
        // What the person's own application recorded is better than a mention: only fill gaps.
        conn.execute(
            "INSERT INTO residents(nik, full_name, nomor_kk, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(nik) DO UPDATE SET nomor_kk = COALESCE(nomor_kk, excluded.nomor_kk)",
            params![nik, name, kk, now.to_rfc3339()],
        )?;
    }
    Ok(())
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Resident> {
    Ok(Resident {
        nik: r.get(0)?,
        full_name: r.get(1)?,
        birth_place: r.get(2)?,
        birth_date: r.get(3)?,
        sex: r.get(4)?,
        address: r.get(5)?,
        phone: r.get(6)?,
        nomor_kk: r.get(7)?,
    })
}

const SELECT: &str = "SELECT nik, full_name, birth_place, birth_date, sex, address, phone,
    nomor_kk FROM residents";

pub(crate) fn find(
    conn: &Connection,
    text: &str,
    limit: usize,
) -> Result<Vec<Resident>, StoreError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let mut stmt = conn.prepare(&format!(
        "{SELECT} WHERE nik LIKE ?1 ESCAPE '\\' OR lower(full_name) LIKE ?2 ESCAPE '\\'
            OR nomor_kk = ?3
         ORDER BY (nik = ?3) DESC, full_name LIMIT ?4"
    ))?;
    let rows = stmt
        .query_map(
            params![
                format!("{escaped}%"),
                format!("%{escaped}%"),
                text,
                limit as i64
            ],
            row,
        )?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub(crate) fn household(conn: &Connection, nomor_kk: &str) -> Result<Vec<Resident>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "{SELECT} WHERE nomor_kk = ?1 ORDER BY birth_date IS NULL, birth_date, full_name"
    ))?;
    let rows = stmt
        .query_map([nomor_kk.trim()], row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
