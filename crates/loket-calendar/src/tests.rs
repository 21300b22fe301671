use super::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn national() -> &'static HolidayCalendar {
    HolidayCalendar::national()
}

#[test]
fn every_embedded_file_loads_on_its_own_and_together() {
    for (i, file) in NATIONAL_FILES.iter().enumerate() {
        let cal = HolidayCalendar::from_json_files(&[file])
            .unwrap_or_else(|e| panic!("embedded file #{i}: {e}"));
        assert_eq!(cal.covered_years().len(), 1, "file #{i}");
    }
    HolidayCalendar::from_json_files(NATIONAL_FILES).unwrap();
    assert_eq!(national().covered_years(), vec![2026, 2027]);
}

#[test]
fn embedded_counts_match_the_decrees() {
    // SKB 2026: 17 hari libur nasional + 8 cuti bersama; SKB 2027: 18 + 8.
    for (year, libur, cuti) in [(2026, 17, 8), (2027, 18, 8)] {
        let count = |k| national().holidays_in(year).filter(|h| h.kind == k).count();
        assert_eq!(count(HolidayKind::LiburNasional), libur, "{year}");
        assert_eq!(count(HolidayKind::CutiBersama), cuti, "{year}");
    }
    assert_eq!(national().is_verified(2026), Some(true));
    assert_eq!(national().is_verified(2027), Some(false));
    assert_eq!(national().is_verified(2028), None);
}

#[test]
fn is_working_day_table() {
    let cases = [
        ("2026-01-09", true, "plain Friday"),
        ("2026-01-10", false, "Saturday"),
        ("2026-01-11", false, "Sunday"),
        ("2026-01-12", true, "plain Monday"),
        ("2026-01-16", false, "Isra Mikraj, Friday"),
        ("2026-03-20", false, "cuti bersama Idulfitri"),
        ("2026-03-21", false, "Idulfitri on a Saturday"),
        ("2026-03-24", false, "cuti bersama Idulfitri"),
        ("2026-03-25", true, "first working day after Lebaran"),
        ("2026-12-24", false, "cuti bersama Natal"),
        ("2027-03-10", false, "Idulfitri 1448"),
    ];
    for (date, expected, why) in cases {
        assert_eq!(
            national().is_working_day(d(date)),
            expected,
            "{date}: {why}"
        );
    }
}

#[test]
fn holiday_lookup_names_the_day() {
    let h = national().holiday(d("2026-03-21")).unwrap();
    assert_eq!(h.kind, HolidayKind::LiburNasional);
    assert!(h.name_id.contains("Idulfitri"));
    let c = national().holiday(d("2026-03-23")).unwrap();
    assert_eq!(c.kind, HolidayKind::CutiBersama);
    assert!(national().holiday(d("2026-03-25")).is_none());
}

#[test]
fn add_working_days_table() {
    // (receipt day, SLA in working days, expected completion, why)
    let cases = [
        (
            "2026-01-09",
            1,
            "2026-01-12",
            "Friday receipt, SLA 1 -> Monday",
        ),
        (
            "2026-01-08",
            2,
            "2026-01-12",
            "Thursday + 2 skips the weekend",
        ),
        (
            "2026-01-10",
            1,
            "2026-01-12",
            "Saturday receipt, SLA 1 -> Monday",
        ),
        ("2026-01-05", 5, "2026-01-12", "a full week"),
        (
            "2026-01-15",
            1,
            "2026-01-19",
            "skips Isra Mikraj Friday and the weekend",
        ),
        (
            "2026-03-17",
            3,
            "2026-03-27",
            "skips Nyepi, cuti Nyepi, Idulfitri and its cuti bersama",
        ),
        ("2026-03-19", 1, "2026-03-25", "received on Nyepi (holiday)"),
        (
            "2026-03-16",
            14,
            "2026-04-13",
            "Bengkalis-style 14 days across Lebaran and Good Friday",
        ),
        (
            "2026-05-13",
            1,
            "2026-05-18",
            "Ascension + cuti bersama + weekend",
        ),
        (
            "2026-05-26",
            2,
            "2026-06-02",
            "Iduladha, its cuti, weekend, Pancasila",
        ),
        (
            "2026-12-23",
            2,
            "2026-12-29",
            "Christmas cuti + Natal + weekend",
        ),
        (
            "2026-12-30",
            3,
            "2027-01-06",
            "into 2027: New Year and Isra Mikraj 1448",
        ),
        (
            "2027-03-05",
            1,
            "2027-03-16",
            "Nyepi + Idulfitri 1448 block",
        ),
    ];
    for (start, n, expected, why) in cases {
        assert_eq!(
            national().add_working_days(d(start), n),
            Ok(d(expected)),
            "{start} + {n}: {why}"
        );
    }
}

