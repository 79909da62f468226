//! Sales geographies: AMER, EMEA, APAC and PubSec, with the country table that derives a geo
//! when the CRM leaves it blank.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Geo {
    #[serde(rename = "AMER")]
    Amer,
    #[serde(rename = "EMEA")]
    Emea,
    #[serde(rename = "APAC")]
    Apac,
    #[serde(rename = "PubSec")]
    PubSec,
}

impl Geo {
    pub const ALL: [Geo; 4] = [Geo::Amer, Geo::Emea, Geo::Apac, Geo::PubSec];

    pub fn as_str(self) -> &'static str {
        match self {
            Geo::Amer => "AMER",
            Geo::Emea => "EMEA",
            Geo::Apac => "APAC",
            Geo::PubSec => "PubSec",
        }
    }

    /// The geo a country belongs to (ISO 3166 alpha-2 code or English name), if known.
    pub fn from_country(country: &str) -> Option<Geo> {
        let c = country.trim().to_ascii_lowercase();
        COUNTRIES
            .iter()
            .find(|(code, name, _)| *code == c || *name == c)
            .map(|(_, _, g)| *g)
    }
}

impl fmt::Display for Geo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Geo {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace([' ', '-', '_'], "").as_str() {
            "amer" | "americas" | "noram" | "latam" | "na" | "northamerica" => Ok(Geo::Amer),
            "emea" | "europe" => Ok(Geo::Emea),
            "apac" | "asiapacific" | "apj" => Ok(Geo::Apac),
            "pubsec" | "publicsector" | "ps" => Ok(Geo::PubSec),
            _ => Err(format!(
                "expected one of AMER, EMEA, APAC, PubSec, found {:?}",
                s.trim()
            )),
        }
    }
}

const COUNTRIES: &[(&str, &str, Geo)] = &[
    ("us", "united states", Geo::Amer),
    ("ca", "canada", Geo::Amer),
    ("mx", "mexico", Geo::Amer),
    ("br", "brazil", Geo::Amer),
    ("ar", "argentina", Geo::Amer),
    ("cl", "chile", Geo::Amer),
    ("co", "colombia", Geo::Amer),
    ("pe", "peru", Geo::Amer),
    ("gb", "united kingdom", Geo::Emea),
    ("uk", "uk", Geo::Emea),
    ("de", "germany", Geo::Emea),
    ("fr", "france", Geo::Emea),
    ("nl", "netherlands", Geo::Emea),
    ("be", "belgium", Geo::Emea),
    ("es", "spain", Geo::Emea),
    ("it", "italy", Geo::Emea),
    ("ie", "ireland", Geo::Emea),
    ("se", "sweden", Geo::Emea),
    ("no", "norway", Geo::Emea),
    ("dk", "denmark", Geo::Emea),
    ("fi", "finland", Geo::Emea),
    ("ch", "switzerland", Geo::Emea),
    ("at", "austria", Geo::Emea),
    ("pl", "poland", Geo::Emea),
    ("pt", "portugal", Geo::Emea),
    ("il", "israel", Geo::Emea),
    ("ae", "united arab emirates", Geo::Emea),
    ("sa", "saudi arabia", Geo::Emea),
    ("za", "south africa", Geo::Emea),
    ("ng", "nigeria", Geo::Emea),
    ("cz", "czech republic", Geo::Emea),
    ("jp", "japan", Geo::Apac),
    ("cn", "china", Geo::Apac),
    ("in", "india", Geo::Apac),
    ("au", "australia", Geo::Apac),
    ("nz", "new zealand", Geo::Apac),
    ("sg", "singapore", Geo::Apac),
    ("kr", "south korea", Geo::Apac),
    ("hk", "hong kong", Geo::Apac),
    ("tw", "taiwan", Geo::Apac),
    ("id", "indonesia", Geo::Apac),
    ("my", "malaysia", Geo::Apac),
    ("th", "thailand", Geo::Apac),
    ("ph", "philippines", Geo::Apac),
    ("vn", "vietnam", Geo::Apac),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_aliases_and_countries() {
        assert_eq!("noram".parse::<Geo>().unwrap(), Geo::Amer);
        assert_eq!("Public Sector".parse::<Geo>().unwrap(), Geo::PubSec);
        assert!("Mars".parse::<Geo>().is_err());
        assert_eq!(Geo::from_country("DE"), Some(Geo::Emea));
        assert_eq!(Geo::from_country("Japan"), Some(Geo::Apac));
        assert_eq!(Geo::from_country("Atlantis"), None);
    }
}
