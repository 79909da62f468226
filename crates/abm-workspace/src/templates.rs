//! Request and workback templates: TOML files under `templates/` and `workbacks/` in the
//! workspace, one template a file, named by the file. Mistakes are reported with file and line.

use crate::toml_text::line_of;
use crate::WorkspaceError;
use abm_core::intake::{FieldKind, FieldSpec, RequestTemplate};
use abm_core::labels::Label;
use abm_core::workback::{TaskTemplate, WorkbackTemplate};
use serde::Deserialize;
use std::path::Path;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    #[serde(default)]
    description: String,
    turnaround_business_days: Option<u32>,
    #[serde(default)]
    labels: Vec<Spanned<String>>,
    workback: Option<String>,
    #[serde(default)]
    fields: Vec<RawField>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    name: String,
    #[serde(rename = "type", default = "text")]
    kind: Spanned<String>,
    #[serde(default)]
    choices: Vec<String>,
    #[serde(default = "yes")]
    required: bool,
    #[serde(default)]
    help: String,
}

fn text() -> Spanned<String> {
    Spanned::new(0..0, "text".to_string())
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkback {
    #[serde(default)]
    description: String,
    tasks: Vec<RawTask>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTask {
    name: String,
    duration_business_days: u32,
    lead_business_days: i32,
}

fn config_err(file: &Path, text: &str, e: toml::de::Error) -> WorkspaceError {
    WorkspaceError::Config {
        file: file.display().to_string(),
        line: e.span().map(|s| line_of(text, s.start)).unwrap_or(1),
        reason: e.message().to_string(),
    }
}

/// Parse one request template file (the template is named after the file).
pub fn parse_request_template(name: &str, text: &str, file: &Path) -> Result<RequestTemplate, WorkspaceError> {
    let raw: RawTemplate = toml::from_str(text).map_err(|e| config_err(file, text, e))?;
    let err = |span: std::ops::Range<usize>, reason: String| WorkspaceError::Config {
        file: file.display().to_string(),
        line: line_of(text, span.start),
        reason,
    };
    let mut fields = Vec::new();
    for f in raw.fields {
        let kind = match f.kind.get_ref().as_str() {
            "text" => FieldKind::Text,
            "number" => FieldKind::Number,
            "money" => FieldKind::Money,
            "date" => FieldKind::Date,
            "url" => FieldKind::Url,
            "choice" if !f.choices.is_empty() => FieldKind::Choice(f.choices),
            "choice" => {
                return Err(err(
                    f.kind.span(),
                    format!("field {}: a choice needs a list of choices", f.name),
                ))
            }
            other => {
                return Err(err(
                    f.kind.span(),
                    format!(
                        "field {}: type {other:?} is not one of text, number, money, date, url, choice",
                        f.name
                    ),
                ))
            }
        };
        fields.push(FieldSpec {
            name: f.name,
            kind,
            required: f.required,
            help: f.help,
        });
    }
    let mut default_labels = Vec::new();
    for l in raw.labels {
        default_labels.push(Label::parse(l.get_ref()).map_err(|e| err(l.span(), e.to_string()))?);
    }
    Ok(RequestTemplate {
        name: name.to_string(),
        description: raw.description,
        fields,
        turnaround_business_days: raw.turnaround_business_days.unwrap_or(5),
        default_labels,
        workback: raw.workback,
    })
}

/// Parse one workback template file.
pub fn parse_workback(name: &str, text: &str, file: &Path) -> Result<WorkbackTemplate, WorkspaceError> {
    let raw: RawWorkback = toml::from_str(text).map_err(|e| config_err(file, text, e))?;
    Ok(WorkbackTemplate {
        name: name.to_string(),
        description: raw.description,
        tasks: raw
            .tasks
            .into_iter()
            .map(|t| TaskTemplate {
                name: t.name,
                duration_business_days: t.duration_business_days,
                lead_business_days: t.lead_business_days,
            })
            .collect(),
    })
}

/// Every `*.toml` in `dir`, parsed with `parse`, sorted by name.
pub fn load_dir<T>(
    dir: &Path,
    parse: impl Fn(&str, &str, &Path) -> Result<T, WorkspaceError>,
) -> Result<Vec<T>, WorkspaceError> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(source) => {
            return Err(WorkspaceError::Io {
                path: dir.to_path_buf(),
                source,
            })
        }
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    for p in paths {
        let name = p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&p).map_err(|source| WorkspaceError::Io {
            path: p.clone(),
            source,
        })?;
        out.push(parse(&name, &text, &p)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_templates_parse() {
        for (path, text) in crate::defaults::FILES {
            let p = Path::new(path);
            let name = p.file_stem().unwrap().to_str().unwrap();
            if path.starts_with("templates/") {
                let t = parse_request_template(name, text, p).unwrap();
                assert_eq!(t.fields.is_empty(), name == "workback-task", "{path}");
            } else if *path == "engagement.toml" {
                let parsed: abm_core::engagement::EngagementRules = crate::toml_text::parse(text, path).unwrap();
                assert!(parsed.rules.len() > 10, "{path}");
            } else if *path == "stages.toml" {
                let parsed: abm_core::journey::Stages = crate::toml_text::parse(text, path).unwrap();
                parsed.validate().unwrap();
            } else if *path == "automations.toml" {
                let parsed: abm_core::automation::Automations = crate::toml_text::parse(text, path).unwrap();
                parsed.validate().unwrap();
                assert_eq!(parsed.automations.len(), 1);
            } else if *path == "metrics.toml" {
                let parsed: abm_core::metrics::Metrics = crate::toml_text::parse(text, path).unwrap();
                parsed.validate().unwrap();
                assert_eq!(parsed.metrics[0].group, "North Star");
            } else if *path == "taxonomy.toml" {
                let parsed: abm_core::taxonomy::Taxonomy = crate::toml_text::parse(text, path).unwrap();
                assert_eq!(
                    parsed,
                    abm_core::taxonomy::Taxonomy::presets(),
                    "the shipped file is the presets"
                );
            } else if path.starts_with("workbacks/") {
                assert!(!parse_workback(name, text, p).unwrap().tasks.is_empty(), "{path}");
            }
        }
    }

    #[test]
    fn mistakes_name_file_and_line() {
        let bad = "description = \"x\"\n\n[[fields]]\nname = \"budget\"\ntype = \"moneys\"\n";
        match parse_request_template("t", bad, Path::new("templates/t.toml")) {
            Err(WorkspaceError::Config { file, line, reason }) => {
                assert_eq!((file.as_str(), line), ("templates/t.toml", 5));
                assert!(reason.contains("moneys"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        let bad_label = "labels = [\"ABM-Priority::\"]\n";
        assert!(matches!(
            parse_request_template("t", bad_label, Path::new("t.toml")),
            Err(WorkspaceError::Config { line: 1, .. })
        ));
        let unknown = "[[tasks]]\nname = \"x\"\nduration_business_days = 1\nlead_business_days = 2\nowner = \"me\"\n";
        assert!(matches!(
            parse_workback("w", unknown, Path::new("w.toml")),
            Err(WorkspaceError::Config { line: 5, .. })
        ));
    }
}
