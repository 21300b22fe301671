//! Name rules of Permendagri 73/2022: hard rules (Ps 7) are errors, "at least two words" is a
//! recommendation the Dirjen called "not rigid", so it only warns.

use crate::i18n::{Field, Finding, FindingCode};

/// Checks a person's name for a population document; returns the trimmed name and findings.
pub fn check_person_name(input: &str) -> (String, Vec<Finding>) {
    let name = input.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut findings = Vec::new();
    let err = |code| Finding::error(Field::FullName, code);
    if name.is_empty() {
        findings.push(err(FindingCode::NameEmpty));
        return (name, findings);
    }
    if name.chars().count() > 60 {
        findings.push(err(FindingCode::NameTooLong));
    }
    if name.chars().any(|c| c.is_numeric()) {
        findings.push(err(FindingCode::NameDigits));
    }
    if name
        .chars()
        .any(|c| !(c.is_alphabetic() || c == ' ' || c.is_numeric()))
    {
        findings.push(err(FindingCode::NamePunctuation));
    }
    if findings.is_empty() && !name.contains(' ') {
        findings.push(Finding::warning(
            Field::FullName,
            FindingCode::NameSingleWord,
        ));
    }
    (name, findings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use FindingCode::*;

    fn check(input: &str, expected: &[FindingCode]) {
        let (_, findings) = check_person_name(input);
        let codes: Vec<_> = findings.iter().map(|f| f.code).collect();
        assert_eq!(codes, expected, "{input:?}");
    }

    #[test]
    fn permendagri_73_2022() {
        check("Andi Baso Tenri", &[]);
        check("  Siti   Aminah ", &[]);
        check("Sukarno", &[NameSingleWord]);
        check("", &[NameEmpty]);
        check("   ", &[NameEmpty]);
        check("M. Yusuf", &[NamePunctuation]);
        check("Dr Ahmad, S.H.", &[NamePunctuation]);
        check("Ahmad 2", &[NameDigits]);
        check(&"A".repeat(61), &[NameTooLong]);
        check(&format!("{} {}", "A".repeat(30), "B".repeat(29)), &[]);
    }
}
