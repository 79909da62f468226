//! UTM naming taxonomies as configuration. A format describes one parameter (`utm_campaign`,
//! `utm_content`): its fields in order, the separator between fields (`_`), the joiner inside a
//! value (`-`, so `amer-california` is geo amer with sub-geo california), the blank placeholder
//! (`x`), allowed values and aliases. Decoding keeps the raw string and says why a name does not
//! conform instead of dropping it. The agency's formats and the dated format ship as presets.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Format {
    pub name: String,
    /// `utm_campaign` or `utm_content`.
    pub parameter: String,
    pub fields: Vec<String>,
    #[serde(default = "underscore")]
    pub separator: String,
    #[serde(default = "dash")]
    pub joiner: String,
    #[serde(default = "ex")]
    pub blank: String,
    /// The string ends with the separator (`..._english_`).
    #[serde(default)]
    pub trailing_separator: bool,
    /// Fields whose joined value is a value and a sub-value (`amer-california`).
    #[serde(default = "geo_only")]
    pub sub_fields: Vec<String>,
    /// Fields whose value is a date `yyyy_mm_dd` spread over three parts (or `eg`, evergreen).
    #[serde(default)]
    pub date_fields: Vec<String>,
    /// Allowed values per field (case-insensitive); fields not listed take anything.
    #[serde(default)]
    pub values: BTreeMap<String, Vec<String>>,
    /// Aliases per field: value → canonical value.
    #[serde(default)]
    pub aliases: BTreeMap<String, BTreeMap<String, String>>,
}

fn underscore() -> String {
    "_".into()
}
fn dash() -> String {
    "-".into()
}
fn ex() -> String {
    "x".into()
}
fn geo_only() -> Vec<String> {
    vec!["geo".into()]
}

/// The fields one string decoded to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decoded {
    pub format: String,
    pub raw: String,
    /// Field → value (blank fields are absent; a joined value keeps its first part here and the
    /// rest under `FIELD_sub`, e.g. `geo_sub = california`).
    pub fields: BTreeMap<String, String>,
}

impl Format {
    /// Decode `raw` (already URL-decoded), or say why it does not conform.
    pub fn decode(&self, raw: &str) -> Result<Decoded, String> {
        let t = raw.trim();
        if t.is_empty() {
            return Err("is empty".into());
        }
        if t.chars().any(|c| c.is_whitespace() || c.is_ascii_uppercase()) {
            return Err("has spaces or capitals (values are lower case, no spaces)".into());
        }
        let body = if self.trailing_separator {
            t.strip_suffix(self.separator.as_str())
                .ok_or_else(|| format!("does not end with {:?}", self.separator))?
        } else {
            t
        };
        let mut parts: Vec<&str> = body.split(self.separator.as_str()).collect();
        // A date field takes three parts (yyyy, mm, dd) unless it is `eg`.
        let mut fields = BTreeMap::new();
        let mut i = 0;
        for f in &self.fields {
            if i >= parts.len() {
                return Err(format!(
                    "has {} parts; {} expects {} ({})",
                    parts.len(),
                    self.name,
                    self.fields.len(),
                    self.fields.join(&self.separator)
                ));
            }
            if self.date_fields.contains(f) {
                if parts[i] == "eg" {
                    fields.insert(f.clone(), "evergreen".into());
                    i += 1;
                    continue;
                }
                if i + 3 > parts.len() {
                    return Err(format!("{f}: expected yyyy{0}mm{0}dd or eg", self.separator));
                }
                let d = format!("{}-{}-{}", parts[i], parts[i + 1], parts[i + 2]);
                chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                    .map_err(|_| format!("{f}: {:?} is not a date", parts[i..i + 3].join(&self.separator)))?;
                fields.insert(f.clone(), d);
                i += 3;
                continue;
            }
            let v = parts[i];
            i += 1;
            if v.is_empty() {
                return Err(format!("{f}: is empty (use {:?} for a blank)", self.blank));
            }
            if v == self.blank {
                continue;
            }
            let (head, sub) = match v.split_once(self.joiner.as_str()) {
                Some((h, s)) if self.sub_fields.contains(f) => (h, Some(s)),
                _ => (v, None),
            };
            let head = self
                .aliases
                .get(f)
                .and_then(|a| a.get(head))
                .map(String::as_str)
                .unwrap_or(head);
            if self.values.contains_key(f) && !self.allowed(f, head) {
                return Err(format!("{f}: {head:?} is not one of {}", self.values[f].join(", ")));
            }
            fields.insert(f.clone(), head.to_string());
            if let Some(s) = sub {
                fields.insert(format!("{f}_sub"), s.to_string());
            }
        }
        if i < parts.len() {
            parts.drain(..i);
            return Err(format!(
                "has {} more part(s) than {} expects ({})",
                parts.len(),
                self.name,
                self.fields.join(&self.separator)
            ));
        }
        Ok(Decoded {
            format: self.name.clone(),
            raw: t.to_string(),
            fields,
        })
    }

    fn allowed(&self, field: &str, v: &str) -> bool {
        self.values.get(field).is_none_or(|vs| {
            vs.iter().any(|a| a.eq_ignore_ascii_case(v)) || self.aliases.get(field).is_some_and(|a| a.contains_key(v))
        })
    }
}

