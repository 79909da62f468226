//! Journey stages: every account sits in exactly one stage. Stages are an ordered list of rules,
//! evaluated from the bottom of the funnel upward; the first that matches wins, and no match means
//! the first stage. An account's history is replayed day by day from its facts (activities,
//! opportunity stage history, type and fit), so a stage change is an event with a day and a
//! cause, and any past day can be asked about. Funnels count transitions between two days.

use crate::activity::Activity;
use crate::engagement::{score_activity, EngagementRules, Part};
use crate::opportunity::{stage_number, Opportunity};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// One stage and the rule that puts an account in it. Every condition given must hold; a stage
/// without conditions is only reached when nothing else matches (allowed for the first stage).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageRule {
    pub number: u32,
    pub name: String,
    /// Counted in funnels (Former Customer and Disqualified are not, by default).
    #[serde(default = "yes")]
    pub in_funnel: bool,
    /// The account's type is one of these (case-insensitive).
    #[serde(default)]
    pub account_types: Vec<String>,
    /// An open opportunity is in one of these stage numbers.
    #[serde(default)]
    pub open_opportunity_in: Vec<u32>,
    /// The latest open opportunity (by creation) is in one of these stage numbers.
    #[serde(default)]
    pub latest_open_opportunity_in: Vec<u32>,
    /// The fit score (active ICP) is at least this.
    pub fit_at_least: Option<f64>,
    /// An intent signal of one of these strengths in the last `intent_days`.
    #[serde(default)]
    pub intent: Vec<String>,
    #[serde(default = "thirty")]
    pub intent_days: i64,
    /// Points over `window_days`, leaving out `exclude_kinds`: at least / more than.
    pub points_at_least: Option<f64>,
    pub points_above: Option<f64>,
    #[serde(default = "ninety")]
    pub window_days: i64,
    #[serde(default)]
    pub exclude_kinds: Vec<String>,
    /// Engaged people (the engagement rules' engaged-person rule): at least / at most / more than.
    pub people_at_least: Option<usize>,
    pub people_at_most: Option<usize>,
    pub people_above: Option<usize>,
}

fn yes() -> bool {
    true
}
fn thirty() -> i64 {
    30
}
fn ninety() -> i64 {
    90
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stages {
    pub stages: Vec<StageRule>,
}

impl StageRule {
    fn has_conditions(&self) -> bool {
        !self.account_types.is_empty()
            || !self.open_opportunity_in.is_empty()
            || !self.latest_open_opportunity_in.is_empty()
            || self.fit_at_least.is_some()
            || !self.intent.is_empty()
            || self.points_at_least.is_some()
            || self.points_above.is_some()
            || self.people_at_least.is_some()
            || self.people_at_most.is_some()
            || self.people_above.is_some()
    }

    fn uses_points(&self) -> bool {
        self.points_at_least.is_some() || self.points_above.is_some()
    }

    /// Whether the account's type and fit (facts no day of a replay changes) let this stage
    /// hold: a type among those asked for (written in any case, padded or not), a fit at least
    /// the one asked for.
    fn takes_account(&self, facts: &AccountFacts) -> bool {
        let typed = self.account_types.is_empty()
            || facts
                .account_type
                .as_deref()
                .is_some_and(|t| self.account_types.iter().any(|w| w.eq_ignore_ascii_case(t.trim())));
        let fit = self.fit_at_least.is_none_or(|min| facts.fit.is_some_and(|f| f >= min));
        typed && fit
    }

    fn asks_open_opportunity(&self) -> bool {
        !self.open_opportunity_in.is_empty() || !self.latest_open_opportunity_in.is_empty()
    }
}

impl Stages {
    /// Check the list: at least one stage, numbers rising, names given, windows positive, and
    /// only the first stage without conditions. Errors name the stage.
    pub fn validate(&self) -> Result<(), String> {
        if self.stages.is_empty() {
            return Err("stages: at least one stage is needed".into());
        }
        for (i, s) in self.stages.iter().enumerate() {
            let at = format!("stages[{i}] ({} {:?})", s.number, s.name);
            if s.name.trim().is_empty() {
                return Err(format!("{at}: name is empty"));
            }
            if i > 0 && s.number <= self.stages[i - 1].number {
                return Err(format!("{at}: number must be above the stage before it"));
            }
            if i > 0 && !s.has_conditions() {
                return Err(format!(
                    "{at}: has no condition; only the first stage may (it is where no rule matches)"
                ));
            }
            if s.window_days < 1 || s.intent_days < 1 {
                return Err(format!("{at}: window_days and intent_days must be at least 1"));
            }
        }
        Ok(())
    }

    pub fn name_of(&self, number: u32) -> &str {
        self.stages
            .iter()
            .find(|s| s.number == number)
            .map(|s| s.name.as_str())
            .unwrap_or("?")
    }

    pub fn first(&self) -> u32 {
        self.stages.first().map(|s| s.number).unwrap_or(1)
    }
}

/// What an account's journey is replayed from.
#[derive(Debug, Clone, Default)]
pub struct AccountFacts {
    pub crm_id: String,
    pub account_type: Option<String>,
    pub fit: Option<f64>,
    /// The account's activities, each with the person's title if known.
    pub activities: Vec<(Activity, Option<String>)>,
    pub opportunities: Vec<Opportunity>,
}

/// A stage change: on `day` the account moved from `from` to `to`, because of `cause`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageEvent {
    pub crm_id: String,
    pub day: NaiveDate,
    pub from: u32,
    pub to: u32,
    pub cause: String,
}

