//! The applicant every service starts from: the identity form as typed, its validation, and the
//! typed result that is stored, synced and printed. Service-specific fields and requirements are
//! catalogue data (`loket-catalogue`).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::i18n::{Field, Finding, FindingCode, Lang, Severity};
use crate::name::check_person_name;
use crate::nik::{check_nik, Nik, NikInfo};

/// Jenis kelamin as recorded on population documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    /// Laki-laki.
    Male,
    /// Perempuan.
    Female,
}

impl Sex {
    /// The word printed on documents.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Sex::Male, Lang::Id) => "Laki-laki",
            (Sex::Female, Lang::Id) => "Perempuan",
            (Sex::Male, Lang::En) => "Male",
            (Sex::Female, Lang::En) => "Female",
        }
    }
}

/// A service's stable code from the catalogue (e.g. `akta_kelahiran`). The catalogue is data and
/// may grow, so the code is a checked string, not an enum; names come from the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ServiceCode(String);

/// A service code that is not lowercase snake_case of 1–40 characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("kode layanan tidak valid: {0:?}")]
pub struct BadServiceCode(pub String);

impl ServiceCode {
    /// Accepts lowercase snake_case (`[a-z0-9_]`, starting with a letter), 1–40 characters.
    pub fn parse(code: &str) -> Result<ServiceCode, BadServiceCode> {
        let ok = (1..=40).contains(&code.len())
            && code.starts_with(|c: char| c.is_ascii_lowercase())
            && code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(ServiceCode(code.to_string()))
        } else {
            Err(BadServiceCode(code.to_string()))
        }
    }

    /// The stable wire code.
    pub fn code(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ServiceCode {
    type Error = BadServiceCode;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        ServiceCode::parse(&s)
    }
}

impl From<ServiceCode> for String {
    fn from(c: ServiceCode) -> String {
        c.0
    }
}

impl std::fmt::Display for ServiceCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One requirement slot the operator filled: a document id (`witness#2` when several are
/// needed) and, for papers, the scanned pages that show it; in-person checks have none.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ProvidedDocument {
    /// Catalogue document id, with `#n` when the document is needed more than once.
    pub slot: String,
    /// The scanned pages, in order, for papers; empty for ticked checks (e.g. biometric
    /// recording).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pages: Vec<ScanRef>,
}

/// One stored scanned page, named by content so it is never stored or sent twice.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ScanRef {
    /// SHA-256 of the stored (compressed) bytes, lowercase hex.
    pub sha256: String,
    /// Stored size in bytes.
    pub size: u64,
    /// `image/jpeg` (pages are normalised to grayscale JPEG on intake).
    pub media_type: String,
}

/// Where an application stands, as both the village and the back office see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    /// Saved on the laptop, waiting in the outbox for a connection.
    Queued,
    /// The back office has it and a reviewer will look at it.
    Received,
    /// A reviewer refused it; the reason travels with it.
    Rejected,
    /// Approved and the signed document exists.
    Issued,
    /// A reviewer sent it back with a reason; the village corrects it and resends it as the
    /// next revision.
    Returned,
}

impl ApplicationStatus {
    /// The stable wire code.
    pub fn code(self) -> &'static str {
        match self {
            ApplicationStatus::Queued => "queued",
            ApplicationStatus::Received => "received",
            ApplicationStatus::Rejected => "rejected",
            ApplicationStatus::Issued => "issued",
            ApplicationStatus::Returned => "returned",
        }
    }

    /// Parses the wire code.
    pub fn from_code(code: &str) -> Option<Self> {
        [
            Self::Queued,
            Self::Received,
            Self::Rejected,
            Self::Issued,
            Self::Returned,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }

    /// What the operator and resident read.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (ApplicationStatus::Queued, Lang::Id) => "Menunggu dikirim",
            (ApplicationStatus::Received, Lang::Id) => "Diterima Disdukcapil, sedang diperiksa",
            (ApplicationStatus::Rejected, Lang::Id) => "Ditolak",
            (ApplicationStatus::Issued, Lang::Id) => "Dokumen terbit",
            (ApplicationStatus::Returned, Lang::Id) => "Dikembalikan untuk perbaikan",
            (ApplicationStatus::Queued, Lang::En) => "Waiting to be sent",
            (ApplicationStatus::Received, Lang::En) => "Received, under review",
            (ApplicationStatus::Rejected, Lang::En) => "Rejected",
            (ApplicationStatus::Issued, Lang::En) => "Document issued",
            (ApplicationStatus::Returned, Lang::En) => "Returned for correction",
        }
    }
}