/// A set of formats; for each parameter the formats are tried in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Taxonomy {
    pub formats: Vec<Format>,
}

impl Taxonomy {
    /// Decode a parameter's value with the first format that takes it; otherwise every format's reason.
    pub fn decode(&self, parameter: &str, raw: &str) -> Result<Decoded, String> {
        let mut why = Vec::new();
        for f in self.formats.iter().filter(|f| f.parameter == parameter) {
            match f.decode(raw) {
                Ok(d) => return Ok(d),
                Err(e) => why.push(format!("{}: {e}", f.name)),
            }
        }
        if why.is_empty() {
            return Err(format!("no format decodes {parameter}"));
        }
        Err(why.join("; "))
    }

    /// The shipped presets: the agency's campaign and content formats and the dated format.
    pub fn presets() -> Self {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        Taxonomy {
            formats: vec![
                Format {
                    name: "agency campaign".into(),
                    parameter: "utm_campaign".into(),
                    fields: s(&["campaign_code", "geo", "targeting", "ad_unit", "brand", "match_type"]),
                    separator: underscore(),
                    joiner: dash(),
                    blank: ex(),
                    trailing_separator: false,
                    sub_fields: geo_only(),
                    date_fields: vec![],
                    values: [
                        (
                            "geo".to_string(),
                            s(&["amer", "emea", "apac", "pubsec", "latam", "noram", "global"]),
                        ),
                        ("targeting".to_string(), s(&["pr", "rtg", "abm"])),
                        ("brand".to_string(), s(&["br", "nb"])),
                        ("match_type".to_string(), s(&["exact", "phrase", "broad"])),
                    ]
                    .into(),
                    aliases: BTreeMap::new(),
                },
                Format {
                    name: "dated campaign".into(),
                    parameter: "utm_campaign".into(),
                    fields: s(&["date", "geo", "budget", "type", "campaign_code", "language", "name"]),
                    separator: underscore(),
                    joiner: dash(),
                    blank: ex(),
                    trailing_separator: false,
                    sub_fields: geo_only(),
                    date_fields: s(&["date"]),
                    values: [
                        (
                            "geo".to_string(),
                            s(&["amer", "emea", "apac", "pubsec", "latam", "noram", "global"]),
                        ),
                        ("budget".to_string(), s(&["fmm", "dmp", "corp", "abm", "ptnr", "chnl"])),
                    ]
                    .into(),
                    aliases: BTreeMap::new(),
                },
                Format {
                    name: "agency content".into(),
                    parameter: "utm_content".into(),
                    fields: s(&["content", "team", "budget", "language"]),
                    separator: underscore(),
                    joiner: dash(),
                    blank: ex(),
                    trailing_separator: true,
                    sub_fields: geo_only(),
                    date_fields: vec![],
                    values: BTreeMap::new(),
                    aliases: BTreeMap::new(),
                },
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agency_campaign_format() {
        let t = Taxonomy::presets();
        let d = t
            .decode("utm_campaign", "devsecopsusecase_amer_pr_rsa_nb_exact")
            .unwrap();
        let f = |k: &str| d.fields.get(k).map(String::as_str);
        assert_eq!(
            (
                f("campaign_code"),
                f("geo"),
                f("targeting"),
                f("ad_unit"),
                f("brand"),
                f("match_type")
            ),
            (
                Some("devsecopsusecase"),
                Some("amer"),
                Some("pr"),
                Some("rsa"),
                Some("nb"),
                Some("exact")
            )
        );
        let d = t.decode("utm_campaign", "devopsgtm_emea-dach_rtg_inmail_nb_x").unwrap();
        assert_eq!(d.fields["geo"], "emea");
        assert_eq!(d.fields["geo_sub"], "dach");
        assert!(!d.fields.contains_key("match_type"), "x is a blank");
    }

    #[test]
    fn content_and_dated_formats() {
        let t = Taxonomy::presets();
        let c = t
            .decode("utm_content", "achievedevsecopsebook_digital_x-pr_english_")
            .unwrap();
        assert_eq!(c.fields["content"], "achievedevsecopsebook");
        assert_eq!(c.fields["team"], "digital");
        assert_eq!(c.fields["language"], "english");
        assert_eq!(c.fields["budget"], "x-pr");
        let d = t
            .decode(
                "utm_campaign",
                "2024_01_20_emea_dmp_webcast_autosd_fr_beginnersguidedevops",
            )
            .unwrap();
        assert_eq!(d.format, "dated campaign");
        assert_eq!(d.fields["date"], "2024-01-20");
        assert_eq!(d.fields["budget"], "dmp");
    }

    #[test]
    fn non_conforming_names_say_why() {
        let t = Taxonomy::presets();
        let e = t.decode("utm_campaign", "competegh_emea_pr").unwrap_err();
        assert!(e.contains("has 3 parts"), "{e}");
        let e = t.decode("utm_campaign", "Brand - Search (legacy)").unwrap_err();
        assert!(e.contains("spaces or capitals"), "{e}");
        let e = t.decode("utm_campaign", "autosd_mars_pr_rsa_nb_exact").unwrap_err();
        assert!(e.contains("geo: \"mars\" is not one of"), "{e}");
        assert!(t.decode("utm_content", "legacy").is_err());
    }
}
