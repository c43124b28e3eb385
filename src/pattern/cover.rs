//! Deciding whether one JSON pattern matches every event another one matches.
//!
//! Method: the benchmark pattern B is expanded into disjunctive normal form
//! (cubes: conjunctions of comparisons). P covers B iff no cube C of B has an
//! event that satisfies C and falsifies P, i.e. iff `C ∧ ¬P` is unsatisfiable
//! for every C. `¬P` is put in negation normal form and multiplied out into
//! `C`, pruning unsatisfiable products as they appear; what remains are
//! exactly the kinds of events B catches and P misses.
//!
//! Satisfiability of a cube is decided field by field. Distinct selectors pick
//! independent values as long as none is a prefix of another and none differ
//! at an array index (checked up front; otherwise CannotProve). For one field,
//! the value is absent, null, true, false, an object, a number or a string:
//! - non-string kinds are tried directly (numbers: each constant used, points
//!   between and beyond them — exact for `= != < <= > >=`);
//! - strings: a string must match some wildcards and avoid others, decided
//!   exactly by [`find_string`] (product automaton over the wildcards).
//!
//! Not decided exactly: `%regex%` values, wildcard selectors and selectors that
//! overlap as above. Those are over-approximated (see [`check_exact`]), which
//! can still prove coverage (e.g. `old || B` covers B whatever `old` holds);
//! otherwise the verdict is CannotProve. Blow-ups beyond [`MAX_CUBES`] cubes or
//! the automaton bound are CannotProve too.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::Pattern;
use super::ast::{Atom, Equality, Expr, Kind, Path, Step, Test};
use super::eval::test_value;
use super::normalize::normalize;
use super::print::{atom_text, path_text};
use super::wildcard::find_string;

/// Verdict of [`covers`].
#[derive(Debug, Clone, PartialEq)]
pub enum Coverage {
    /// Every event the benchmark pattern matches, the account's pattern matches too.
    Covered,
    /// P misses events B catches. `missing`: readable terms, each a conjunction
    /// of conditions describing events B catches and P misses (for example
    /// `"$.eventName = DeleteVpcPeeringConnection"`); sorted, deduplicated.
    ///
    /// Conditions P adds on other fields are spelled out positively, one term
    /// per way of failing them: `$.f = v` fails when `$.f != v` or when the
    /// field is missing (`$.f NOT EXISTS`). The rarer ways (the field holds
    /// null, a number or an object) are only listed when they are the only way.
    NotCovered { missing: Vec<String> },
    /// The language goes beyond what can be decided exactly here.
    CannotProve { reason: String },
}

/// Bound on the number of cubes while multiplying out a normal form.
pub const MAX_CUBES: usize = 1024;
/// Bound on distinct selectors in the two patterns.
const MAX_PATHS: usize = 128;
/// Field ids from here on are opaque comparisons (see [`check_exact`]).
const OPAQUE_PATHS: usize = usize::MAX / 2;
/// Largest array index a counterexample event is built with.
const MAX_WITNESS_INDEX: usize = 1024;
/// Bound on the terms one counterexample cube is split into for reporting.
const MAX_SPLITS: usize = 64;

/// Does P (the account's pattern) match every event that B (the benchmark's
/// pattern) matches?
pub fn covers(p: &Pattern, b: &Pattern) -> Coverage {
    match (&p.kind, &b.kind) {
        (Kind::MatchAll, _) => Coverage::Covered,
        _ if p == b => Coverage::Covered,
        (Kind::Json(pe), Kind::Json(be)) => match Analysis::run(pe, be) {
            Err(Unprovable(reason)) => Coverage::CannotProve { reason },
            Ok(a) if a.uncovered.is_empty() => Coverage::Covered,
            Ok(Analysis { inexact: Some(reason), .. }) => Coverage::CannotProve { reason },
            Ok(mut a) => Coverage::NotCovered { missing: a.missing() },
        },
        (_, Kind::Json(_)) => Coverage::CannotProve {
            reason: "the pattern is a term, space-delimited or regex pattern, which is not compared with JSON patterns"
                .to_string(),
        },
        _ => Coverage::CannotProve {
            reason: "the benchmark pattern is not a JSON pattern".to_string(),
        },
    }
}

