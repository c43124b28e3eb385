//! `*` wildcards in string values: matching, and deciding whether some string
//! matches one set of wildcards while matching none of another.

use std::collections::HashMap;

/// A string value that may contain `*` (any run of characters, possibly empty).
///
/// Stored as the literal segments between stars: `"AccessDenied*"` is
/// `["AccessDenied", ""]`, `"ConsoleLogin"` is `["ConsoleLogin"]`. Runs of
/// stars are merged, so equal globs have equal segments.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Glob {
    segs: Vec<String>,
}

/// A piece of a string value as written: literal text or a wildcard star.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GlobPart {
    Lit(char),
    Star,
}

impl Glob {
    /// A glob without wildcards.
    #[cfg(test)]
    pub(crate) fn exact(text: &str) -> Glob {
        Glob {
            segs: vec![text.to_string()],
        }
    }

    pub(crate) fn from_parts(parts: &[GlobPart]) -> Glob {
        let mut segs = vec![String::new()];
        let mut prev_star = false;
        for p in parts {
            match p {
                GlobPart::Lit(c) => {
                    if let Some(last) = segs.last_mut() {
                        last.push(*c);
                    }
                    prev_star = false;
                }
                GlobPart::Star => {
                    if !prev_star {
                        segs.push(String::new());
                    }
                    prev_star = true;
                }
            }
        }
        Glob { segs }
    }

    /// The literal segments between stars (at least one).
    pub(crate) fn segments(&self) -> &[String] {
        &self.segs
    }

    /// Whether the glob has no `*` and so matches exactly one string.
    pub(crate) fn is_exact(&self) -> bool {
        self.segs.len() == 1
    }

    /// The literal text when the glob has no stars.
    pub(crate) fn as_exact(&self) -> Option<&str> {
        if self.is_exact() {
            self.segs.first().map(String::as_str)
        } else {
            None
        }
    }

    /// Does `s` match? Prefix, suffix, then middle segments leftmost-first:
    /// for `*`-only globs the greedy leftmost placement is always correct.
    pub(crate) fn matches(&self, s: &str) -> bool {
        let n = self.segs.len();
        if n == 1 {
            return self.segs[0] == s;
        }
        let first = &self.segs[0];
        let last = &self.segs[n - 1];
        if s.len() < first.len() + last.len() || !s.starts_with(first.as_str()) {
            return false;
        }
        if !s.ends_with(last.as_str()) {
            return false;
        }
        let mut rest = &s[first.len()..s.len() - last.len()];
        for seg in &self.segs[1..n - 1] {
            match rest.find(seg.as_str()) {
                Some(at) => rest = &rest[at + seg.len()..],
                None => return false,
            }
        }
        true
    }

    /// Tokens for the automaton: `Some(c)` a literal character, `None` a star.
    fn tokens(&self) -> Vec<Option<char>> {
        let mut out = Vec::new();
        for (i, seg) in self.segs.iter().enumerate() {
            if i > 0 {
                out.push(None);
            }
            out.extend(seg.chars().map(Some));
        }
        out
    }
}

/// The search gave up: too many automaton states to explore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TooHard;

/// A product-automaton state (one position set per glob) and how it was
/// reached: the previous state's index and the character read.
type Visited = (Vec<Vec<usize>>, Option<(usize, char)>);

/// Bound on the product automaton explored by [`find_string`].
const MAX_STATES: usize = 20_000;

/// Finds a string that matches every glob in `must` and none in `must_not`,
/// or proves there is none.
///
/// Exact for any mix of wildcards: it explores the product of the globs'
/// subset-construction automata. Only characters that occur literally in some
/// glob behave differently from each other, so the alphabet is those
/// characters plus one "other" character, which stands for all the rest.
pub(crate) fn find_string(must: &[&Glob], must_not: &[&Glob]) -> Result<Option<String>, TooHard> {
    // A wildcard-free requirement fixes the string: just test it.
    if let Some(text) = must.iter().find_map(|g| g.as_exact()) {
        let ok = must.iter().all(|g| g.matches(text)) && !must_not.iter().any(|g| g.matches(text));
        return Ok(ok.then(|| text.to_string()));
    }
    let globs: Vec<Vec<Option<char>>> = must.iter().chain(must_not).map(|g| g.tokens()).collect();
    let n_must = must.len();
    let mut alphabet: Vec<char> = globs.iter().flatten().filter_map(|t| *t).collect();
    alphabet.sort_unstable();
    alphabet.dedup();
    if let Some(other) = ('a'..='z')
        .chain('A'..='Z')
        .chain('0'..='9')
        .chain('\u{e000}'..='\u{f8ff}')
        .find(|c| alphabet.binary_search(c).is_err())
    {
        alphabet.push(other);
    }

    let start: Vec<Vec<usize>> = globs.iter().map(|t| closure(t, vec![0])).collect();
    let mut index: HashMap<Vec<Vec<usize>>, usize> = HashMap::new();
    // Each visited state, with how it was reached (parent, character).
    let mut states: Vec<Visited> = Vec::new();
    index.insert(start.clone(), 0);
    states.push((start, None));
    let mut next = 0;
    while next < states.len() {
        let accepted = |i: usize, set: &Vec<usize>| set.binary_search(&globs[i].len()).is_ok();
        let current = &states[next].0;
        let goal = current.iter().enumerate().all(|(i, set)| {
            if i < n_must {
                accepted(i, set)
            } else {
                !accepted(i, set)
            }
        });
        if goal {
            return Ok(Some(spell(&states, next)));
        }
        let mut successors = Vec::new();
        for &c in &alphabet {
            let succ: Vec<Vec<usize>> = current
                .iter()
                .enumerate()
                .map(|(i, set)| step(&globs[i], set, c))
                .collect();
            // A required glob that can no longer match is a dead end.
            if succ[..n_must].iter().any(Vec::is_empty) {
                continue;
            }
            successors.push((succ, c));
        }
        for (succ, c) in successors {
            if !index.contains_key(&succ) {
                if states.len() >= MAX_STATES {
                    return Err(TooHard);
                }
                index.insert(succ.clone(), states.len());
                states.push((succ, Some((next, c))));
            }
        }
        next += 1;
    }
    Ok(None)
}