/// An account's replayed journey: the stage it has without any dated fact, its changes, and
/// its engagement scores on the last day replayed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Journey {
    pub crm_id: String,
    pub base_stage: u32,
    pub through: NaiveDate,
    pub events: Vec<StageEvent>,
    pub scores: Vec<WindowScore>,
}

/// Points and engaged people over one window, read at the end of the `through` day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowScore {
    pub window_days: i64,
    pub points: f64,
    pub engaged_people: usize,
    pub engaged: bool,
}

/// The windows scores are kept for: 7 days, a month, three months.
pub const WINDOWS: [i64; 3] = [7, 30, 90];

impl Journey {
    /// The stage on `day` (at its end).
    pub fn stage_on(&self, day: NaiveDate) -> u32 {
        self.events
            .iter()
            .take_while(|e| e.day <= day)
            .last()
            .map(|e| e.to)
            .unwrap_or(self.base_stage)
    }

    pub fn stage(&self) -> u32 {
        self.events.last().map(|e| e.to).unwrap_or(self.base_stage)
    }
}

/// The end of a day, when a day's stage is read.
pub fn end_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(23, 59, 59).expect("a valid time").and_utc()
}

/// A scored activity, prepared once for the whole replay.
struct Scored<'r> {
    at: DateTime<Utc>,
    kind: String,
    person: Option<String>,
    parts: Vec<Part<'r>>,
}

struct Prepared<'r> {
    scored: Vec<Scored<'r>>,
    /// (at, strength upper-case) of intent signals.
    intent: Vec<(DateTime<Utc>, String)>,
    /// (created, [(stage number or None when closed, entered)]) per opportunity.
    opportunities: Vec<(NaiveDate, String, Vec<(Option<u32>, String, DateTime<Utc>)>)>,
}

fn prepare<'r>(rules: &'r EngagementRules, facts: &AccountFacts) -> Prepared<'r> {
    let mut acts: Vec<&(Activity, Option<String>)> = facts.activities.iter().collect();
    acts.sort_by(|x, y| (x.0.at, &x.0.source_id).cmp(&(y.0.at, &y.0.source_id)));
    let mut scored = Vec::new();
    let mut intent = Vec::new();
    for (a, title) in acts {
        if a.kind.eq_ignore_ascii_case("intent") {
            if let Some(s) = a.attributes.get("strength") {
                intent.push((a.at, s.trim().to_ascii_uppercase()));
            }
        }
        if let Some(parts) = score_activity(rules, a, title.as_deref()) {
            scored.push(Scored {
                at: a.at,
                kind: a.kind.to_lowercase(),
                person: a.email.as_ref().map(|e| e.to_lowercase()),
                parts,
            });
        }
    }
    let opportunities = facts
        .opportunities
        .iter()
        .map(|o| {
            let mut h: Vec<(Option<u32>, String, DateTime<Utc>)> = o
                .history
                .iter()
                .map(|(s, at)| (stage_number(s).filter(|n| *n <= 7), s.clone(), *at))
                .collect();
            h.sort_by_key(|x| x.2);
            (o.created, o.id.clone(), h)
        })
        .collect();
    Prepared {
        scored,
        intent,
        opportunities,
    }
}

/// Windowed sums carried from one day to the next, so a replay reads each activity twice (as it
/// enters and as it leaves a window) instead of once a day. Points are summed in millionths, so
/// that adding and removing never drifts; only used when no rule decays.
struct Sliding<'s> {
    /// (window days, lower-case excluded kinds, window start index, end index, millionths).
    sums: Vec<(i64, Vec<String>, usize, usize, i64)>,
    /// Each stage rule's (window days, excluded kinds as written) and the sum it reads: a day
    /// asks for a rule's points many times, and finding its sum by these (the same slice, not
    /// an equal one) spares comparing the kinds each time.
    of_rule: Vec<(i64, &'s [String], usize)>,
    /// Per scored activity: its points in millionths, and which sums leave it out (bit per sum).
    items: Vec<(i64, u64)>,
    /// The engaged-person window: start index, end index, activities per person, people.
    people: (usize, usize, HashMap<String, u32, crate::paid::FxBuild>),
}

impl<'s> Sliding<'s> {
    fn new(stages: &'s Stages, p: &Prepared) -> Option<Sliding<'s>> {
        if p.scored
            .iter()
            .any(|s| s.parts.iter().any(|x| x.half_life_days.is_some()))
        {
            return None;
        }
        let mut sums: Vec<(i64, Vec<String>, usize, usize, i64)> = Vec::new();
        let mut of_rule = Vec::new();
        for r in stages.stages.iter().filter(|r| r.uses_points()) {
            let ex: Vec<String> = r.exclude_kinds.iter().map(|k| k.to_lowercase()).collect();
            let at = match sums.iter().position(|x| x.0 == r.window_days && x.1 == ex) {
                Some(at) => at,
                None => {
                    sums.push((r.window_days, ex, 0, 0, 0));
                    sums.len() - 1
                }
            };
            of_rule.push((r.window_days, &r.exclude_kinds[..], at));
        }
        if sums.len() > 64 {
            return None;
        }
        let items = p
            .scored
            .iter()
            .map(|s| {
                let micro = (s.parts.iter().map(|x| x.points * x.weight).sum::<f64>() * 1e6).round() as i64;
                let mask = sums
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| x.1.contains(&s.kind))
                    .fold(0u64, |m, (i, _)| m | (1 << i));
                (micro, mask)
            })
            .collect();
        Some(Sliding {
            sums,
            of_rule,
            items,
            people: (0, 0, HashMap::default()),
        })
    }