/// A pattern that covers `b` and still matches everything `old` matched: old's
/// terms plus the cubes of `b` that old misses, in canonical form. If `old`
/// already covers `b`, returns old unchanged. If coverage cannot be proven,
/// returns `old || b` (a superset of both).
///
/// When `old` is not a JSON pattern (terms, space-delimited, regex) no JSON
/// pattern can match a superset of it, so `b` itself is returned: the caller
/// replaces the filter rather than widening it.
pub fn widen(old: &Pattern, b: &Pattern) -> Pattern {
    match (&old.kind, &b.kind) {
        (Kind::MatchAll, _) => old.clone(),
        _ if old == b => old.clone(),
        (Kind::Json(oe), Kind::Json(be)) => {
            let mut items = vec![oe.clone()];
            match Analysis::run(oe, be) {
                Ok(a) if a.uncovered.is_empty() => return old.clone(),
                Ok(a) if a.inexact.is_none() => {
                    items.extend(a.uncovered.iter().map(|(c, _)| a.ctx.cube_expr(c)))
                }
                _ => items.push(be.clone()),
            }
            Pattern {
                kind: Kind::Json(normalize(Expr::Or(items))),
            }
        }
        _ => b.clone(),
    }
}

/// An event that `b` matches and `p` does not, when [`covers`] says
/// NotCovered for two JSON patterns. Fields the patterns do not mention are
/// left out of the event.
pub fn counterexample(p: &Pattern, b: &Pattern) -> Option<Value> {
    let (Kind::Json(pe), Kind::Json(be)) = (&p.kind, &b.kind) else {
        return None;
    };
    if p == b {
        return None;
    }
    let mut a = Analysis::run(pe, be).ok().filter(|a| a.inexact.is_none())?;
    let cube = a.uncovered.first()?.1.first()?.clone();
    a.ctx.witness(&cube)
}

/// Why coverage could not be decided.
#[derive(Debug)]
struct Unprovable(String);

/// A comparison (by interned id) or its negation, on an interned selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Lit {
    path: usize,
    atom: usize,
    pos: bool,
}

impl Lit {
    fn negated(self) -> Lit {
        Lit {
            pos: !self.pos,
            ..self
        }
    }
}

/// A conjunction of literals, sorted and without duplicates.
type Cube = Vec<Lit>;

/// Negation normal form over interned literals.
enum Nnf {
    Lit(Lit),
    And(Vec<Nnf>),
    Or(Vec<Nnf>),
}

/// What one field can hold, as far as the comparisons on it can tell apart.
#[derive(Debug, Clone)]
enum Val {
    Absent,
    Null,
    Bool(bool),
    Object,
    Num(f64),
    Str(String),
}

impl Val {
    fn to_json(&self) -> Option<Value> {
        match self {
            Val::Absent => None,
            Val::Null => Some(Value::Null),
            Val::Bool(b) => Some(Value::Bool(*b)),
            Val::Object => Some(Value::Object(Map::new())),
            Val::Num(n) => serde_json::Number::from_f64(*n).map(Value::Number),
            Val::Str(s) => Some(Value::String(s.clone())),
        }
    }
}

#[derive(Default)]
struct Ctx {
    atoms: Vec<Atom>,
    atom_ids: HashMap<String, usize>,
    paths: Vec<Path>,
    path_ids: HashMap<Path, usize>,
    /// Satisfying value (or none) per sorted set of literals on one field.
    sat_cache: HashMap<Vec<Lit>, Option<Val>>,
}

struct Analysis {
    ctx: Ctx,
    /// Why a non-empty `uncovered` may be spurious: the patterns use
    /// something that was over-approximated (see [`check_exact`]).
    inexact: Option<String>,
    /// Each cube of B that P does not entail, with the cubes of `cube ∧ ¬P`.
    uncovered: Vec<(Cube, Vec<Cube>)>,
}