/// Adds the positions reachable by letting stars match the empty string.
fn closure(tokens: &[Option<char>], mut set: Vec<usize>) -> Vec<usize> {
    let mut i = 0;
    while i < set.len() {
        let p = set[i];
        if p < tokens.len() && tokens[p].is_none() && !set.contains(&(p + 1)) {
            set.push(p + 1);
        }
        i += 1;
    }
    set.sort_unstable();
    set.dedup();
    set
}

fn step(tokens: &[Option<char>], set: &[usize], c: char) -> Vec<usize> {
    let mut out = Vec::new();
    for &p in set {
        match tokens.get(p) {
            Some(None) => out.push(p),
            Some(Some(t)) if *t == c => out.push(p + 1),
            _ => {}
        }
    }
    closure(tokens, out)
}

fn spell(states: &[Visited], mut at: usize) -> String {
    let mut chars = Vec::new();
    while let Some((parent, c)) = states[at].1 {
        chars.push(c);
        at = parent;
    }
    chars.iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(s: &str) -> Glob {
        let parts: Vec<GlobPart> = s
            .chars()
            .map(|c| {
                if c == '*' {
                    GlobPart::Star
                } else {
                    GlobPart::Lit(c)
                }
            })
            .collect();
        Glob::from_parts(&parts)
    }

    #[test]
    fn matching() {
        assert!(g("AccessDenied*").matches("AccessDeniedException"));
        assert!(g("AccessDenied*").matches("AccessDenied"));
        assert!(!g("AccessDenied*").matches("accessDenied"));
        assert!(g("*UnauthorizedOperation").matches("Client.UnauthorizedOperation"));
        assert!(g("*").matches(""));
        assert!(g("a*b*c").matches("abc"));
        assert!(g("a*b*c").matches("axxbyyc"));
        assert!(!g("a*b*c").matches("acb"));
        assert!(!g("ab*ba").matches("aba"));
        assert!(g("ab*ba").matches("abba"));
        assert!(g("123.123.*").matches("123.123.4.5"));
        assert!(g("x").matches("x") && !g("x").matches("xx"));
        assert_eq!(g("a**b"), g("a*b"));
    }

    #[test]
    fn search_is_exact() {
        let (a, b) = (g("AccessDenied*"), g("*UnauthorizedOperation"));
        let both = find_string(&[&a, &b], &[]).unwrap().unwrap();
        assert!(a.matches(&both) && b.matches(&both));
        let only_a = find_string(&[&a], &[&b]).unwrap().unwrap();
        assert!(a.matches(&only_a) && !b.matches(&only_a));
        let (wide, narrow) = (g("Access*"), g("AccessDenied*"));
        assert_eq!(find_string(&[&narrow], &[&wide]).unwrap(), None);
        assert!(find_string(&[&wide], &[&narrow]).unwrap().is_some());
        assert_eq!(find_string(&[], &[&g("*")]).unwrap(), None);
        assert_eq!(
            find_string(&[&g("ab*")], &[&g("a*"), &g("*")]).unwrap(),
            None
        );
        // Every string starting with "a" or not starting with "a".
        assert_eq!(
            find_string(&[], &[&g("a*"), &g("b*"), &g("")])
                .unwrap()
                .map(|s| s.len()),
            Some(1)
        );
        assert_eq!(
            find_string(&[&g("a*a")], &[&g("a")]).unwrap(),
            Some("aa".to_string())
        );
        assert_eq!(find_string(&[&g("x*y")], &[&g("x*")]).unwrap(), None);
    }
}