    /// Move every window to end at `end`.
    fn advance(&mut self, p: &Prepared, rules: &EngagementRules, end: DateTime<Utc>) {
        for (k, (window, _, lo, hi, sum)) in self.sums.iter_mut().enumerate() {
            let start = end - Duration::days(*window);
            while *hi < p.scored.len() && p.scored[*hi].at <= end {
                if self.items[*hi].1 & (1 << k) == 0 {
                    *sum += self.items[*hi].0;
                }
                *hi += 1;
            }
            while *lo < *hi && p.scored[*lo].at < start {
                if self.items[*lo].1 & (1 << k) == 0 {
                    *sum -= self.items[*lo].0;
                }
                *lo += 1;
            }
        }
        let (lo, hi, seen) = &mut self.people;
        let start = end - Duration::days(rules.engaged_person_days);
        while *hi < p.scored.len() && p.scored[*hi].at <= end {
            if let Some(who) = &p.scored[*hi].person {
                *seen.entry(who.clone()).or_default() += 1;
            }
            *hi += 1;
        }
        while *lo < *hi && p.scored[*lo].at < start {
            if let Some(who) = &p.scored[*lo].person {
                if let Some(n) = seen.get_mut(who) {
                    *n -= 1;
                    if *n == 0 {
                        seen.remove(who);
                    }
                }
            }
            *lo += 1;
        }
    }
}

/// The facts of one day, computed as rules ask for them.
struct Day<'p, 'r> {
    p: &'p Prepared<'r>,
    rules: &'r EngagementRules,
    end: DateTime<Utc>,
    sliding: Option<&'p Sliding<'r>>,
}

impl Day<'_, '_> {
    fn points(&self, window_days: i64, exclude: &[String]) -> f64 {
        if let Some(s) = self.sliding {
            let rule = s
                .of_rule
                .iter()
                .find(|r| r.0 == window_days && std::ptr::eq(r.1, exclude));
            if let Some(&(_, _, at)) = rule {
                return s.sums[at].4 as f64 / 1e6;
            }
            if let Some(x) = s.sums.iter().find(|x| {
                x.0 == window_days
                    && x.1.len() == exclude.len()
                    && exclude.iter().all(|k| x.1.iter().any(|y| y.eq_ignore_ascii_case(k)))
            }) {
                return x.4 as f64 / 1e6;
            }
        }
        let start = self.end - Duration::days(window_days);
        let lo = self.p.scored.partition_point(|s| s.at < start);
        let hi = self.p.scored.partition_point(|s| s.at <= self.end);
        self.p.scored[lo..hi]
            .iter()
            .filter(|s| !exclude.iter().any(|k| k.eq_ignore_ascii_case(&s.kind)))
            .flat_map(|s| {
                s.parts
                    .iter()
                    .map(move |p| p.points * p.weight * p.decay_at(s.at, self.end))
            })
            .sum()
    }

    fn people(&self) -> usize {
        if let Some(s) = self.sliding {
            return s.people.2.len();
        }
        let start = self.end - Duration::days(self.rules.engaged_person_days);
        let lo = self.p.scored.partition_point(|s| s.at < start);
        let hi = self.p.scored.partition_point(|s| s.at <= self.end);
        self.p.scored[lo..hi]
            .iter()
            .filter_map(|s| s.person.as_deref())
            .collect::<HashSet<_>>()
            .len()
    }

    /// Open opportunities on this day: (created, id, stage number, stage name).
    fn open_opportunities(&self) -> Vec<(NaiveDate, &str, u32, &str)> {
        self.p
            .opportunities
            .iter()
            .filter_map(|(created, id, h)| {
                let (n, name, _) = h.iter().take_while(|x| x.2 <= self.end).last()?;
                n.map(|n| (*created, id.as_str(), n, name.as_str()))
            })
            .collect()
    }

    fn intent(&self, strengths: &[String], days: i64) -> Option<(DateTime<Utc>, &str)> {
        let start = self.end - Duration::days(days);
        self.p
            .intent
            .iter()
            .rev()
            .skip_while(|(at, _)| *at > self.end)
            .take_while(|(at, _)| *at >= start)
            .find(|(_, s)| strengths.iter().any(|w| w.eq_ignore_ascii_case(s)))
            .map(|(at, s)| (*at, s.as_str()))
    }
}

