//! Account families. Most rules look at the whole family under an ultimate parent: the segment
//! comes from the family's largest employee count, CARR is summed over the family, and a family
//! with no CARR is available for a first order. This module computes those roll-ups in one linear
//! pass and reports the two things CRM data gets wrong: cycles and parents that do not exist.

use crate::account::Segment;
use crate::geo::Geo;
use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};

/// One account's place in the hierarchy and the facts that roll up.
#[derive(Debug, Clone, PartialEq)]
pub struct HierarchyInput {
    pub id: String,
    pub parent: Option<String>,
    pub employees: Option<u32>,
    pub carr_cents: i64,
    pub geo: Option<Geo>,
    /// The segment recorded earlier and the fiscal year it was set in (segments are frozen for a
    /// fiscal year).
    pub frozen_segment: Option<(Segment, i32)>,
}

impl HierarchyInput {
    /// What an incoming account record brings to the hierarchy (no segment frozen yet).
    pub fn of(r: &crate::account::AccountRecord) -> Self {
        HierarchyInput {
            id: r.crm_id.as_str().to_string(),
            parent: r.parent_id.as_ref().map(|p| p.as_str().to_string()),
            employees: r.employees,
            carr_cents: r.carr_cents,
            geo: r.geo,
            frozen_segment: None,
        }
    }
}

/// Family roll-ups for one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyFacts {
    pub ultimate_parent: String,
    pub family_max_employees: Option<u32>,
    pub family_carr_cents: i64,
    pub first_order_available: bool,
    pub segment: Segment,
    /// The fiscal year the segment was set in.
    pub segment_fy: i32,
}

/// What was wrong with the hierarchy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HierarchyReport {
    /// Each cycle's members in parent order; each member is treated as its own ultimate parent.
    pub cycles: Vec<Vec<String>>,
    /// (child, missing parent id): the child is treated as its own ultimate parent.
    pub missing_parents: Vec<(String, String)>,
}

/// Compute every account's family facts. `fiscal_year` is the current fiscal year: a segment
/// frozen in an earlier year is derived afresh, one frozen this year is kept.
pub fn roll_up<T: Borrow<HierarchyInput>>(nodes: &[T], fiscal_year: i32) -> (Vec<FamilyFacts>, HierarchyReport) {
    let n = nodes.len();
    let nodes: Vec<&HierarchyInput> = nodes.iter().map(|a| a.borrow()).collect();
    // Fx, not SipHash: a million-account import looks every id up here.
    let mut index: HashMap<&str, usize, crate::paid::FxBuild> =
        HashMap::with_capacity_and_hasher(n, Default::default());
    for (i, a) in nodes.iter().enumerate() {
        index.insert(a.id.as_str(), i);
    }
    let mut report = HierarchyReport::default();
    let parent: Vec<Option<usize>> = nodes
        .iter()
        .map(|a| match a.parent.as_deref() {
            None => None,
            Some(p) => match index.get(p) {
                Some(&i) => Some(i),
                None => {
                    report.missing_parents.push((a.id.clone(), p.to_string()));
                    None
                }
            },
        })
        .collect();

    const UNSEEN: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![UNSEEN; n];
    let mut root = vec![usize::MAX; n];
    let mut path: Vec<usize> = Vec::new();
    for start in 0..n {
        if state[start] == DONE {
            continue;
        }
        path.clear();
        let mut cur = start;
        let r = loop {
            match state[cur] {
                DONE => break root[cur],
                ON_PATH => {
                    let pos = path.iter().position(|&x| x == cur).expect("on path");
                    let members = path.split_off(pos);
                    for &m in &members {
                        state[m] = DONE;
                        root[m] = m;
                    }
                    report
                        .cycles
                        .push(members.iter().map(|&m| nodes[m].id.clone()).collect());
                    break cur;
                }
                _ => match parent[cur] {
                    None => {
                        state[cur] = DONE;
                        root[cur] = cur;
                        break cur;
                    }
                    Some(p) => {
                        state[cur] = ON_PATH;
                        path.push(cur);
                        cur = p;
                    }
                },
            }
        };
        for &m in &path {
            state[m] = DONE;
            root[m] = r;
        }
    }

    let mut max_emp: Vec<Option<u32>> = vec![None; n];
    let mut carr = vec![0i64; n];
    for i in 0..n {
        let r = root[i];
        if let Some(e) = nodes[i].employees {
            max_emp[r] = Some(max_emp[r].map_or(e, |m: u32| m.max(e)));
        }
        carr[r] += nodes[i].carr_cents;
    }
    let facts = (0..n)
        .map(|i| {
            let r = root[i];
            let (segment, segment_fy) = match nodes[i].frozen_segment {
                Some((s, fy)) if fy == fiscal_year => (s, fy),
                _ => (Segment::derive(max_emp[r], nodes[i].geo), fiscal_year),
            };
            FamilyFacts {
                ultimate_parent: nodes[r].id.clone(),
                family_max_employees: max_emp[r],
                family_carr_cents: carr[r],
                first_order_available: carr[r] == 0,
                segment,
                segment_fy,
            }
        })
        .collect();
    (facts, report)
}