/// The form exactly as the operator typed it; nothing here is trusted yet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicantForm {
    /// NIK as typed.
    pub nik: String,
    /// Nama lengkap.
    pub full_name: String,
    /// Tempat lahir.
    pub birth_place: String,
    /// `YYYY-MM-DD`, as an HTML date input gives it.
    pub birth_date: String,
    /// `male` / `female`, or empty when not chosen.
    pub sex: String,
    /// Alamat.
    pub address: String,
    /// Nomor telepon/HP; optional, many residents have none.
    pub phone: String,
}

/// A KTP-el baru application that passed every error-level rule: what is stored and synced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applicant {
    /// The applicant's NIK.
    pub nik: Nik,
    /// Normalised name (single spaces).
    pub full_name: String,
    /// Tempat lahir.
    pub birth_place: String,
    /// Tanggal lahir as declared.
    pub birth_date: NaiveDate,
    /// Jenis kelamin as declared.
    pub sex: Sex,
    /// Alamat.
    pub address: String,
    /// Phone in national form `08…`, or empty when the resident has none.
    pub phone: String,
}

/// The outcome of validating a form: the typed value when no error remains, and every finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The typed application, present exactly when `errors` is empty.
    pub value: Option<Applicant>,
    /// Blocking findings.
    pub errors: Vec<Finding>,
    /// Findings the operator should look at.
    pub warnings: Vec<Finding>,
    /// What the NIK says, to prefill the form.
    pub nik_info: Option<NikInfo>,
}

/// An Indonesian phone number in national form `08…`, from any common way of writing it.
pub fn normalise_phone(input: &str) -> Option<String> {
    let digits: String = input
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let national = if let Some(rest) = digits.strip_prefix("+62") {
        format!("0{rest}")
    } else if let Some(rest) = digits.strip_prefix("62") {
        format!("0{rest}")
    } else {
        digits
    };
    let ok = national.starts_with('0')
        && (9..=14).contains(&national.len())
        && national.bytes().all(|b| b.is_ascii_digit());
    ok.then_some(national)
}