fn fmt_points(p: f64) -> String {
    let s = format!("{p:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Whether `rule` holds on `day`, and, when `explain`, why (the cause recorded on a stage
/// change). A replay asks on every day something changes and wants the why only when the stage
/// does: writing it each time was a sixth of a replay.
fn check(rule: &StageRule, facts: &AccountFacts, day: &Day, explain: bool) -> Option<String> {
    if !rule.has_conditions() || !rule.takes_account(facts) {
        return None;
    }
    let mut why = Vec::new();
    let mut say = |text: &dyn Fn() -> String| {
        if explain {
            why.push(text());
        }
    };
    if let Some(t) = facts.account_type.as_deref().filter(|_| !rule.account_types.is_empty()) {
        say(&|| format!("account type {t}"));
    }
    if rule.asks_open_opportunity() {
        let open = day.open_opportunities();
        if !rule.open_opportunity_in.is_empty() {
            let (_, id, _, name) = open.iter().find(|o| rule.open_opportunity_in.contains(&o.2))?;
            say(&|| format!("open opportunity {id} in {name}"));
        }
        if !rule.latest_open_opportunity_in.is_empty() {
            let (_, id, n, name) = open.iter().max_by_key(|o| (o.0, o.1))?;
            if !rule.latest_open_opportunity_in.contains(n) {
                return None;
            }
            say(&|| format!("latest open opportunity {id} in {name}"));
        }
    }
    if let (Some(min), Some(fit)) = (rule.fit_at_least, facts.fit) {
        say(&|| format!("fit {} ≥ {}", fmt_points(fit), fmt_points(min)));
    }
    if !rule.intent.is_empty() {
        let (at, s) = day.intent(&rule.intent, rule.intent_days)?;
        say(&|| format!("{s} intent on {}", at.date_naive()));
    }
    if rule.uses_points() {
        let p = day.points(rule.window_days, &rule.exclude_kinds);
        if rule.points_at_least.is_some_and(|m| p < m) || rule.points_above.is_some_and(|m| p <= m) {
            return None;
        }
        say(&|| {
            let leaving_out = if rule.exclude_kinds.is_empty() {
                String::new()
            } else {
                format!(" without {}", rule.exclude_kinds.join(", "))
            };
            format!("{} points in {} days{leaving_out}", fmt_points(p), rule.window_days)
        });
    }
    if rule.people_at_least.is_some() || rule.people_at_most.is_some() || rule.people_above.is_some() {
        let n = day.people();
        if rule.people_at_least.is_some_and(|m| n < m)
            || rule.people_at_most.is_some_and(|m| n > m)
            || rule.people_above.is_some_and(|m| n <= m)
        {
            return None;
        }
        say(&|| format!("{n} engaged {}", if n == 1 { "person" } else { "people" }));
    }
    Some(why.join("; "))
}

/// The stage on the day `day` describes (bottom of the funnel first, first match wins), and,
/// when `explain`, why; `live` holds the stages that may match at all (see [`live_stages`]),
/// bottom first.
fn evaluate(stages: &Stages, live: &[&StageRule], facts: &AccountFacts, day: &Day, explain: bool) -> (u32, String) {
    live.iter()
        .find_map(|s| check(s, facts, day, explain).map(|why| (s.number, why)))
        .unwrap_or_else(|| (stages.first(), "no stage rule matched".into()))
}

/// The stages that can hold on some day for this account, bottom of the funnel first: a stage
/// without conditions never does (the first stage is what is left), nor one asking for another
/// account type, a higher fit, or an open opportunity of an account without any. Those facts do
/// not change during a replay; leaving such stages out spares checking them every day (most
/// accounts can reach four of the handbook's thirteen).
fn live_stages<'s>(stages: &'s Stages, facts: &AccountFacts) -> Vec<&'s StageRule> {
    stages
        .stages
        .iter()
        .rev()
        .filter(|r| {
            r.has_conditions()
                && r.takes_account(facts)
                && (!r.asks_open_opportunity() || !facts.opportunities.is_empty())
        })
        .collect()
}

/// The days from `first` through `through` on which something enters or leaves a window a stage
/// reads (points, engaged people, intent), or an opportunity moves, sorted.
fn change_days(
    stages: &Stages,
    rules: &EngagementRules,
    p: &Prepared,
    first: NaiveDate,
    through: NaiveDate,
) -> Vec<NaiveDate> {
    let mut windows: Vec<i64> = stages
        .stages
        .iter()
        .filter(|s| s.uses_points())
        .map(|s| s.window_days)
        .chain(std::iter::once(rules.engaged_person_days))
        .collect();
    windows.sort_unstable();
    windows.dedup();
    let mut intent_windows: Vec<i64> = stages
        .stages
        .iter()
        .filter(|s| !s.intent.is_empty())
        .map(|s| s.intent_days)
        .collect();
    intent_windows.sort_unstable();
    intent_windows.dedup();
    let mut days = vec![first];
    // A fact enters on the first day it is seen, and leaves a window on the first day it is out
    // of it; on no other day can what the window holds change.
    let add = |at: DateTime<Utc>, windows: &[i64], days: &mut Vec<NaiveDate>| {
        days.push(seen_from(at));
        days.extend(windows.iter().filter_map(|w| gone_from(at, *w)));
    };
    for s in &p.scored {
        add(s.at, &windows, &mut days);
    }
    for (at, _) in &p.intent {
        add(*at, &intent_windows, &mut days);
    }
    for (_, _, h) in &p.opportunities {
        days.extend(h.iter().map(|x| seen_from(x.2)));
    }
    days.retain(|d| *d >= first && *d <= through);
    days.sort_unstable();
    days.dedup();
    days
}

/// The first day whose end (see [`end_of`]) is at or after `at`: the first day a fact dated `at`
/// counts (the day it happened, but for its last fraction of a second).
fn seen_from(at: DateTime<Utc>) -> NaiveDate {
    let day = at.date_naive();
    match end_of(day) >= at {
        true => day,
        false => day.succ_opt().unwrap_or(day),
    }
}

/// The first day a fact dated `at` is out of a window of `days` days (a window holds what
/// happened from `days` days before a day's end through that end), if there is such a day.
fn gone_from(at: DateTime<Utc>, days: i64) -> Option<NaiveDate> {
    let out = at.checked_add_signed(Duration::try_days(days)?)?;
    let day = out.date_naive();
    match end_of(day) > out {
        true => Some(day),
        false => day.succ_opt(),
    }
}

