//! How stored values read to people: labels of fields and documents, select values by their
//! option label, dates day-first. Used by receipts, the reviewer's pages and the desktop list,
//! so the three never word the same application differently.

use chrono::NaiveDate;
use loket_domain::Lang;

use crate::model::{pick, Catalogue, FieldKind, Service};

impl Service {
    /// Every filled service field as (label, value) in the reader's language, in form order.
    pub fn describe_fields(
        &self,
        values: &std::collections::BTreeMap<String, String>,
        lang: Lang,
    ) -> Vec<(String, String)> {
        self.fields
            .iter()
            .filter_map(|f| {
                let raw = values.get(&f.id)?;
                let shown = match f.kind {
                    FieldKind::Select => f
                        .options
                        .iter()
                        .find(|o| &o.value == raw)
                        .map(|o| pick(lang, &o.label_id, &o.label_en).to_string())
                        .unwrap_or_else(|| raw.clone()),
                    FieldKind::Date => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                        .map(|d| d.format("%d-%m-%Y").to_string())
                        .unwrap_or_else(|_| raw.clone()),
                    _ => raw.clone(),
                };
                Some((f.label(lang).to_string(), shown))
            })
            .collect()
    }
}

impl Catalogue {
    /// A service's name, or its code when this catalogue no longer (or not yet) offers it.
    pub fn service_name(&self, code: &str, lang: Lang) -> String {
        self.service(code)
            .map(|s| s.name(lang).to_string())
            .unwrap_or_else(|| code.to_string())
    }

    /// A provided slot (`witness#2`) as people read it: "Saksi (dengan KTP-el) 2".
    pub fn slot_label(&self, slot: &str, lang: Lang) -> String {
        let (id, n) = match slot.split_once('#') {
            Some((id, n)) => (id, Some(n)),
            None => (slot, None),
        };
        let label = self
            .documents()
            .iter()
            .find(|d| d.id == id)
            .map(|d| d.label(lang).to_string())
            .unwrap_or_else(|| id.to_string());
        let mut chars = label.chars();
        let label: String = match chars.next() {
            Some(c) => c.to_uppercase().chain(chars).collect(),
            None => label,
        };
        match n {
            Some(n) => format!("{label} {n}"),
            None => label,
        }
    }
}