/// An account already stored: what its roll-up needs (its stored segment frozen), and the facts
/// stored for it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMember {
    pub input: HierarchyInput,
    pub facts: FamilyFacts,
}

/// What bringing new or changed accounts into the hierarchy changes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RollUpPlan {
    /// Facts for each incoming account, in the order given.
    pub incoming: Vec<FamilyFacts>,
    /// Stored accounts not among the incoming ones whose facts change.
    pub updates: Vec<(String, FamilyFacts)>,
    /// Incoming accounts that are already stored.
    pub existing: HashSet<String>,
    pub report: HierarchyReport,
}

/// Roll `incoming` accounts up together with the `stored` ones. An incoming account that is
/// already stored replaces its stored input but keeps the segment frozen for it this fiscal year.
pub fn plan<T: Borrow<HierarchyInput>>(stored: &[StoredMember], incoming: &[T], fiscal_year: i32) -> RollUpPlan {
    if stored.is_empty() {
        // A first load: no lookups against stored accounts (a million-row import skips building them).
        let (incoming, report) = roll_up(incoming, fiscal_year);
        return RollUpPlan {
            incoming,
            report,
            ..Default::default()
        };
    }
    let incoming_ids: HashSet<&str> = incoming.iter().map(|i| i.borrow().id.as_str()).collect();
    let frozen: HashMap<&str, (Segment, i32)> = stored
        .iter()
        .filter_map(|s| Some((s.input.id.as_str(), s.input.frozen_segment?)))
        .collect();
    let others: Vec<&StoredMember> = stored
        .iter()
        .filter(|s| !incoming_ids.contains(s.input.id.as_str()))
        .collect();
    let mut inputs: Vec<HierarchyInput> = Vec::with_capacity(others.len() + incoming.len());
    inputs.extend(others.iter().map(|s| s.input.clone()));
    inputs.extend(incoming.iter().map(|i| {
        let i = i.borrow();
        HierarchyInput {
            frozen_segment: frozen.get(i.id.as_str()).copied().or(i.frozen_segment),
            ..i.clone()
        }
    }));
    let (mut facts, report) = roll_up(&inputs, fiscal_year);
    let incoming_facts = facts.split_off(others.len());
    let updates = others
        .iter()
        .zip(facts)
        .filter(|(s, f)| s.facts != *f)
        .map(|(s, f)| (s.input.id.clone(), f))
        .collect();
    let existing = stored
        .iter()
        .filter(|s| incoming_ids.contains(s.input.id.as_str()))
        .map(|s| s.input.id.clone())
        .collect();
    RollUpPlan {
        incoming: incoming_facts,
        updates,
        existing,
        report,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn node(id: &str, parent: Option<&str>, employees: Option<u32>, carr: i64) -> HierarchyInput {
        HierarchyInput {
            id: id.into(),
            parent: parent.map(Into::into),
            employees,
            carr_cents: carr,
            geo: None,
            frozen_segment: None,
        }
    }

    #[test]
    fn family_rollups() {
        let nodes = vec![
            node("child", Some("mid"), Some(50), 0),
            node("mid", Some("top"), Some(3000), 10_000),
            node("top", None, Some(200), 0),
            node("alone", None, None, 0),
        ];
        let (facts, report) = roll_up(&nodes, 2027);
        assert!(report.cycles.is_empty() && report.missing_parents.is_empty());
        assert_eq!(facts[0].ultimate_parent, "top");
        assert_eq!(facts[0].family_max_employees, Some(3000));
        assert_eq!(facts[0].segment, Segment::Large, "child inherits the family's size");
        assert_eq!(facts[2].family_carr_cents, 10_000);
        assert!(!facts[2].first_order_available);
        assert!(facts[3].first_order_available);
        assert_eq!(facts[3].segment, Segment::Smb);
    }

    #[test]
    fn cycles_and_missing_parents_are_reported() {
        let nodes = vec![
            node("a", Some("b"), None, 0),
            node("b", Some("c"), None, 0),
            node("c", Some("b"), None, 0),
            node("d", Some("ghost"), None, 0),
            node("e", Some("e"), None, 0),
        ];
        let (facts, report) = roll_up(&nodes, 2027);
        let mut cycles: Vec<Vec<String>> = report
            .cycles
            .iter()
            .map(|c| {
                let mut c = c.clone();
                c.sort();
                c
            })
            .collect();
        cycles.sort();
        assert_eq!(
            cycles,
            vec![vec!["b".to_string(), "c".to_string()], vec!["e".to_string()]]
        );
        assert_eq!(report.missing_parents, vec![("d".to_string(), "ghost".to_string())]);
        assert_eq!(facts[3].ultimate_parent, "d");
        assert_eq!(facts[0].ultimate_parent, "b", "a hangs off the broken cycle at b");
    }

    #[test]
    fn segment_is_frozen_within_a_fiscal_year() {
        let mut n = node("x", None, Some(5000), 0);
        n.frozen_segment = Some((Segment::MidMarket, 2027));
        let (facts, _) = roll_up(&[n.clone()], 2027);
        assert_eq!(facts[0].segment, Segment::MidMarket);
        let (facts, _) = roll_up(&[n], 2028);
        assert_eq!(facts[0].segment, Segment::Large);
        assert_eq!(facts[0].segment_fy, 2028);
    }

    #[test]
    fn plan_merges_with_stored_accounts() {
        let parent = node("p", None, Some(3000), 0);
        let (facts, _) = roll_up(&[parent.clone()], 2027);
        let stored = vec![StoredMember {
            input: HierarchyInput {
                frozen_segment: Some((Segment::Large, 2027)),
                ..parent
            },
            facts: facts[0].clone(),
        }];
        // A new child with CARR changes the stored parent's facts; it joins the family.
        let plan = plan(&stored, &[node("c", Some("p"), Some(10), 500)], 2027);
        assert_eq!(plan.incoming[0].ultimate_parent, "p");
        assert_eq!(plan.updates.len(), 1);
        assert_eq!(plan.updates[0].1.family_carr_cents, 500);
        assert!(plan.existing.is_empty());
        // The stored account arriving again keeps its frozen segment even if it shrank.
        let again = super::plan(&stored, &[node("p", None, Some(50), 0)], 2027);
        assert_eq!(again.incoming[0].segment, Segment::Large);
        assert!(again.existing.contains("p"));
        assert!(again.updates.is_empty());
    }

    proptest! {
        /// Against a naive walk up the parent chain, on random forests (parents point to lower ids).
        #[test]
        fn matches_naive_walk(parents in proptest::collection::vec(proptest::option::of(0usize..1000), 1..60), carr in proptest::collection::vec(0i64..3, 60)) {
            let nodes: Vec<HierarchyInput> = parents.iter().enumerate().map(|(i, p)| {
                let p = p.filter(|_| i > 0).map(|p| (p % i).to_string());
                node(&i.to_string(), p.as_deref(), Some(i as u32 * 10), carr[i])
            }).collect();
            let (facts, report) = roll_up(&nodes, 2027);
            prop_assert!(report.cycles.is_empty());
            for i in 0..nodes.len() {
                let mut r = i;
                while let Some(p) = &nodes[r].parent { r = p.parse().unwrap(); }
                prop_assert_eq!(&facts[i].ultimate_parent, &r.to_string());
                let family: Vec<usize> = (0..nodes.len()).filter(|&j| facts[j].ultimate_parent == facts[i].ultimate_parent).collect();
                prop_assert_eq!(facts[i].family_carr_cents, family.iter().map(|&j| nodes[j].carr_cents).sum::<i64>());
                prop_assert_eq!(facts[i].family_max_employees, family.iter().map(|&j| j as u32 * 10).max());
            }
        }
    }
}