impl Analysis {
    fn run(p: &Expr, b: &Expr) -> Result<Analysis, Unprovable> {
        let inexact = check_exact(p, b).err();
        let mut ctx = Ctx::default();
        // B first, so its fields and comparisons sort first in reports.
        let nb = ctx.nnf(b, true);
        let not_p = ctx.nnf(p, false);
        let mut uncovered = Vec::new();
        for cube in ctx.expand(&nb, vec![Vec::new()])? {
            let misses = ctx.expand(&not_p, vec![cube.clone()])?;
            if !misses.is_empty() {
                uncovered.push((cube, misses));
            }
        }
        Ok(Analysis {
            ctx,
            inexact,
            uncovered,
        })
    }

    fn missing(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        for (cube, misses) in std::mem::take(&mut self.uncovered) {
            for miss in &misses {
                match self.ctx.describe(miss) {
                    Ok(terms) => out.extend(terms),
                    Err(_) => out.push(self.ctx.render(&cube)),
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

/// Whether the field-by-field reasoning is exact for these patterns.
///
/// When it is not, the analysis still runs as an over-approximation: `%regex%`
/// comparisons and wildcard selectors become free propositions (each may be
/// true or false independently of everything else), and overlapping selectors
/// are treated as independent. Finding no miss is then still a proof of
/// coverage; finding one proves nothing.
fn check_exact(p: &Expr, b: &Expr) -> Result<(), String> {
    let mut atoms: Vec<&Atom> = Vec::new();
    p.for_each_atom(&mut |a| atoms.push(a));
    b.for_each_atom(&mut |a| atoms.push(a));
    if atoms.iter().any(|a| matches!(a.test, Test::Regex(..))) {
        return Err("a %regex% value is not analysed".to_string());
    }
    if atoms.iter().any(|a| a.path.has_wildcard()) {
        return Err("a wildcard selector ([*] or .*) is not analysed".to_string());
    }
    let mut paths: Vec<&Path> = atoms.iter().map(|a| &a.path).collect();
    paths.sort();
    paths.dedup();
    if paths.len() > MAX_PATHS {
        return Err(format!("more than {MAX_PATHS} distinct fields"));
    }
    for (i, x) in paths.iter().enumerate() {
        for y in &paths[i + 1..] {
            let shared = x
                .steps
                .iter()
                .zip(&y.steps)
                .take_while(|(s, t)| s == t)
                .count();
            let diverge_at_index = matches!(x.steps.get(shared), Some(Step::Index(_)))
                || matches!(y.steps.get(shared), Some(Step::Index(_)));
            if shared == x.steps.len().min(y.steps.len()) || diverge_at_index {
                return Err(format!(
                    "the selectors {} and {} overlap",
                    path_text(x),
                    path_text(y)
                ));
            }
        }
    }
    Ok(())
}

impl Ctx {
    fn intern(&mut self, atom: &Atom) -> Lit {
        let key = atom_text(atom, false);
        let id = match self.atom_ids.get(&key) {
            Some(&id) => id,
            None => {
                self.atoms.push(atom.clone());
                self.atom_ids.insert(key, self.atoms.len() - 1);
                self.atoms.len() - 1
            }
        };
        if is_opaque(atom) {
            // A free proposition: a field of its own.
            return Lit {
                path: OPAQUE_PATHS + id,
                atom: id,
                pos: true,
            };
        }
        let path = match self.path_ids.get(&atom.path) {
            Some(&id) => id,
            None => {
                self.paths.push(atom.path.clone());
                self.path_ids
                    .insert(atom.path.clone(), self.paths.len() - 1);
                self.paths.len() - 1
            }
        };
        Lit {
            path,
            atom: id,
            pos: true,
        }
    }

    fn nnf(&mut self, e: &Expr, positive: bool) -> Nnf {
        match e {
            Expr::Atom(a) => {
                let lit = self.intern(a);
                Nnf::Lit(if positive { lit } else { lit.negated() })
            }
            Expr::And(items) | Expr::Or(items) => {
                let children = items.iter().map(|i| self.nnf(i, positive)).collect();
                if matches!(e, Expr::And(_)) == positive {
                    Nnf::And(children)
                } else {
                    Nnf::Or(children)
                }
            }
        }
    }

    /// `cubes ∧ n` in disjunctive normal form, without unsatisfiable cubes.
    fn expand(&mut self, n: &Nnf, cubes: Vec<Cube>) -> Result<Vec<Cube>, Unprovable> {
        if cubes.is_empty() {
            return Ok(cubes);
        }
        match n {
            Nnf::Lit(lit) => {
                let mut out = Vec::with_capacity(cubes.len());
                for cube in &cubes {
                    if let Some(c) = self.add_lit(cube, *lit)? {
                        out.push(c);
                    }
                }
                Ok(out)
            }
            Nnf::And(items) => {
                let mut current = cubes;
                for item in items {
                    current = self.expand(item, current)?;
                    if current.is_empty() {
                        break;
                    }
                }
                Ok(current)
            }
            Nnf::Or(items) => {
                let mut out = Vec::new();
                for item in items {
                    out.extend(self.expand(item, cubes.clone())?);
                    if out.len() > MAX_CUBES {
                        absorb(&mut out);
                        if out.len() > MAX_CUBES {
                            return Err(Unprovable(format!(
                                "the normal form exceeds {MAX_CUBES} conjunctions"
                            )));
                        }
                    }
                }
                absorb(&mut out);
                Ok(out)
            }
        }
    }

    fn add_lit(&mut self, cube: &Cube, lit: Lit) -> Result<Option<Cube>, Unprovable> {
        let at = match cube.binary_search(&lit) {
            Ok(_) => return Ok(Some(cube.clone())),
            Err(at) => at,
        };
        if cube.binary_search(&lit.negated()).is_ok() {
            return Ok(None);
        }
        let mut c = cube.clone();
        c.insert(at, lit);
        let on_field: Vec<Lit> = c.iter().filter(|l| l.path == lit.path).copied().collect();
        Ok(self.field_value(on_field)?.map(|_| c))
    }

    /// A value of one field satisfying `lits` (all on that field), if any.
    fn field_value(&mut self, mut lits: Vec<Lit>) -> Result<Option<Val>, Unprovable> {
        lits.sort();
        lits.dedup();
        if let Some(v) = self.sat_cache.get(&lits) {
            return Ok(v.clone());
        }
        if lits.iter().any(|l| l.path >= OPAQUE_PATHS) {
            // Only one proposition per opaque field; contradictions are
            // caught when literals are added.
            let consistent = !lits.iter().any(|l| lits.contains(&l.negated()));
            return Ok(consistent.then_some(Val::Absent));
        }
        let tests: Vec<(&Test, bool)> = lits
            .iter()
            .map(|l| (&self.atoms[l.atom].test, l.pos))
            .collect();
        let mut must = Vec::new();
        let mut must_not = Vec::new();
        let mut string_possible = true;
        let mut constants = Vec::new();
        for (test, pos) in &tests {
            match (test, *pos) {
                (Test::Str(Equality::Eq, g), true) | (Test::Str(Equality::Ne, g), false) => {
                    must.push(g)
                }
                (Test::Str(Equality::Eq, g), false) | (Test::Str(Equality::Ne, g), true) => {
                    must_not.push(g)
                }
                (Test::Num(_, k), p) => {
                    constants.push(*k);
                    string_possible &= !p;
                }
                (_, p) => string_possible &= !p,
            }
        }
        let mut found = None;
        if string_possible {
            let s = find_string(&must, &must_not)
                .map_err(|_| Unprovable("the wildcard values are too complex to compare".into()))?;
            found = s.map(Val::Str);
        }
        if found.is_none() {
            let candidates = [
                Val::Absent,
                Val::Null,
                Val::Bool(true),
                Val::Bool(false),
                Val::Object,
            ]
            .into_iter()
            .chain(number_candidates(constants).into_iter().map(Val::Num));
            for cand in candidates {
                let json = cand.to_json();
                if tests
                    .iter()
                    .all(|(t, pos)| test_value(t, json.as_ref()) == Some(*pos))
                {
                    found = Some(cand);
                    break;
                }
            }
        }
        self.sat_cache.insert(lits, found.clone());
        Ok(found)
    }

    /// A value per field satisfying the cube, or `None` if it is unsatisfiable.
    fn cube_values(&mut self, cube: &[Lit]) -> Result<Option<Vec<(usize, Val)>>, Unprovable> {
        let mut values = Vec::new();
        let mut start = 0;
        while start < cube.len() {
            let path = cube[start].path;
            let end = start + cube[start..].iter().take_while(|l| l.path == path).count();
            match self.field_value(cube[start..end].to_vec())? {
                Some(v) => values.push((path, v)),
                None => return Ok(None),
            }
            start = end;
        }
        Ok(Some(values))
    }

    /// Readable terms for one counterexample cube (see [`Coverage::NotCovered`]).
    fn describe(&mut self, miss: &Cube) -> Result<Vec<String>, Unprovable> {
        let miss = self.simplify(miss.clone())?;
        let mut choices: Vec<Vec<Lit>> = Vec::new();
        for lit in &miss {
            choices.push(if lit.pos {
                vec![*lit]
            } else {
                self.positive_forms(*lit)
            });
        }
        let combos: usize = choices
            .iter()
            .map(Vec::len)
            .try_fold(1usize, |acc, n| acc.checked_mul(n))
            .unwrap_or(usize::MAX);
        let mut terms = Vec::new();
        if combos <= MAX_SPLITS {
            let mut pick = vec![0usize; choices.len()];
            loop {
                let mut cube: Cube = pick.iter().zip(&choices).map(|(&i, c)| c[i]).collect();
                cube.sort();
                cube.dedup();
                if self.cube_values(&cube)?.is_some() {
                    let simple = self.simplify(cube)?;
                    terms.push(self.render(&simple));
                }
                // Next combination, odometer style.
                let mut k = 0;
                while k < pick.len() {
                    pick[k] += 1;
                    if pick[k] < choices[k].len() {
                        break;
                    }
                    pick[k] = 0;
                    k += 1;
                }
                if k == pick.len() {
                    break;
                }
            }
        }
        if terms.is_empty() {
            terms.push(self.render(&miss));
        }
        Ok(terms)
    }

    /// The positive comparisons a negated one splits into, for reporting:
    /// `¬($.f = v)` is `$.f != v` or `$.f NOT EXISTS` (or a non-string value).
    fn positive_forms(&mut self, lit: Lit) -> Vec<Lit> {
        let atom = self.atoms[lit.atom].clone();
        let alternatives = match &atom.test {
            Test::Str(Equality::Eq, g) => vec![Test::Str(Equality::Ne, g.clone()), Test::NotExists],
            Test::Str(Equality::Ne, g) => vec![Test::Str(Equality::Eq, g.clone()), Test::NotExists],
            Test::Num(op, k) => vec![Test::Num(op.complement(), *k), Test::NotExists],
            _ => return vec![lit],
        };
        alternatives
            .into_iter()
            .map(|test| {
                self.intern(&Atom {
                    path: atom.path.clone(),
                    test,
                })
            })
            .collect()
    }

    /// Drops literals implied by the rest of the cube (on the same field).
    fn simplify(&mut self, mut cube: Cube) -> Result<Cube, Unprovable> {
        let mut i = cube.len();
        while i > 0 {
            i -= 1;
            let lit = cube[i];
            let mut check: Vec<Lit> = cube
                .iter()
                .enumerate()
                .filter(|(j, l)| *j != i && l.path == lit.path)
                .map(|(_, l)| *l)
                .collect();
            check.push(lit.negated());
            if self.field_value(check)?.is_none() {
                cube.remove(i);
            }
        }
        Ok(cube)
    }

    fn render(&self, cube: &[Lit]) -> String {
        let parts: Vec<String> = cube
            .iter()
            .map(|lit| {
                let atom = &self.atoms[lit.atom];
                match (lit.pos, &atom.test) {
                    (true, _) => atom_text(atom, true),
                    (false, Test::NotExists) => format!("{} EXISTS", path_text(&atom.path)),
                    (false, _) => format!("NOT ({})", atom_text(atom, true)),
                }
            })
            .collect();
        parts.join(" && ")
    }

    /// A cube of B (positive literals only) as an expression.
    fn cube_expr(&self, cube: &Cube) -> Expr {
        let mut atoms: Vec<Expr> = cube
            .iter()
            .map(|l| Expr::Atom(self.atoms[l.atom].clone()))
            .collect();
        if atoms.len() == 1 {
            atoms.remove(0)
        } else {
            Expr::And(atoms)
        }
    }

    /// An event satisfying the cube; fields it does not mention are absent.
    fn witness(&mut self, cube: &Cube) -> Option<Value> {
        let values = self.cube_values(cube).ok()??;
        let huge_index = |p: &Path| {
            p.steps
                .iter()
                .any(|s| matches!(s, Step::Index(i) if *i > MAX_WITNESS_INDEX))
        };
        if values
            .iter()
            .any(|(path, _)| huge_index(&self.paths[*path]))
        {
            return None;
        }
        let mut event = Value::Object(Map::new());
        for (path, val) in values {
            if path >= OPAQUE_PATHS {
                return None;
            }
            if let Some(json) = val.to_json() {
                place(&mut event, &self.paths[path].steps, json);
            }
        }
        Some(event)
    }
}

/// Number values that tell all comparisons against `constants` apart: each
/// constant, a point between neighbours, and a point beyond each end.
fn number_candidates(mut constants: Vec<f64>) -> Vec<f64> {
    constants.retain(|k| k.is_finite());
    constants.sort_by(f64::total_cmp);
    constants.dedup();
    let (Some(&lo), Some(&hi)) = (constants.first(), constants.last()) else {
        return vec![0.0];
    };
    let mut out = vec![below(lo)];
    for pair in constants.windows(2) {
        out.push(pair[0]);
        out.push(pair[0] / 2.0 + pair[1] / 2.0);
    }
    out.push(hi);
    out.push(-below(-hi));
    out
}

fn below(x: f64) -> f64 {
    let y = x - x.abs().max(1.0);
    if y.is_finite() { y } else { f64::MIN }
}

/// Sets `value` at `steps` inside `root`, creating objects and arrays.
fn place(root: &mut Value, steps: &[Step], value: Value) {
    let Some((step, rest)) = steps.split_first() else {
        *root = value;
        return;
    };
    let child = match step {
        Step::Key(k) => {
            if !root.is_object() {
                *root = Value::Object(Map::new());
            }
            match root {
                Value::Object(map) => map.entry(k.clone()).or_insert(Value::Null),
                _ => return,
            }
        }
        Step::Index(i) => {
            if !root.is_array() {
                *root = Value::Array(Vec::new());
            }
            match root {
                Value::Array(items) => {
                    if items.len() <= *i {
                        items.resize(*i + 1, Value::Null);
                    }
                    &mut items[*i]
                }
                _ => return,
            }
        }
        Step::Any => return,
    };
    place(child, rest, value);
}

/// Removes duplicate cubes and cubes that contain another cube (they add no
/// events to the disjunction).
fn absorb(cubes: &mut Vec<Cube>) {
    cubes.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    cubes.dedup();
    let mut kept: Vec<Cube> = Vec::with_capacity(cubes.len());
    for cube in cubes.drain(..) {
        if !kept.iter().any(|k| is_subset(k, &cube)) {
            kept.push(cube);
        }
    }
    *cubes = kept;
}

/// Comparisons reasoned about only as free propositions.
fn is_opaque(atom: &Atom) -> bool {
    matches!(atom.test, Test::Regex(..)) || atom.path.has_wildcard()
}

fn is_subset(small: &[Lit], big: &[Lit]) -> bool {
    small.len() <= big.len() && small.iter().all(|l| big.binary_search(l).is_ok())
}
