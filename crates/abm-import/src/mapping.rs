//! Which column of an export holds which field. Defaults fit a Salesforce-style export; a mapping
//! file (TOML) or `--column field=Header` flags rename columns for anything else:
//!
//! ```toml
//! [columns]
//! crm_id = "Id"
//! name = "Company"
//!
//! [attributes]            # header = "attribute@source"
//! "DevCount (Bombora)" = "developer_count@bombora"
//! ```

use crate::errors::ImportError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Fields of an account export, with the headers each is found under by default.
pub const ACCOUNT_FIELDS: &[(&str, &[&str])] = &[
    (
        "crm_id",
        &["Account ID", "Account ID (18)", "Id", "CRM ID", "Account_ID"],
    ),
    ("name", &["Account Name", "Name", "Company", "Company Name"]),
    ("website", &["Website", "Domain", "Primary Domain"]),
    (
        "domains",
        &["Additional Domains", "Domains", "Domain Aliases", "Email Domains"],
    ),
    (
        "parent_id",
        &["Parent Account ID", "Parent ID", "ParentId", "Parent Account"],
    ),
    ("country", &["Billing Country", "Country", "HQ Country"]),
    ("geo", &["Geo", "Account Geo", "Sales Geo", "Region"]),
    ("sub_region", &["Sub-Region", "Sub Region", "Account Sub-Region"]),
    ("employees", &["Employees", "Number of Employees", "Employee Count"]),
    ("industry", &["Industry"]),
    ("annual_revenue", &["Annual Revenue", "Revenue"]),
    ("account_type", &["Type", "Account Type"]),
    ("carr", &["CARR", "Customer ARR", "Carr (Acct)"]),
    ("owner", &["Account Owner", "Owner", "SAL"]),
    ("sdr", &["SDR", "Account SDR", "BDR"]),
    ("account_rank", &["Account Rank", "Rank"]),
    ("gtm_strategy", &["GTM Strategy", "Go-To-Market Strategy"]),
    ("abm_tier", &["ABM Tier", "Tier"]),
    ("new_logo_target", &["New Logo Target Account", "New Logo Target"]),
    ("as_of", &["Last Modified Date", "As Of", "Data Date"]),
];

/// Columns holding one provider's value of an attribute: (header, attribute, source).
pub const ATTRIBUTE_COLUMNS: &[(&str, &str, &str)] = &[
    ("Aberdeen Developer Count", "developer_count", "aberdeen"),
    ("Developer Count", "developer_count", "crm"),
    ("Developer Count (Sales)", "developer_count", "crm"),
    ("Gainsight Tech Stack", "tech_stack", "gainsight"),
    ("Aberdeen Tech Stack", "tech_stack", "aberdeen"),
    ("Tech Stack", "tech_stack", "crm"),
    ("Tech Stack (Sales)", "tech_stack", "crm"),
    ("ZoomInfo Tech Stack", "tech_stack", "zoominfo"),
    ("Aberdeen Cloud Provider", "cloud_provider", "aberdeen"),
    ("Cloud Provider", "cloud_provider", "crm"),
    ("Cloud Provider (Sales)", "cloud_provider", "crm"),
    ("ZoomInfo Cloud Provider", "cloud_provider", "zoominfo"),
];

/// Fields of a people export.
pub const PEOPLE_FIELDS: &[(&str, &[&str])] = &[
    ("person_id", &["Contact ID", "Person ID", "Lead ID", "Id"]),
    ("email", &["Email", "Email Address"]),
    ("first_name", &["First Name", "FirstName"]),
    ("last_name", &["Last Name", "LastName"]),
    ("title", &["Title", "Job Title"]),
    (
        "account_id",
        &["Account ID", "Account ID (18)", "AccountId", "CRM Account ID"],
    ),
];

/// The headers to look for, per field, plus attribute columns.
#[derive(Debug, Clone, Default)]
pub struct ColumnMap {
    /// field → headers that hold it, tried in order (overrides come first).
    pub fields: BTreeMap<String, Vec<String>>,
    /// header → (attribute, source)
    pub attributes: Vec<(String, String, String)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    #[serde(default)]
    columns: BTreeMap<String, String>,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

impl ColumnMap {
    pub fn defaults(fields: &[(&str, &[&str])], with_attributes: bool) -> Self {
        Self {
            fields: fields
                .iter()
                .map(|(f, hs)| (f.to_string(), hs.iter().map(|h| h.to_string()).collect()))
                .collect(),
            attributes: if with_attributes {
                ATTRIBUTE_COLUMNS
                    .iter()
                    .map(|(h, a, s)| (h.to_string(), a.to_string(), s.to_string()))
                    .collect()
            } else {
                Vec::new()
            },
        }
    }

    pub fn accounts() -> Self {
        Self::defaults(ACCOUNT_FIELDS, true)
    }

    pub fn people() -> Self {
        Self::defaults(PEOPLE_FIELDS, false)
    }

    /// Put `header` first for `field`. Unknown fields are refused with the list of known ones.
    pub fn set(&mut self, field: &str, header: &str) -> Result<(), String> {
        match self.fields.get_mut(field) {
            Some(hs) => {
                hs.insert(0, header.to_string());
                Ok(())
            }
            None => Err(format!(
                "unknown field {field:?}; fields are: {}",
                self.fields.keys().cloned().collect::<Vec<_>>().join(", ")
            )),
        }
    }

    /// Apply `field=Header` flags.
    pub fn apply_flags(&mut self, flags: &[String]) -> Result<(), ImportError> {
        for f in flags {
            let (field, header) = f.split_once('=').ok_or_else(|| ImportError::Mapping {
                file: "--column".into(),
                reason: format!("expected field=Header, found {f:?}"),
            })?;
            self.set(field.trim(), header.trim())
                .map_err(|reason| ImportError::Mapping {
                    file: "--column".into(),
                    reason,
                })?;
        }
        Ok(())
    }

    /// Apply a TOML mapping file.
    pub fn apply_file(&mut self, path: &Path) -> Result<(), ImportError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ImportError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let parsed: MappingFile = toml::from_str(&text).map_err(|e| ImportError::Mapping {
            file: file.clone(),
            reason: e.to_string(),
        })?;
        for (field, header) in parsed.columns {
            self.set(&field, &header).map_err(|reason| ImportError::Mapping {
                file: file.clone(),
                reason,
            })?;
        }
        for (header, target) in parsed.attributes {
            let (attr, source) = target.split_once('@').ok_or_else(|| ImportError::Mapping {
                file: file.clone(),
                reason: format!("attributes.{header:?}: expected \"attribute@source\", found {target:?}"),
            })?;
            self.attributes
                .insert(0, (header, attr.trim().to_string(), source.trim().to_string()));
        }
        Ok(())
    }
}
