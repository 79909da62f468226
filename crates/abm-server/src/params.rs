//! Query parameters parsed into the values the store takes. URLs are untrusted: unknown
//! parameters and bad values are refused with a message naming the parameter.

use abm_core::{AbmTier, Geo, Segment};
use abm_store::AccountQuery;
use std::collections::HashMap;

pub const DEFAULT_PER_PAGE: u64 = 50;
pub const MAX_PER_PAGE: u64 = 1000;

/// A problem with one query parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    pub param: String,
    pub reason: String,
}

impl std::fmt::Display for ParamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "query parameter {}: {}", self.param, self.reason)
    }
}

/// Parsed account-list parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountListParams {
    pub query: AccountQuery,
    pub page: u64,
    pub per_page: u64,
}

const KNOWN: &[&str] = &[
    "segment", "geo", "tier", "grade", "stage", "icp", "q", "page", "per_page",
];

pub fn account_list(raw: &HashMap<String, String>) -> Result<AccountListParams, ParamError> {
    if let Some(unknown) = raw.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(ParamError {
            param: unknown.clone(),
            reason: format!("unknown parameter; known: {}", KNOWN.join(", ")),
        });
    }
    let get = |k: &str| raw.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    fn parse_err(param: &'static str) -> impl Fn(String) -> ParamError {
        move |reason| ParamError {
            param: param.into(),
            reason,
        }
    }
    let segment = get("segment")
        .map(|s| s.parse::<Segment>().map(|s| s.to_string()))
        .transpose()
        .map_err(parse_err("segment"))?;
    let geo = get("geo")
        .map(|s| s.parse::<Geo>().map(|g| g.to_string()))
        .transpose()
        .map_err(parse_err("geo"))?;
    let tier = get("tier")
        .map(|s| s.parse::<AbmTier>().map(|t| t.to_string()))
        .transpose()
        .map_err(parse_err("tier"))?;
    let grade = get("grade")
        .map(|s| s.parse::<abm_core::icp::Grade>().map(|g| g.to_string()))
        .transpose()
        .map_err(parse_err("grade"))?;
    let stage = get("stage")
        .map(|s| {
            s.trim_start_matches('0')
                .split_whitespace()
                .next()
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|n| (1..=99).contains(n))
                .ok_or_else(|| format!("expected a stage number like 06, found {s:?}"))
        })
        .transpose()
        .map_err(parse_err("stage"))?;
    let icp = match get("icp") {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => {
            return Err(ParamError {
                param: "icp".into(),
                reason: format!("expected true or false, found {other:?}"),
            })
        }
    };
    let number = |k: &str, default: u64, max: u64| -> Result<u64, ParamError> {
        match get(k) {
            None => Ok(default),
            Some(v) => match v.parse::<u64>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(ParamError {
                    param: k.into(),
                    reason: format!("expected a whole number from 1 to {max}, found {v:?}"),
                }),
            },
        }
    };
    let page = number("page", 1, 1_000_000)?;
    let per_page = number("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)?;
    Ok(AccountListParams {
        query: AccountQuery {
            segment,
            geo,
            tier,
            grade,
            icp,
            stage,
            text: get("q").map(String::from),
            limit: Some(per_page),
            offset: (page - 1) * per_page,
        },
        page,
        per_page,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn parses_and_canonicalises() {
        let p = account_list(&q(&[
            ("segment", "enterprise"),
            ("geo", "emea"),
            ("page", "3"),
            ("per_page", "20"),
        ]))
        .unwrap();
        assert_eq!(p.query.segment.as_deref(), Some("Large"));
        assert_eq!(p.query.geo.as_deref(), Some("EMEA"));
        assert_eq!(p.query.offset, 40);
        assert_eq!(p.query.limit, Some(20));
    }

    #[test]
    fn refuses_bad_values_naming_the_parameter() {
        for (pairs, param) in [
            (vec![("page", "0")], "page"),
            (vec![("page", "abc")], "page"),
            (vec![("per_page", "5000")], "per_page"),
            (vec![("segment", "Huge")], "segment"),
            (vec![("colour", "red")], "colour"),
        ] {
            let err = account_list(&q(&pairs)).unwrap_err();
            assert_eq!(err.param, param);
        }
    }
}
