-- Ad-platform facts (issue 7), at (platform, account, campaign, ad group, ad, dates, currency) grain.
CREATE TABLE ad_facts (
    platform TEXT NOT NULL,
    account TEXT NOT NULL,
    campaign TEXT NOT NULL,
    ad_group TEXT NOT NULL,
    ad TEXT NOT NULL,
    date_from TEXT NOT NULL,
    date_to TEXT NOT NULL,
    currency TEXT NOT NULL,
    spend_micros INTEGER NOT NULL,
    impressions INTEGER NOT NULL,
    clicks INTEGER NOT NULL,
    conversions_milli INTEGER NOT NULL,
    leads INTEGER NOT NULL,
    reach INTEGER,
    utm TEXT NOT NULL,
    PRIMARY KEY (platform, account, date_from, date_to, campaign, ad_group, ad, currency)
) WITHOUT ROWID;
