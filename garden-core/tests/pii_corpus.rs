//! The PII scrubber measured on labelled corpora (`tests/data/pii/*.jsonl`). `dev.jsonl` and
//! `heldout.jsonl` come from `bench/pii/make_corpus.py`: `dev` was looked at while tuning the
//! scrubber, `heldout` (other seed, other templates and value formats, written before tuning) is
//! asserted on. `blind.jsonl` ("blind set 1", `bench/pii/make_blind_corpus.py`) and
//! `blind2.jsonl` ("blind set 2", `bench/pii/make_blind2_corpus.py`) were each written by
//! someone who never saw the scrubber; after its first measurement each one's misses and false
//! positives were looked at, so both are development sets now. `blind3.jsonl` ("blind set 3",
//! a third independent author, never tuned on) is scored and asserted on when present.
//! `PII_VERBOSE=1` lists the misses and false positives of the development sets (dev, blind 1
//! and 2). `scripts/bench-pii` runs this with the table printed.
//!
//! Each record is `{"text", "spans": [{"start", "end", "kind"}]}`, offsets in Unicode code points.
//! The scrubbed text is aligned back to the original (placeholders such as `[EMAIL]` stand for
//! the characters they replaced), giving the set of *replaced ranges* of the original text.
//!
//! - **Recall** (per kind and overall): a labelled span counts as found when every one of its
//!   characters was replaced (by any placeholder: the kind of placeholder is not checked).
//! - **Span precision**: the share of replaced ranges (one per placeholder) that lie entirely
//!   inside labelled spans. A replacement that eats a character of the surrounding text, or
//!   replaces something that is no PII, counts as wrong. (Character precision, the share of
//!   replaced characters inside labelled spans, is printed as well.)
//! - **Clean texts changed**: the share of texts without any labelled span that the scrubber
//!   changed at all.

use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

use garden_core::curate::{PiiCounts, Scrubber};

/// Targets asserted on the held-out set (and on blind set 3, when present).
const MIN_RECALL: f64 = 0.98;
const MIN_SPAN_PRECISION: f64 = 0.97;
const MAX_CLEAN_CHANGED: f64 = 0.02;

const PLACEHOLDERS: &[&str] = &[
    "[EMAIL]",
    "[PHONE]",
    "[IP]",
    "[CREDENTIALS]",
    "[API_KEY]",
    "[CARD]",
    "[NATIONAL_ID]",
    "[IBAN]",
];

struct Record {
    text: String,
    /// Byte ranges and kinds.
    spans: Vec<(usize, usize, String)>,
}

fn load(name: &str) -> Vec<Record> {
    let path = format!("{}/tests/data/pii/{name}", env!("CARGO_MANIFEST_DIR"));
    let data = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    data.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).expect("a JSON record");
            let text = v["text"].as_str().expect("text").to_owned();
            // code point index -> byte offset
            let mut byte_at: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            byte_at.push(text.len());
            let spans = v["spans"]
                .as_array()
                .expect("spans")
                .iter()
                .map(|s| {
                    let at = |k: &str| byte_at[s[k].as_u64().expect("offset") as usize];
                    (
                        at("start"),
                        at("end"),
                        s["kind"].as_str().expect("kind").to_owned(),
                    )
                })
                .collect();
            Record { text, spans }
        })
        .collect()
}

enum Piece<'a> {
    Lit(&'a str),
    Hole,
}

