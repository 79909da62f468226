-- Ad-platform facts (issue 7), at (platform, account, campaign, ad group, ad, dates, currency) grain.
CREATE TABLE ad_facts (
    platform TEXT NOT NULL,
    account TEXT NOT NULL,
    campaign TEXT NOT NULL,
    ad_group TEXT NOT NULL,
    ad TEXT NOT NULL,
    date_from DATE NOT NULL,
    date_to DATE NOT NULL,
    currency TEXT NOT NULL,
    spend_micros BIGINT NOT NULL,
    impressions BIGINT NOT NULL,
    clicks BIGINT NOT NULL,
    conversions_milli BIGINT NOT NULL,
    leads BIGINT NOT NULL,
    reach BIGINT,
    utm JSONB NOT NULL,
    PRIMARY KEY (platform, account, date_from, date_to, campaign, ad_group, ad, currency)
);