/// The first day any of the account's dated facts happened.
pub fn first_fact_day(facts: &AccountFacts) -> Option<NaiveDate> {
    let a = facts.activities.iter().map(|(a, _)| a.at.date_naive()).min();
    let o = facts
        .opportunities
        .iter()
        .flat_map(|o| o.history.iter().map(|(_, at)| at.date_naive()))
        .min();
    a.into_iter().chain(o).min()
}

/// Replay an account's journey day by day from its first dated fact through `through`, and
/// read its scores at the end of `through`. Days without any change leave no event.
pub fn replay(stages: &Stages, rules: &EngagementRules, facts: &AccountFacts, through: NaiveDate) -> Journey {
    run(stages, rules, facts, None, through, true)
}

/// How far before a day the facts must reach for that day's stage and scores: the longest
/// window any stage or score reads, and a day to spare.
pub fn lookback_days(stages: &Stages, rules: &EngagementRules) -> i64 {
    stages
        .stages
        .iter()
        .flat_map(|s| [s.window_days, s.intent_days])
        .chain(WINDOWS)
        .chain(std::iter::once(rules.engaged_person_days))
        .max()
        .unwrap_or(90)
        + 2
}

/// Bring `prior` up to `through` after new facts dated `from` or later arrived: its changes
/// before `from` stand, the rest is replayed. `facts` need only hold the activities since the
/// earliest of `from`, the day after `prior.through` and `through`, minus [`lookback_days`]
/// (and every opportunity). Gives what [`replay`] gives.
pub fn resume(
    stages: &Stages,
    rules: &EngagementRules,
    facts: &AccountFacts,
    prior: &Journey,
    from: NaiveDate,
    through: NaiveDate,
) -> Journey {
    let from = resumed_from(prior, from, through);
    run(stages, rules, facts, Some((prior, from)), through, true)
}

/// The first day a [`resume`] of `prior` replays: its stage changes before that day stand, the
/// rest are replaced. Days after the prior replay's last one were never read, so it starts no
/// later than the next; nor later than the day after `through`.
pub fn resumed_from(prior: &Journey, from: NaiveDate, through: NaiveDate) -> NaiveDate {
    [prior.through.succ_opt(), through.succ_opt()]
        .into_iter()
        .flatten()
        .fold(from, NaiveDate::min)
}

#[cfg(test)]
fn replay_with(
    stages: &Stages,
    rules: &EngagementRules,
    facts: &AccountFacts,
    through: NaiveDate,
    slide: bool,
) -> Journey {
    run(stages, rules, facts, None, through, slide)
}

fn run(
    stages: &Stages,
    rules: &EngagementRules,
    facts: &AccountFacts,
    resume: Option<(&Journey, NaiveDate)>,
    through: NaiveDate,
    slide: bool,
) -> Journey {
    let p = prepare(rules, facts);
    let empty = Prepared {
        scored: Vec::new(),
        intent: Vec::new(),
        opportunities: Vec::new(),
    };
    let base_day = Day {
        p: &empty,
        rules,
        end: end_of(through),
        sliding: None,
    };
    let live = match slide {
        true => live_stages(stages, facts),
        // Every stage, as a check against leaving some out (tests).
        false => stages.stages.iter().rev().collect(),
    };
    let (base_stage, _) = evaluate(stages, &live, facts, &base_day, false);
    let (mut events, mut current, start) = match resume {
        Some((prior, from)) => {
            let kept: Vec<StageEvent> = prior.events.iter().filter(|e| e.day < from).cloned().collect();
            let current = kept.last().map(|e| e.to).unwrap_or(base_stage);
            let first = first_fact_day(facts).map_or(from, |f| f.max(from));
            (kept, current, Some(first))
        }
        None => (Vec::new(), base_stage, first_fact_day(facts)),
    };
    if let Some(first) = start.filter(|d| *d <= through) {
        let mut sliding = if slide { Sliding::new(stages, &p) } else { None };
        // Without decay a stage can only change on a day something enters or leaves a window:
        // those days are read; with decay (or when asked to), every day is.
        let days: Vec<NaiveDate> = match &sliding {
            Some(_) => change_days(stages, rules, &p, first, through),
            None => first.iter_days().take_while(|d| *d <= through).collect(),
        };
        for day in days {
            if let Some(s) = sliding.as_mut() {
                s.advance(&p, rules, end_of(day));
            }
            let d = Day {
                p: &p,
                rules,
                end: end_of(day),
                sliding: sliding.as_ref(),
            };
            let (stage, _) = evaluate(stages, &live, facts, &d, false);
            if stage != current {
                events.push(StageEvent {
                    crm_id: facts.crm_id.clone(),
                    day,
                    from: current,
                    to: stage,
                    cause: evaluate(stages, &live, facts, &d, true).1,
                });
                current = stage;
            }
        }
    }
    let last = Day {
        p: &p,
        rules,
        end: end_of(through),
        sliding: None,
    };
    let people = last.people();
    let scores = WINDOWS
        .iter()
        .map(|w| {
            let points = last.points(*w, &[]);
            WindowScore {
                window_days: *w,
                points,
                engaged_people: people,
                engaged: points >= rules.engaged_account_points && people >= rules.engaged_account_people,
            }
        })
        .collect();
    Journey {
        crm_id: facts.crm_id.clone(),
        base_stage,
        through,
        events,
        scores,
    }
}