/// Splits scrubber output into literal text and placeholders.
fn pieces(out: &str) -> Vec<Piece<'_>> {
    let mut v = Vec::new();
    let mut lit_start = 0;
    let mut i = 0;
    while i < out.len() {
        if let Some(p) = PLACEHOLDERS.iter().find(|p| out[i..].starts_with(**p)) {
            if lit_start < i {
                v.push(Piece::Lit(&out[lit_start..i]));
            }
            v.push(Piece::Hole);
            i += p.len();
            lit_start = i;
        } else {
            i += out[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    if lit_start < out.len() {
        v.push(Piece::Lit(&out[lit_start..]));
    }
    v
}

/// The byte ranges of `text` that the placeholders of `out` replaced, or `None` if `out` is not
/// `text` with some ranges replaced by placeholders. Placeholders take as few characters as
/// the rest of the alignment allows.
fn replaced_ranges(text: &str, out: &str) -> Option<Vec<(usize, usize)>> {
    fn go(
        text: &str,
        ps: &[Piece<'_>],
        i: usize,
        pos: usize,
        acc: &mut Vec<(usize, usize)>,
        failed: &mut HashSet<(usize, usize)>,
    ) -> bool {
        if i == ps.len() {
            return pos == text.len();
        }
        if failed.contains(&(i, pos)) {
            return false;
        }
        let ok = match ps[i] {
            Piece::Lit(l) => {
                text[pos..].starts_with(l) && go(text, ps, i + 1, pos + l.len(), acc, failed)
            }
            Piece::Hole => {
                let mut found = false;
                for (off, c) in text[pos..].char_indices() {
                    let end = pos + off + c.len_utf8();
                    acc.push((pos, end));
                    if go(text, ps, i + 1, end, acc, failed) {
                        found = true;
                        break;
                    }
                    acc.pop();
                }
                found
            }
        };
        if !ok {
            failed.insert((i, pos));
        }
        ok
    }
    let ps = pieces(out);
    let mut acc = Vec::new();
    go(text, &ps, 0, 0, &mut acc, &mut HashSet::new()).then_some(acc)
}

#[derive(Default)]
struct Score {
    /// kind -> (labelled, found)
    kinds: BTreeMap<String, (usize, usize)>,
    replaced: usize,
    replaced_inside: usize,
    replaced_chars: usize,
    replaced_chars_inside: usize,
    clean: usize,
    clean_changed: usize,
    texts: usize,
    misses: Vec<String>,
    false_positives: Vec<String>,
    micros_per_text: f64,
}

impl Score {
    fn recall(&self) -> f64 {
        let (n, f) = self
            .kinds
            .values()
            .fold((0, 0), |(n, f), &(a, b)| (n + a, f + b));
        f as f64 / n.max(1) as f64
    }
    fn span_precision(&self) -> f64 {
        if self.replaced == 0 {
            return 1.0;
        }
        self.replaced_inside as f64 / self.replaced as f64
    }
    fn char_precision(&self) -> f64 {
        if self.replaced_chars == 0 {
            return 1.0;
        }
        self.replaced_chars_inside as f64 / self.replaced_chars as f64
    }
    fn clean_changed(&self) -> f64 {
        self.clean_changed as f64 / self.clean.max(1) as f64
    }
}

fn score(records: &[Record]) -> Score {
    let scrubber = Scrubber::new();
    let mut s = Score::default();
    for r in records {
        let mut counts = PiiCounts::default();
        let out = scrubber.scrub(&r.text, &mut counts);
        s.texts += 1;
        let ranges = replaced_ranges(&r.text, &out)
            .unwrap_or_else(|| panic!("cannot align {out:?} with {:?}", r.text));
        let covered = |a: usize, b: usize, by: &mut dyn Iterator<Item = (usize, usize)>| {
            let mut marks = vec![false; b - a];
            for (x, y) in by {
                for (k, m) in marks.iter_mut().enumerate() {
                    if (x..y).contains(&(a + k)) {
                        *m = true;
                    }
                }
            }
            marks.iter().filter(|&&m| m).count()
        };
        for (a, b, kind) in &r.spans {
            let e = s.kinds.entry(kind.clone()).or_default();
            e.0 += 1;
            if covered(*a, *b, &mut ranges.iter().copied()) == b - a {
                e.1 += 1;
            } else {
                s.misses.push(format!(
                    "{kind}: {:?} in {:?} -> {out:?}",
                    &r.text[*a..*b],
                    r.text
                ));
            }
        }
        for &(a, b) in &ranges {
            s.replaced += 1;
            let inside = covered(a, b, &mut r.spans.iter().map(|(x, y, _)| (*x, *y)));
            let chars = |x: usize, y: usize| r.text[x..y].chars().count();
            s.replaced_chars += chars(a, b);
            // Count characters, not bytes, inside labels.
            let inside_chars = r.text[a..b]
                .char_indices()
                .filter(|(k, _)| r.spans.iter().any(|(x, y, _)| (*x..*y).contains(&(a + k))))
                .count();
            s.replaced_chars_inside += inside_chars;
            if inside == b - a {
                s.replaced_inside += 1;
            } else {
                s.false_positives
                    .push(format!("{:?} in {:?}", &r.text[a..b], r.text));
            }
        }
        if r.spans.is_empty() {
            s.clean += 1;
            if out != r.text {
                s.clean_changed += 1;
            }
        }
    }
    // Speed: all texts, the fastest of a few rounds (a round that the OS interrupted on a busy
    // machine says nothing about the scrubber; debug builds are much slower than release).
    let mut counts = PiiCounts::default();
    s.micros_per_text = (0..7)
        .map(|_| {
            let t = Instant::now();
            for r in records {
                std::hint::black_box(scrubber.scrub(&r.text, &mut counts));
            }
            t.elapsed().as_secs_f64() * 1e6 / records.len() as f64
        })
        .fold(f64::INFINITY, f64::min);
    s
}

fn print(name: &str, s: &Score, verbose: bool) {
    println!("\n== {name}: {} texts, {} without PII ==", s.texts, s.clean);
    println!("{:<16} {:>5} {:>6} {:>8}", "kind", "n", "found", "recall");
    for (kind, &(n, f)) in &s.kinds {
        println!(
            "{kind:<16} {n:>5} {f:>6} {:>8.3}",
            f as f64 / n.max(1) as f64
        );
    }
    let (n, f) = s
        .kinds
        .values()
        .fold((0, 0), |(n, f), &(a, b)| (n + a, f + b));
    println!("{:<16} {n:>5} {f:>6} {:>8.3}", "overall", s.recall());
    println!(
        "span precision {:.3} ({}/{} replacements inside labels); char precision {:.3}",
        s.span_precision(),
        s.replaced_inside,
        s.replaced,
        s.char_precision()
    );
    println!(
        "clean texts changed {:.3} ({}/{})",
        s.clean_changed(),
        s.clean_changed,
        s.clean
    );
    println!(
        "scrub time {:.1} µs per text (this build, fastest of 7 rounds)",
        s.micros_per_text
    );
    if verbose {
        for m in &s.misses {
            println!("  MISS {m}");
        }
        for fp in &s.false_positives {
            println!("  FALSE {fp}");
        }
    }
}

#[test]
fn alignment() {
    assert_eq!(replaced_ranges("a b", "a b"), Some(vec![]));
    assert_eq!(
        replaced_ranges("call 010-1 now", "call [PHONE] now"),
        Some(vec![(5, 10)])
    );
    assert_eq!(
        replaced_ranges("x a.b@c.io. y 1.2.3.4", "x [EMAIL]. y [IP]"),
        Some(vec![(2, 10), (14, 21)])
    );
    assert_eq!(replaced_ranges("abc", "abd"), None);
}

/// Which of the targets `s` misses, as readable lines.
fn missed_targets(s: &Score) -> Vec<String> {
    let mut failed = Vec::new();
    if s.recall() < MIN_RECALL {
        failed.push(format!("recall {:.3} < {MIN_RECALL}", s.recall()));
    }
    if s.span_precision() < MIN_SPAN_PRECISION {
        failed.push(format!(
            "span precision {:.3} < {MIN_SPAN_PRECISION}",
            s.span_precision()
        ));
    }
    if s.clean_changed() > MAX_CLEAN_CHANGED {
        failed.push(format!(
            "clean texts changed {:.3} > {MAX_CLEAN_CHANGED}",
            s.clean_changed()
        ));
    }
    failed
}

fn exists(name: &str) -> bool {
    std::path::Path::new(&format!(
        "{}/tests/data/pii/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .exists()
}

#[test]
fn pii_corpus() {
    // PII_VERBOSE=1 lists the misses and false positives of the development sets (dev and blind
    // sets 1 and 2); the held-out set and blind set 3 are for measuring, not for looking at.
    let verbose = std::env::var_os("PII_VERBOSE").is_some();
    let dev = score(&load("dev.jsonl"));
    print("development set (tuned on)", &dev, verbose);
    let held = score(&load("heldout.jsonl"));
    print("held-out set (measured)", &held, false);
    // Written by someone who never saw the scrubber's rules or the other templates
    // (bench/pii/make_blind_corpus.py). Its first measurement was untuned; its misses were
    // looked at afterwards, so it is a development set now.
    let blind = score(&load("blind.jsonl"));
    print(
        "blind set 1 (independent author; used for development since)",
        &blind,
        verbose,
    );
    // Another independent author (bench/pii/make_blind2_corpus.py). Measured once before anyone
    // looked at it: recall 0.990, span precision 0.958, clean texts changed 0.097; its misses
    // and false positives were looked at afterwards, so it is a development set now.
    let blind2 = score(&load("blind2.jsonl"));
    print(
        "blind set 2 (independent author; used for development since)",
        &blind2,
        verbose,
    );
    // A third independent corpus that nobody tuned on: the fair measure, when present.
    let blind3 = exists("blind3.jsonl").then(|| score(&load("blind3.jsonl")));
    if let Some(b3) = &blind3 {
        print(
            "blind set 3 (independent author, never tuned on)",
            b3,
            false,
        );
    }
    println!(
        "\ntargets on the held-out set{}: recall >= {MIN_RECALL}, span precision >= \
         {MIN_SPAN_PRECISION}, clean texts changed <= {MAX_CLEAN_CHANGED}",
        if blind3.is_some() {
            " and blind set 3"
        } else {
            ""
        }
    );
    let mut failed: Vec<String> = missed_targets(&held)
        .into_iter()
        .map(|f| format!("held-out {f}"))
        .collect();
    if let Some(b3) = &blind3 {
        failed.extend(
            missed_targets(b3)
                .into_iter()
                .map(|f| format!("blind set 3 {f}")),
        );
    }
    assert!(failed.is_empty(), "targets missed: {}", failed.join("; "));
}