#[test]
fn sla_zero_is_the_same_day_when_working_else_the_next_working_day() {
    let cases = [
        ("2026-01-12", "2026-01-12", "Monday: done at the counter"),
        ("2026-01-10", "2026-01-12", "Saturday: next working day"),
        (
            "2026-03-20",
            "2026-03-25",
            "cuti bersama Idulfitri: after the block",
        ),
    ];
    for (start, expected, why) in cases {
        assert_eq!(
            national().add_working_days(d(start), 0),
            Ok(d(expected)),
            "{why}"
        );
    }
}

#[test]
fn crossing_into_a_year_without_data_is_an_error() {
    let cases = [
        ("2027-12-29", 5, 2028),
        ("2027-12-31", 1, 2028),
        ("2027-06-01", 400, 2028),
        ("2025-12-31", 0, 2025),
        ("2028-01-03", 1, 2028),
    ];
    for (start, n, year) in cases {
        assert_eq!(
            national().add_working_days(d(start), n),
            Err(CalendarError::NoDataForYear(year)),
            "{start} + {n}"
        );
    }
    // Dec 31 2027 is a working Friday, so it is still reachable.
    assert_eq!(
        national().add_working_days(d("2027-12-30"), 1),
        Ok(d("2027-12-31"))
    );
}

fn file(year: i32, entries: &str) -> String {
    format!(r#"{{"year": {year}, "source": "test", "verified": false, "holidays": [{entries}]}}"#)
}

fn entry(date: &str) -> String {
    format!(
        r#"{{"date": "{date}", "name_id": "Hari X", "name_en": "Day X", "kind": "libur_nasional"}}"#
    )
}

#[test]
fn invalid_files_are_rejected_with_a_clear_error() {
    let other_year = file(2026, &entry("2027-01-01"));
    let duplicate = file(
        2026,
        &format!("{},{}", entry("2026-05-05"), entry("2026-05-05")),
    );
    let bad_date = file(2026, &entry("2026-02-30"));
    let short_date = file(2026, &entry("2026-2-3"));
    let empty_name = file(
        2026,
        r#"{"date": "2026-05-05", "name_id": " ", "name_en": "x", "kind": "cuti_bersama"}"#,
    );
    let bad_kind = file(
        2026,
        r#"{"date": "2026-05-05", "name_id": "x", "name_en": "x", "kind": "libur_daerah"}"#,
    );
    let cases: Vec<(&str, CalendarError, &str)> = vec![
        (
            &other_year,
            CalendarError::DateOutsideYear {
                file: 0,
                year: 2026,
                date: d("2027-01-01"),
            },
            "is for 2026, but lists 2027-01-01",
        ),
        (
            &duplicate,
            CalendarError::DuplicateDate {
                file: 0,
                date: d("2026-05-05"),
            },
            "2026-05-05 is listed more than once",
        ),
        (
            &bad_date,
            CalendarError::BadDate {
                file: 0,
                value: "2026-02-30".into(),
            },
            "\"2026-02-30\" is not a valid YYYY-MM-DD date",
        ),
        (
            &short_date,
            CalendarError::BadDate {
                file: 0,
                value: "2026-2-3".into(),
            },
            "not a valid YYYY-MM-DD date",
        ),
        (
            &empty_name,
            CalendarError::EmptyName {
                file: 0,
                date: d("2026-05-05"),
                field: "name_id",
            },
            "empty name_id",
        ),
    ];
    for (text, expected, message) in cases {
        let err = HolidayCalendar::from_json_files(&[text]).unwrap_err();
        assert!(err.to_string().contains(message), "{err}");
        assert_eq!(err, expected);
    }
    for text in [bad_kind.as_str(), "{", r#"{"year": 2026}"#] {
        let err = HolidayCalendar::from_json_files(&[text]).unwrap_err();
        assert!(matches!(err, CalendarError::Json { file: 0, .. }), "{err}");
    }
}

#[test]
fn a_district_file_adds_regional_days_and_its_errors_name_the_file() {
    // e.g. a kabupaten's anniversary on a Thursday in 2026.
    let district = file(2026, &entry("2026-10-15"));
    let mut files = NATIONAL_FILES.to_vec();
    files.push(&district);
    let cal = HolidayCalendar::from_json_files(&files).unwrap();
    assert!(!cal.is_working_day(d("2026-10-15")));
    assert_eq!(
        cal.add_working_days(d("2026-10-14"), 1),
        Ok(d("2026-10-16"))
    );
    assert_eq!(
        cal.is_verified(2026),
        Some(false),
        "least verified file wins"
    );
    assert!(national().is_working_day(d("2026-10-15")));

    let clash = file(2026, &entry("2026-08-17"));
    let mut files = NATIONAL_FILES.to_vec();
    files.push(&clash);
    assert_eq!(
        HolidayCalendar::from_json_files(&files).unwrap_err(),
        CalendarError::DuplicateDate {
            file: 2,
            date: d("2026-08-17")
        }
    );
}