/// How many accounts sat in each stage at the end of `day`.
pub fn counts_on(stages: &Stages, journeys: &[Journey], day: NaiveDate) -> Vec<(u32, usize)> {
    let mut counts: BTreeMap<u32, usize> = stages.stages.iter().map(|s| (s.number, 0)).collect();
    for j in journeys {
        *counts.entry(j.stage_on(day)).or_default() += 1;
    }
    counts.into_iter().collect()
}

/// One funnel stage between two days.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunnelRow {
    pub stage: u32,
    pub name: String,
    /// In this stage at the end of the first day.
    pub at_start: usize,
    /// Entered this stage or a later one during the period, having been earlier on the first day.
    pub reached: usize,
    /// In this stage at the end of the last day.
    pub at_end: usize,
    /// Were in this stage during the period …
    pub were_in: usize,
    /// … and later moved further down the funnel within it.
    pub moved_on: usize,
    /// moved_on ÷ were_in.
    pub conversion: Option<f64>,
    /// Median days from entering this stage to first moving further, for those who moved on.
    pub median_days_to_next: Option<f64>,
}

/// The funnel between `from` and `to` (inclusive): stages in the funnel only, accounts present
/// on both days only (histories reach back to `from`: the account was held by then).
pub fn funnel(stages: &Stages, journeys: &[Journey], from: NaiveDate, to: NaiveDate) -> Vec<FunnelRow> {
    let in_funnel: Vec<&StageRule> = stages.stages.iter().filter(|s| s.in_funnel).collect();
    let order = |n: u32| in_funnel.iter().position(|s| s.number == n);
    let mut rows: Vec<FunnelRow> = in_funnel
        .iter()
        .map(|s| FunnelRow {
            stage: s.number,
            name: s.name.clone(),
            at_start: 0,
            reached: 0,
            at_end: 0,
            were_in: 0,
            moved_on: 0,
            conversion: None,
            median_days_to_next: None,
        })
        .collect();
    let mut days: Vec<Vec<f64>> = vec![Vec::new(); rows.len()];
    for j in journeys.iter().filter(|j| j.through >= to) {
        // The account's stages through the period: (day, funnel position or None).
        let start = order(j.stage_on(from));
        let mut path: Vec<(NaiveDate, Option<usize>)> = vec![(from, start)];
        path.extend(
            j.events
                .iter()
                .filter(|e| e.day > from && e.day <= to)
                .map(|e| (e.day, order(e.to))),
        );
        if let Some(i) = start {
            rows[i].at_start += 1;
        }
        if let Some(i) = order(j.stage_on(to)) {
            rows[i].at_end += 1;
        }
        let furthest = path.iter().filter_map(|(_, p)| *p).max();
        if let Some(top) = furthest {
            let from_pos = start.map(|s| s + 1).unwrap_or(0);
            for row in rows.iter_mut().take(top + 1).skip(from_pos) {
                row.reached += 1;
            }
        }
        for (i, row) in rows.iter_mut().enumerate() {
            let Some(k) = path.iter().position(|(_, p)| *p == Some(i)) else {
                continue;
            };
            row.were_in += 1;
            if let Some((day, _)) = path[k + 1..].iter().find(|(_, p)| p.is_some_and(|p| p > i)) {
                row.moved_on += 1;
                // Days from the last entry into this stage before moving on.
                let entered = path[..=k]
                    .iter()
                    .rev()
                    .find(|(_, p)| *p == Some(i))
                    .map(|(d, _)| *d)
                    .unwrap_or(from);
                let entered = if k == 0 {
                    j.events
                        .iter()
                        .filter(|e| e.day <= from && order(e.to) == Some(i))
                        .map(|e| e.day)
                        .next_back()
                        .unwrap_or(entered)
                } else {
                    entered
                };
                days[i].push((*day - entered).num_days() as f64);
            }
        }
    }
    for (row, d) in rows.iter_mut().zip(days.iter_mut()) {
        row.conversion = (row.were_in > 0).then(|| row.moved_on as f64 / row.were_in as f64);
        row.median_days_to_next = median(d);
    }
    rows
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engagement::{Rule, Weight};
    use chrono::TimeZone;

    fn stages() -> Stages {
        toml::from_str(include_str!("../../abm-workspace/defaults/stages.toml")).unwrap()
    }

    fn rules() -> EngagementRules {
        let r = |name: &str, kind: &str, points: f64| Rule {
            name: name.into(),
            kind: Some(kind.into()),
            when: vec![],
            points,
            points_from: None,
            half_life_days: None,
        };
        EngagementRules {
            rules: vec![
                r("form", "Form Fill", 5.0),
                r("trial", "Trial Start", 50.0),
                r("sales", "Sales Email", 1.0),
            ],
            weights: vec![Weight {
                name: "VP".into(),
                title_contains: vec!["vp".into()],
                factor: 1.25,
            }],
            engaged_person_days: 90,
            engaged_account_points: 20.0,
            engaged_account_people: 2,
        }
    }

    fn act(id: usize, day: NaiveDate, kind: &str, who: &str) -> (Activity, Option<String>) {
        (
            Activity {
                source: "t".into(),
                source_id: id.to_string(),
                at: Utc.from_utc_datetime(&day.and_hms_opt(15, 0, 0).unwrap()),
                kind: kind.into(),
                email: Some(format!("{who}@acme.com")),
                account_id: None,
                ip: None,
                company_domain: None,
                attributes: Default::default(),
            },
            None,
        )
    }

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    #[test]
    fn the_shipped_default_is_valid_and_has_the_handbooks_thirteen_stages() {
        let s = stages();
        s.validate().unwrap();
        assert_eq!(s.stages.len(), 13);
        assert_eq!(s.name_of(6), "Marketing Qualified Account (MQA)");
    }

    #[test]
    fn enters_mqa_on_the_day_it_crosses_a_hundred_points_with_four_people() {
        let mut facts = AccountFacts {
            crm_id: "A".into(),
            account_type: Some("Prospect".into()),
            fit: Some(80.0),
            ..Default::default()
        };
        // Four people fill forms through March: 4 × 5 = 20 points by March 4 (Engaged with People).
        for (i, who) in ["ann", "bo", "cy", "di"].iter().enumerate() {
            facts.activities.push(act(i, d(3, 1 + i as u32), "Form Fill", who));
        }
        // Sales emails are not marketing points: 100 of them change nothing for MQA.
        for i in 0..100 {
            facts.activities.push(act(100 + i, d(3, 10), "Sales Email", "ann"));
        }
        // Trial starts on March 20 (70 points) and March 25 (120: above 100).
        facts.activities.push(act(10, d(3, 20), "Trial Start", "bo"));
        facts.activities.push(act(11, d(3, 25), "Trial Start", "cy"));
        let j = replay(&stages(), &rules(), &facts, d(6, 30));
        assert_eq!(j.base_stage, 2, "fit 80 alone: Demographic Qualified");
        let mqa = j.events.iter().find(|e| e.to == 6).expect("reached MQA");
        assert_eq!(mqa.day, d(3, 25));
        assert!(mqa.cause.contains("120 points in 90 days"), "{}", mqa.cause);
        assert!(mqa.cause.contains("4 engaged people"), "{}", mqa.cause);
        assert_eq!(j.stage_on(d(3, 24)), 5);
        // Ninety days after the forms, points fall out of the window and the stage falls back.
        assert_eq!(j.stage_on(d(6, 30)), 2);
        // Scores at the end are read from the same points as explain.
        let e = crate::engagement::explain(&rules(), &facts.activities, end_of(d(6, 30)), 90);
        assert_eq!(j.scores[2].points, e.score);
    }

    #[test]
    fn opportunities_and_account_types_sit_at_the_bottom() {
        let at = |m, day| Utc.from_utc_datetime(&d(m, day).and_hms_opt(12, 0, 0).unwrap());
        let mut facts = AccountFacts {
            crm_id: "B".into(),
            account_type: Some("Prospect".into()),
            fit: None,
            activities: vec![],
            opportunities: vec![Opportunity {
                id: "O1".into(),
                crm_id: "B".into(),
                name: "x".into(),
                created: d(2, 1),
                stage: "2-Scoping".into(),
                amount_cents: 1,
                order_type: "New - First Order".into(),
                close_date: None,
                history: vec![
                    ("0-Pending Acceptance".into(), at(2, 1)),
                    ("1-Discovery".into(), at(2, 10)),
                    ("2-Scoping".into(), at(3, 1)),
                    ("8-Closed Lost".into(), at(4, 1)),
                ],
            }],
        };
        let j = replay(&stages(), &rules(), &facts, d(4, 30));
        let path: Vec<(NaiveDate, u32)> = j.events.iter().map(|e| (e.day, e.to)).collect();
        assert_eq!(path, vec![(d(2, 1), 7), (d(2, 10), 8), (d(3, 1), 9), (d(4, 1), 1)]);
        facts.account_type = Some("Customer".into());
        let j = replay(&stages(), &rules(), &facts, d(4, 30));
        assert_eq!(j.base_stage, 11);
        assert!(j.events.is_empty(), "a customer stays a customer: {:?}", j.events);
    }

    #[test]
    fn funnel_counts_accounts_moving_between_two_days() {
        let j = |id: &str, base: u32, moves: &[(NaiveDate, u32)]| {
            let mut from = base;
            Journey {
                crm_id: id.into(),
                base_stage: base,
                through: d(12, 31),
                events: moves
                    .iter()
                    .map(|(day, to)| {
                        let e = StageEvent {
                            crm_id: id.into(),
                            day: *day,
                            from,
                            to: *to,
                            cause: String::new(),
                        };
                        from = *to;
                        e
                    })
                    .collect(),
                scores: vec![],
            }
        };
        let js = vec![
            j("a", 1, &[(d(1, 5), 5), (d(4, 10), 6), (d(4, 20), 8)]),
            j("b", 1, &[(d(4, 2), 5)]),
            j("c", 2, &[]),
            j("d", 1, &[(d(3, 1), 5), (d(5, 1), 6)]),
        ];
        let f = funnel(&stages(), &js, d(4, 1), d(4, 30));
        let row = |n: u32| f.iter().find(|r| r.stage == n).unwrap().clone();
        assert_eq!(row(5).at_start, 2, "a and d were engaged on April 1");
        assert_eq!(row(5).reached, 1, "b reached Engaged in April");
        assert_eq!(row(6).reached, 1, "a reached MQA in April; d only in May");
        assert_eq!(row(5).were_in, 3);
        assert_eq!(row(5).moved_on, 1);
        assert_eq!(row(5).median_days_to_next, Some(95.0), "a: January 5 to April 10");
        assert_eq!(row(6).median_days_to_next, Some(10.0));
        assert_eq!(row(8).at_end, 1);
        assert!(
            f.iter().all(|r| r.stage <= 11),
            "former customers and disqualified are not in the funnel"
        );
        let counts = counts_on(&stages(), &js, d(4, 15));
        assert_eq!(counts.iter().find(|c| c.0 == 6).unwrap().1, 1);
    }

    proptest::proptest! {
        #[test]
        fn stored_scores_equal_the_sum_of_explained_contributions(
            acts in proptest::collection::vec((0u32..200, 0usize..4, 0usize..5, 0usize..5), 0..60),
            account_type in 0usize..4,
            fit in 0usize..3,
            opportunity in proptest::option::of((0u32..150, 0usize..4)),
        ) {
            let kinds = ["Form Fill", "Trial Start", "Sales Email", "Intent"];
            let who = ["ann", "bo", "cy", "vp.di", "ed"];
            // Times at the edges of a day (and of a window, some days later): a replay reads
            // only the days something enters or leaves a window, and must not miss one.
            let times = [(0, 0, 0, 0), (15, 0, 0, 0), (23, 59, 58, 0), (23, 59, 59, 0), (23, 59, 59, 500_000_000)];
            let start = d(1, 1);
            // Facts some stages ask for (and which leave stages out of a replay when missing).
            let mut facts = AccountFacts {
                crm_id: "P".into(),
                account_type: [None, Some("Prospect"), Some(" customer "), Some("Partner")][account_type].map(String::from),
                fit: [None, Some(50.0), Some(80.0)][fit],
                ..Default::default()
            };
            if let Some((day, reached)) = opportunity {
                let at = |n: u32| (start + Duration::days((day + n * 9) as i64)).and_hms_opt(12, 0, 0).unwrap().and_utc();
                let path = ["0-Pending Acceptance", "1-Discovery", "3-Technical Evaluation", "8-Closed Lost"];
                facts.opportunities.push(Opportunity {
                    id: "O1".into(),
                    crm_id: "P".into(),
                    name: "x".into(),
                    created: at(0).date_naive(),
                    stage: path[reached].into(),
                    amount_cents: 1,
                    order_type: "New - First Order".into(),
                    close_date: None,
                    history: (0..=reached).map(|n| (path[n].to_string(), at(n as u32))).collect(),
                });
            }
            for (i, (day, k, w, t)) in acts.iter().enumerate() {
                let mut a = act(i, start + Duration::days(*day as i64), kinds[*k], who[*w]);
                let (h, m, sec, nano) = times[*t];
                a.0.at = (start + Duration::days(*day as i64)).and_hms_nano_opt(h, m, sec, nano).unwrap().and_utc();
                a.1 = Some(if who[*w].starts_with("vp") { "VP Sales".into() } else { "Engineer".into() });
                if kinds[*k] == "Intent" {
                    a.0.attributes.insert("strength".into(), ["HIGH", "LOW"][*w % 2].into());
                }
                facts.activities.push(a);
            }
            let through = d(7, 1);
            let j = replay(&stages(), &rules(), &facts, through);
            for s in &j.scores {
                let e = crate::engagement::explain(&rules(), &facts.activities, end_of(through), s.window_days);
                let listed: f64 = e.contributions.iter().map(|c| c.total).sum();
                proptest::prop_assert_eq!(s.points, e.score);
                proptest::prop_assert!((listed - s.points).abs() < 1e-9);
                proptest::prop_assert_eq!(s.engaged_people, e.engaged_people);
            }
            // Windows slid from day to day give the journey reading every window afresh gives.
            proptest::prop_assert_eq!(&j, &replay_with(&stages(), &rules(), &facts, through, false));
        }

        #[test]
        fn resuming_after_new_facts_gives_the_full_replay(
            acts in proptest::collection::vec((0u32..200, 0usize..4, 0usize..5), 0..60),
            prior_days in 0i64..182,
            from_days in 0i64..200,
        ) {
            let kinds = ["Form Fill", "Trial Start", "Sales Email", "Intent"];
            let who = ["ann", "bo", "cy", "vp.di", "ed"];
            let start = d(1, 1);
            let mut facts = AccountFacts { crm_id: "P".into(), ..Default::default() };
            for (i, (day, k, w)) in acts.iter().enumerate() {
                let mut a = act(i, start + Duration::days(*day as i64), kinds[*k], who[*w]);
                if kinds[*k] == "Intent" {
                    a.0.attributes.insert("strength".into(), ["HIGH", "LOW"][*w % 2].into());
                }
                facts.activities.push(a);
            }
            let through = d(7, 1);
            let full = replay(&stages(), &rules(), &facts, through);
            // The prior replay saw only what was there by its day; new facts are dated `from` on.
            let from = start + Duration::days(from_days);
            let prior_through = start + Duration::days(prior_days);
            let mut before = facts.clone();
            before.activities.retain(|(a, _)| a.at.date_naive() < from);
            let prior = replay(&stages(), &rules(), &before, prior_through);
            let cutoff = from.min(prior_through + Duration::days(1)).min(through) - Duration::days(lookback_days(&stages(), &rules()));
            let mut recent = facts.clone();
            recent.activities.retain(|(a, _)| a.at.date_naive() >= cutoff);
            proptest::prop_assert_eq!(resume(&stages(), &rules(), &recent, &prior, from, through), full);
        }
    }
}