/// Validates a KTP-el baru form against the NIK, name and form rules, as of `today`.
pub fn validate_applicant(form: &ApplicantForm, today: NaiveDate) -> Report {
    let mut findings = Vec::new();
    let (nik_info, nik_findings) = check_nik(&form.nik, today);
    findings.extend(nik_findings);
    let (full_name, name_findings) = check_person_name(&form.full_name);
    findings.extend(name_findings);

    let birth_place = form.birth_place.trim().to_string();
    if birth_place.is_empty() {
        findings.push(Finding::error(
            Field::BirthPlace,
            FindingCode::BirthPlaceEmpty,
        ));
    }
    let birth_date = NaiveDate::parse_from_str(form.birth_date.trim(), "%Y-%m-%d").ok();
    match birth_date {
        None => findings.push(Finding::error(
            Field::BirthDate,
            FindingCode::BirthDateMissing,
        )),
        Some(d) if d > today => findings.push(Finding::error(
            Field::BirthDate,
            FindingCode::BirthDateFuture,
        )),
        Some(_) => {}
    }
    let sex = match form.sex.trim() {
        "male" | "L" | "laki_laki" => Some(Sex::Male),
        "female" | "P" | "perempuan" => Some(Sex::Female),
        _ => {
            findings.push(Finding::error(Field::Sex, FindingCode::SexMissing));
            None
        }
    };
    let address = form
        .address
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if address.is_empty() {
        findings.push(Finding::error(Field::Address, FindingCode::AddressEmpty));
    }
    let phone = if form.phone.trim().is_empty() {
        Some(String::new())
    } else {
        normalise_phone(&form.phone)
    };
    if phone.is_none() {
        findings.push(Finding::error(Field::Phone, FindingCode::PhoneInvalid));
    }
    if let Some(info) = &nik_info {
        if birth_date.is_some_and(|d| d != info.birth_date) {
            findings.push(Finding::warning(
                Field::BirthDate,
                FindingCode::NikBirthDateMismatch,
            ));
        }
        if sex.is_some_and(|s| s != info.sex) {
            findings.push(Finding::warning(Field::Sex, FindingCode::NikSexMismatch));
        }
    }

    let (errors, warnings): (Vec<_>, Vec<_>) = findings
        .into_iter()
        .partition(|f| f.severity == Severity::Error);
    let value = match (&nik_info, birth_date, sex, phone) {
        (Some(info), Some(birth_date), Some(sex), Some(phone)) if errors.is_empty() => {
            Some(Applicant {
                nik: info.nik.clone(),
                full_name,
                birth_place,
                birth_date,
                sex,
                address,
                phone,
            })
        }
        _ => None,
    };
    Report {
        value,
        errors,
        warnings,
        nik_info,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    fn good() -> ApplicantForm {
        ApplicantForm {
            nik: "7315015507050003".into(),
            full_name: "Andi  Tenri Ajeng".into(),
            birth_place: "Pinrang".into(),
            birth_date: "2005-07-15".into(),
            sex: "female".into(),
            address: "Jl. Poros Pinrang No. 5, Massulowalie".into(),
            phone: "+62 812-3456-7890".into(),
        }
    }

    fn codes(fs: &[Finding]) -> Vec<FindingCode> {
        fs.iter().map(|f| f.code).collect()
    }

    #[test]
    fn a_good_form_validates_and_normalises() {
        let r = validate_applicant(&good(), today());
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        let v = r.value.unwrap();
        assert_eq!(v.full_name, "Andi Tenri Ajeng");
        assert_eq!(v.phone, "081234567890");
    }

    #[test]
    fn mismatches_with_the_nik_only_warn() {
        let mut f = good();
        f.birth_date = "2005-07-16".into();
        f.sex = "male".into();
        let r = validate_applicant(&f, today());
        assert!(r.errors.is_empty());
        assert_eq!(
            codes(&r.warnings),
            [
                FindingCode::NikBirthDateMismatch,
                FindingCode::NikSexMismatch
            ]
        );
        assert!(r.value.is_some());
    }

    #[test]
    fn every_missing_field_is_reported_at_once() {
        let r = validate_applicant(&ApplicantForm::default(), today());
        assert_eq!(
            codes(&r.errors),
            [
                FindingCode::NikLength,
                FindingCode::NameEmpty,
                FindingCode::BirthPlaceEmpty,
                FindingCode::BirthDateMissing,
                FindingCode::SexMissing,
                FindingCode::AddressEmpty,
            ]
        );
        assert!(r.value.is_none());
    }

    #[test]
    fn phone_is_optional_but_checked_when_given() {
        let mut f = good();
        f.phone = "  ".into();
        let r = validate_applicant(&f, today());
        assert_eq!(r.value.unwrap().phone, "");
        f.phone = "12345".into();
        let r = validate_applicant(&f, today());
        assert_eq!(codes(&r.errors), [FindingCode::PhoneInvalid]);
    }

    #[test]
    fn catalogue_sex_values_are_accepted() {
        let mut f = good();
        f.sex = "perempuan".into();
        assert_eq!(
            validate_applicant(&f, today()).value.unwrap().sex,
            Sex::Female
        );
        f.sex = "laki_laki".into();
        let r = validate_applicant(&f, today());
        assert_eq!(codes(&r.warnings), [FindingCode::NikSexMismatch]);
    }

    #[test]
    fn service_codes_are_snake_case() {
        assert_eq!(
            ServiceCode::parse("akta_kelahiran").unwrap().code(),
            "akta_kelahiran"
        );
        for bad in ["", "Akta", "akta-kelahiran", "1akta", "akta kelahiran"] {
            assert!(ServiceCode::parse(bad).is_err(), "{bad:?}");
        }
        let json = serde_json::to_string(&ServiceCode::parse("kia").unwrap()).unwrap();
        assert_eq!(json, "\"kia\"");
        assert!(serde_json::from_str::<ServiceCode>("\"KIA\"").is_err());
    }

    #[test]
    fn statuses_round_trip_through_their_wire_codes() {
        for s in [
            ApplicationStatus::Queued,
            ApplicationStatus::Received,
            ApplicationStatus::Rejected,
            ApplicationStatus::Issued,
            ApplicationStatus::Returned,
        ] {
            assert_eq!(ApplicationStatus::from_code(s.code()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.code()));
            assert_eq!(serde_json::from_str::<ApplicationStatus>(&json).unwrap(), s);
        }
        assert_eq!(ApplicationStatus::Returned.code(), "returned");
        assert_eq!(
            ApplicationStatus::Returned.label(Lang::Id),
            "Dikembalikan untuk perbaikan"
        );
        assert_eq!(
            ApplicationStatus::Returned.label(Lang::En),
            "Returned for correction"
        );
        assert_eq!(ApplicationStatus::from_code("dikembalikan"), None);
    }

    #[test]
    fn phone_forms() {
        assert_eq!(
            normalise_phone("0812 3456 789").as_deref(),
            Some("08123456789")
        );
        assert_eq!(
            normalise_phone("628123456789").as_deref(),
            Some("08123456789")
        );
        assert_eq!(normalise_phone("12345"), None);
        assert_eq!(normalise_phone("08abc"), None);
    }
}
