//! Company domains, parsed rather than trusted. `Domain::parse` accepts what people paste (URLs,
//! `WWW.Example.com.`, `https://example.com:443/path`, internationalised names) and yields the one
//! normal form that matching relies on. Free-mail domains never identify an account.

use serde::{Serialize, Serializer};
use std::fmt;

/// A normalised domain name: lower case, no scheme, `www.`, path, port or trailing dot; punycode
/// for non-ASCII labels.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Domain(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("is empty")]
    Empty,
    #[error("{0:?} is not a domain name")]
    Invalid(String),
    #[error("{0:?} is a free-mail domain and cannot identify an account")]
    FreeMail(String),
}

/// Free-mail and consumer ISP domains: a person's address there says nothing about their company.
const FREE_MAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "hotmail.co.uk",
    "live.com",
    "msn.com",
    "yahoo.com",
    "yahoo.co.uk",
    "yahoo.fr",
    "ymail.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "mail.com",
    "mail.ru",
    "yandex.com",
    "yandex.ru",
    "qq.com",
    "163.com",
    "126.com",
    "zoho.com",
    "fastmail.com",
    "hey.com",
    "tutanota.com",
    "comcast.net",
    "verizon.net",
    "att.net",
    "orange.fr",
    "free.fr",
    "libero.it",
];

impl Domain {
    /// Normalise and validate a domain, website or URL.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let mut s = input.trim();
        if s.is_empty() {
            return Err(DomainError::Empty);
        }
        if let Some(p) = s.find("://") {
            s = &s[p + 3..];
        }
        if let Some(p) = s.find(['/', '?', '#']) {
            s = &s[..p];
        }
        if let Some(p) = s.rfind('@') {
            s = &s[p + 1..];
        }
        if let Some(p) = s.find(':') {
            s = &s[..p];
        }
        let s = s.trim_end_matches('.');
        let ascii = if s.is_ascii() {
            s.to_ascii_lowercase()
        } else {
            idna::domain_to_ascii(s).map_err(|_| DomainError::Invalid(input.to_string()))?
        };
        let ascii = ascii.strip_prefix("www.").unwrap_or(&ascii).to_string();
        if !is_valid_hostname(&ascii) {
            return Err(DomainError::Invalid(input.trim().to_string()));
        }
        Ok(Self(ascii))
    }

    /// Parse a domain that is to identify an account: free-mail domains are refused.
    pub fn parse_company(input: &str) -> Result<Self, DomainError> {
        let d = Self::parse(input)?;
        if d.is_free_mail() {
            return Err(DomainError::FreeMail(d.0));
        }
        Ok(d)
    }

    /// The domain of an email address.
    pub fn from_email(email: &str) -> Result<Self, DomainError> {
        match email.trim().rsplit_once('@') {
            Some((local, host)) if !local.is_empty() => Self::parse(host),
            _ => Err(DomainError::Invalid(email.trim().to_string())),
        }
    }

    pub fn is_free_mail(&self) -> bool {
        FREE_MAIL.contains(&self.0.as_str())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_valid_hostname(s: &str) -> bool {
    if s.len() > 253 || !s.contains('.') {
        return false;
    }
    let labels: Vec<&str> = s.split('.').collect();
    let tld = labels.last().copied().unwrap_or("");
    if tld.chars().all(|c| c.is_ascii_digit()) {
        return false; // an IP address, not a domain
    }
    labels.iter().all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Domain {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_what_people_paste() {
        for (input, want) in [
            ("Example.COM", "example.com"),
            ("https://www.example.com/about?x=1", "example.com"),
            ("http://shop.example.co.uk:8080/", "shop.example.co.uk"),
            ("example.com.", "example.com"),
            ("  WWW.GitLab.com  ", "gitlab.com"),
            ("münchen.de", "xn--mnchen-3ya.de"),
        ] {
            assert_eq!(Domain::parse(input).unwrap().as_str(), want, "{input}");
        }
    }

    #[test]
    fn refuses_non_domains() {
        for bad in ["", "localhost", "192.168.0.1", "exa mple.com", "-bad.com", "a..b"] {
            assert!(Domain::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn free_mail_never_identifies_an_account() {
        assert!(matches!(
            Domain::parse_company("https://gmail.com"),
            Err(DomainError::FreeMail(_))
        ));
        assert!(Domain::parse_company("acme.com").is_ok());
        assert_eq!(Domain::from_email("Jane.Doe@Acme.COM").unwrap().as_str(), "acme.com");
        assert!(Domain::from_email("no-at-sign").is_err());
    }
}
