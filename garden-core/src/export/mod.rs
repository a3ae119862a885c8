//! From the conversation history to training data: the DataFilter, curation (duplicates, PII,
//! train/validation split) and the five export formats LLaMA-Factory reads.
//!
//! Exports stream: conversations are read in order and examples written as they are built, so
//! memory stays flat in the size of the history (only 32 bytes of duplicate keys are kept per
//! example, and, when most of the history is exported, the satisfaction of each rated
//! conversation that can pass the filter: its id and about 30 bytes). The calling thread reads SQLite in one read
//! transaction and a worker thread builds, curates and writes the examples (see `stream`); an
//! error or a panic on either side fails the export. Files are written under a temporary name and
//! renamed once complete, so an interrupted export leaves no half-written file behind.
//!
//! # The DataFilter, in plain words
//! - `min_satisfaction`: keep conversations whose satisfaction (see [`crate::conversations`]) is
//!   at least this; unrated conversations are left out.
//! - `min_message_length` / `max_message_length`: every user and assistant message of a kept
//!   conversation has at least / at most this many characters (characters, not bytes: Korean
//!   counts one per syllable).
//! - `positive_only`: keep only conversations rated positively (satisfaction above 0.5).
//! - `exclude_negative`: leave out conversations rated negatively (satisfaction below 0.5);
//!   unrated ones stay.
//! - `min_turns`: at least this many user→assistant exchanges.
//! - `since` / `until`: the conversation started at or after `since` and before `until`.
//! - `limit`: at most this many examples, counted after filtering and curation, so you get the
//!   number asked for whenever that many pass. Newest conversations come first.
//!
//! # Conversations become examples
//! Messages are read as exchanges: consecutive user messages are joined, an assistant message
//! answers the user text before it; an assistant message with no question before it and a final
//! question with no answer are dropped. System messages become the example's system prompt.
//! Alpaca, ShareGPT and OpenAI keep a conversation as one multi-turn example; JSONL (`system`,
//! `user`, `assistant`) gives one line per exchange; KTO gives one example per rated answer (thumbs up →
//! `kto_tag: true`), or, for a conversation rated only as a whole, one example tagged by its
//! satisfaction (≥ 0.5 → true).

mod datasets;
mod filter;
mod format;
mod json;
pub mod pairs;
mod stream;
mod write;

pub use datasets::*;
pub use filter::*;
pub use format::*;
pub use write::*;

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::conversations::new_id;
use crate::curate::PiiCounts;
use crate::error::{Error, Result};

/// Counts before and after each step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Conversations in the date range.
    pub conversations: u64,
    /// Of those, the ones the filter kept.
    pub passed_filter: u64,
    /// Examples built from them.
    pub examples: u64,
    pub exact_duplicates: u64,
    pub near_duplicates: u64,
    /// Examples written (after duplicates and the limit).
    pub written: u64,
    pub train: u64,
    pub validation: u64,
    /// PII replaced, by kind.
    pub pii: PiiCounts,
    /// True when the limit stopped the export before every conversation was read.
    pub limited: bool,
    /// Mean satisfaction of the rated conversations written.
    pub avg_satisfaction: Option<f64>,
    /// Characters per written example: min, mean, max.
    pub chars_min: u64,
    pub chars_mean: f64,
    pub chars_max: u64,
    /// Preference pairs by source (a pairs export only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pairs: Option<pairs::PairCounts>,
}

/// One exchange of a conversation (borrowing the text the reader handed over).
#[derive(Debug, Clone)]
struct Turn<'a> {
    user: Cow<'a, str>,
    assistant: &'a str,
    thumbs: Option<i8>,
    at: i64,
}

/// A conversation as the exporter sees it.
#[derive(Debug, Clone)]
struct Conversation<'a> {
    id: &'a str,
    score: Option<f64>,
    system: Option<Cow<'a, str>>,
    turns: Vec<Turn<'a>>,
}

/// Where examples go. `Send`: the export's worker thread writes to it.
trait Sink: Send {
    /// `bytes` is one serialised example.
    fn write(&mut self, bytes: &[u8], validation: bool) -> Result<()>;
}

/// Runs filter and curation over the history, feeding each written example to `sink`.
fn run(
    conn: &Connection,
    format: Format,
    filter: &DataFilter,
    curation: &Curation,
    sink: &mut (dyn Sink + Send),
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Counts> {
    if format == Format::Pairs {
        return pairs::run(conn, filter, curation, sink, progress).map(|built| built.counts);
    }
    stream::run(conn, format, filter, curation, sink, progress, None)
}

/// What the dataset step shows before exporting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preview {
    pub counts: Counts,
    /// The first examples, exactly as they will be written (one JSON document each).
    pub samples: Vec<String>,
}

struct PreviewSink {
    samples: Vec<String>,
    want: usize,
}

impl Sink for PreviewSink {
    fn write(&mut self, bytes: &[u8], _validation: bool) -> Result<()> {
        if self.samples.len() < self.want {
            self.samples.push(String::from_utf8_lossy(bytes).into_owned());
        }
        Ok(())
    }
}

/// Runs the whole pipeline without writing anything: counts and the first `samples` examples.
pub fn preview(conn: &Connection, format: Format, filter: &DataFilter, curation: &Curation, samples: usize) -> Result<Preview> {
    let mut sink = PreviewSink { samples: Vec::new(), want: samples };
    let counts = run(conn, format, filter, curation, &mut sink, &mut |_, _| {})?;
    Ok(Preview { counts, samples: sink.samples })
}

/// An export to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportRequest {
    /// Dataset name (letters, digits, `-`, `_`); default from the output file or the time.
    pub name: Option<String>,
    pub format: Format,
    pub filter: DataFilter,
    pub curation: Curation,
    /// The training file the person chose; default `<data dir>/datasets/<name>/<name>.<ext>`.
    pub output: Option<PathBuf>,
}

/// Exports a dataset: streams the files, writes dataset_info.json (merged with any already in
/// that folder) and a `<name>.meta.json` sidecar, and records it in the database.
pub fn export(
    conn: &mut Connection,
    data_dir: &Path,
    request: &ExportRequest,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Dataset> {
    if request.format == Format::Pairs {
        return pairs::export(conn, data_dir, request, progress);
    }
    let target = Target::plan(data_dir, request, "garden-eden")?;
    let mut sink = target.sink(request)?;
    let counts = run(conn, request.format, &request.filter, &request.curation, &mut sink, progress)?;
    if counts.written == 0 {
        return Err(Error::invalid(
            "filter",
            format!(
                "no example passes ({} conversations considered, {} passed the filter): loosen the filter",
                counts.conversations, counts.passed_filter
            ),
        ));
    }
    target.finish(conn, request, sink, counts, Value::Null, |_, _| Ok(()))
}

/// Where an export's files go: the training file, its `_val` twin, dataset_info.json and the
/// `.meta.json` sidecar, all in one folder.
struct Target {
    id: String,
    created_at: i64,
    name: String,
    train_path: PathBuf,
    val_path: PathBuf,
    info_path: PathBuf,
    meta_path: PathBuf,
}

impl Target {
    /// Names the dataset (from the request, the output file, or `<prefix>-<time>`) and places its
    /// files: the person's chosen file, or `<data dir>/datasets/<id>/<name>.<ext>`.
    fn plan(data_dir: &Path, request: &ExportRequest, prefix: &str) -> Result<Target> {
        let id = new_id();
        let created_at = crate::now_ms();
        let name = match (&request.name, &request.output) {
            (Some(n), _) => sanitize_name(n),
            (None, Some(out)) => sanitize_name(&out.file_stem().map(|s| s.to_string_lossy()).unwrap_or(Cow::Borrowed(""))),
            (None, None) => format!(
                "{prefix}-{}",
                crate::time::format_iso(created_at).replace([':', '-'], "").trim_end_matches('Z').replace('T', "-")
            ),
        };
        if name.is_empty() {
            return Err(Error::invalid("name", "use letters, digits, '-' or '_'"));
        }
        let ext = request.format.extension();
        let train_path = match &request.output {
            Some(out) if out.is_dir() => {
                return Err(Error::invalid("output", format!("{} is a folder: give a file name", out.display())))
            }
            Some(out) => out.clone(),
            None => data_dir.join("datasets").join(&id).join(format!("{name}.{ext}")),
        };
        let dir = train_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_owned();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("creating", &dir, e))?;
        let stem = train_path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| name.clone());
        let train_ext = train_path.extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_else(|| ext.to_owned());
        Ok(Target {
            val_path: dir.join(format!("{stem}_val.{train_ext}")),
            info_path: dir.join("dataset_info.json"),
            meta_path: dir.join(format!("{stem}.meta.json")),
            id,
            created_at,
            name,
            train_path,
        })
    }

    /// The temporary files the examples stream into (renamed into place by [`Target::finish`]).
    fn sink(&self, request: &ExportRequest) -> Result<FileSink> {
        Ok(FileSink {
            format: request.format,
            train: Part::create(&self.train_path)?,
            validation: if request.curation.validation_ratio > 0.0 { Some(Part::create(&self.val_path)?) } else { None },
        })
    }

    /// Closes the files, merges dataset_info.json (entries of other datasets in the same folder
    /// are kept), writes the sidecar (`meta_extra`'s fields added to it) and records the dataset
    /// with whatever `record` adds, in one transaction: the row is committed only once every file
    /// is in place.
    fn finish(
        self,
        conn: &mut Connection,
        request: &ExportRequest,
        mut sink: FileSink,
        counts: Counts,
        meta_extra: Value,
        record: impl FnOnce(&rusqlite::Transaction<'_>, &Dataset) -> Result<()>,
    ) -> Result<Dataset> {
        let format = request.format;
        let sha256 = FileSink::close(format, &mut sink.train)?;
        let val_sha = match sink.validation.as_mut() {
            Some(v) if counts.validation > 0 => Some(FileSink::close(format, v)?),
            _ => None,
        };

        let info_path = &self.info_path;
        let mut info = match std::fs::read(info_path) {
            Ok(bytes) => serde_json::from_slice::<Value>(&bytes).map_err(|e| Error::Import {
                path: info_path.clone(),
                place: "the existing dataset_info.json".into(),
                message: format!("{e}: fix or remove it"),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => json!({}),
            Err(e) => return Err(Error::io("reading", info_path, e)),
        };
        let file_name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let obj = info.as_object_mut().ok_or_else(|| Error::Import {
            path: info_path.clone(),
            place: "the existing dataset_info.json".into(),
            message: "is not a JSON object".into(),
        })?;
        obj.insert(self.name.clone(), format.dataset_info(&file_name(&self.train_path)));
        let val_name = format!("{}_val", self.name);
        if val_sha.is_some() {
            obj.insert(val_name, format.dataset_info(&file_name(&self.val_path)));
        } else {
            obj.remove(&val_name);
        }

        let dataset = Dataset {
            id: self.id,
            name: self.name,
            format,
            filter: request.filter.clone(),
            curation: request.curation.clone(),
            avg_satisfaction: counts.avg_satisfaction,
            examples: counts.written,
            validation: counts.validation,
            counts,
            path: self.train_path.to_string_lossy().into_owned(),
            validation_path: val_sha.as_ref().map(|_| self.val_path.to_string_lossy().into_owned()),
            dataset_info: info_path.to_string_lossy().into_owned(),
            sha256,
            parent_ids: Vec::new(),
            created_at: self.created_at,
        };
        let mut meta = json!({ "dataset": &dataset, "validation_sha256": val_sha, "written_by": concat!("garden-eden ", env!("CARGO_PKG_VERSION")) });
        if let (Value::Object(extra), Some(m)) = (meta_extra, meta.as_object_mut()) {
            m.extend(extra);
        }

        let tx = conn.transaction()?;
        insert(&tx, &dataset)?;
        record(&tx, &dataset)?;
        sink.train.file.commit()?;
        if let (Some(v), Some(_)) = (sink.validation.as_mut(), &val_sha) {
            v.file.commit()?;
        }
        write_json_atomically(info_path, &info)?;
        write_json_atomically(&self.meta_path, &meta)?;
        tx.commit()?;
        Ok(dataset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_leaves_the_pooled_connections_page_cache_as_it_was() {
        let mut c = Connection::open_in_memory().unwrap();
        crate::migrate::apply(&mut c, Path::new(":memory:")).unwrap();
        c.pragma_update(None, "cache_size", -3000).unwrap();
        preview(&c, Format::Alpaca, &DataFilter::default(), &Curation::default(), 1).unwrap();
        let after: i64 = c.query_row("PRAGMA cache_size", [], |r| r.get(0)).unwrap();
        assert_eq!(after, -3000);
    }
    use sha2::{Digest, Sha256};
    use crate::conversations::{store, NewConversation, NewMessage, Role};
    use crate::db::Db;

    const DAY: i64 = 86_400_000;

    fn msg(role: Role, content: &str, thumbs: Option<i8>) -> NewMessage {
        NewMessage { role, content: content.into(), created_at: 10 * DAY, model: None, thumbs }
    }

    fn conv(r: &str, day: i64, satisfaction: Option<f64>, turns: &[(&str, &str, Option<i8>)]) -> NewConversation {
        let mut messages = vec![msg(Role::System, "You are kind.", None)];
        for (u, a, t) in turns {
            messages.push(msg(Role::User, u, None));
            messages.push(msg(Role::Assistant, a, *t));
        }
        NewConversation { source_ref: r.into(), title: r.into(), created_at: day * DAY, messages, satisfaction }
    }

    /// A small history with one conversation for each filter case.
    fn history() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path().join("db.sqlite3")).unwrap();
        db.with_conn(|conn| {
            let tx = conn.transaction()?;
            store(&tx, "test", None, vec![
                conv("great", 1, Some(0.9), &[("How do I boil an egg?", "Simmer it for nine minutes, then cool it.", Some(1))]),
                conv("good-2turn", 2, Some(0.8), &[("Hi there, can you help?", "Of course, what do you need?", None), ("Plan a trip to Jeju.", "Day 1: Seongsan; day 2: Hallasan.", None)]),
                conv("neutral", 3, Some(0.5), &[("What is the capital of France?", "Paris is the capital of France.", None)]),
                conv("bad", 4, Some(0.1), &[("Tell me a joke please", "No.", Some(-1))]),
                conv("unrated", 5, None, &[("What time zone is Seoul in?", "Korea Standard Time, UTC+9.", None)]),
                conv("thumbs-mixed", 6, None, &[("First question here?", "First answer here.", Some(1)), ("Second question here?", "Second answer here.", Some(-1)), ("Third question here?", "Third answer here.", Some(1))]),
                conv("korean", 7, Some(1.0), &[("안녕하세요", "반가워요", None)]),
                conv("dup-a", 8, Some(0.9), &[("Write a haiku about rain.", "Soft rain on the roof.", None)]),
                conv("dup-b", 9, Some(0.9), &[("write a haiku about rain", "Soft rain on the roof", None)]),
                conv("pii", 10, Some(0.95), &[("Mail me at jane.doe@example.com please", "Sure, I will mail jane.doe@example.com.", None)]),
            ])?;
            tx.commit()?;
            Ok(())
        })
        .unwrap();
        (dir, db)
    }

    fn passed(db: &Db, filter: DataFilter) -> u64 {
        let curation = Curation { dedupe: false, scrub_pii: false, validation_ratio: 0.0, seed: 1 };
        db.with_conn(|c| preview(c, Format::Alpaca, &filter, &curation, 0)).unwrap().counts.passed_filter
    }

    #[test]
    fn data_filter_semantics_case_by_case() {
        let (_dir, db) = history();
        assert_eq!(passed(&db, DataFilter::default()), 10);
        // Scores: great .9, good-2turn .8, neutral .5, bad .1, unrated none, thumbs-mixed 2/3,
        // korean 1, dup-a .9, dup-b .9, pii .95.
        assert_eq!(passed(&db, DataFilter { min_satisfaction: Some(0.8), ..Default::default() }), 6, "unrated excluded");
        assert_eq!(passed(&db, DataFilter { min_satisfaction: Some(0.0), ..Default::default() }), 9, "only the unrated one is out");
        assert_eq!(passed(&db, DataFilter { positive_only: true, ..Default::default() }), 7, "> 0.5 only");
        assert_eq!(passed(&db, DataFilter { exclude_negative: true, ..Default::default() }), 9, "bad out, unrated and neutral in");
        assert_eq!(passed(&db, DataFilter { min_turns: Some(2), ..Default::default() }), 2);
        assert_eq!(passed(&db, DataFilter { min_turns: Some(3), ..Default::default() }), 1);
        // Characters, not bytes: "안녕하세요" is 5 characters (15 bytes), "반가워요" 4.
        assert_eq!(passed(&db, DataFilter { max_message_length: Some(5), ..Default::default() }), 1);
        assert_eq!(passed(&db, DataFilter { min_message_length: Some(5), max_message_length: Some(5), ..Default::default() }), 0);
        assert_eq!(passed(&db, DataFilter { min_message_length: Some(4), ..Default::default() }), 9, "\"No.\" is 3 characters");
        assert_eq!(passed(&db, DataFilter { since: Some(3 * DAY), until: Some(5 * DAY), ..Default::default() }), 2);
        assert_eq!(passed(&db, DataFilter { since: Some(10 * DAY), ..Default::default() }), 1);
        assert_eq!(passed(&db, DataFilter { until: Some(2 * DAY), ..Default::default() }), 1, "until is exclusive");
    }

    #[test]
    fn limit_counts_after_filtering_and_dedupe() {
        let (_dir, db) = history();
        let curation = Curation { validation_ratio: 0.0, ..Curation::default() };
        let filter = DataFilter { min_satisfaction: Some(0.8), limit: Some(4), ..Default::default() };
        let p = db.with_conn(|c| preview(c, Format::Alpaca, &filter, &curation, 10)).unwrap();
        assert_eq!(p.counts.written, 4, "{:?}", p.counts);
        assert_eq!(p.samples.len(), 4);
        // Newest first: pii (day 10), dup-b (9), dup-a (8, a near duplicate of dup-b), korean (7), great (1).
        assert_eq!(p.counts.near_duplicates, 1);
        assert!(p.counts.limited);
        assert!(p.samples[0].contains("[EMAIL]"), "{}", p.samples[0]);
        assert_eq!(p.counts.pii.email, 2);
        let all = db.with_conn(|c| preview(c, Format::Alpaca, &DataFilter { limit: Some(100), ..Default::default() }, &curation, 0)).unwrap();
        assert_eq!(all.counts.written, 9);
        assert!(!all.counts.limited);
    }

    #[test]
    fn bad_filters_are_named() {
        let (_dir, db) = history();
        let curation = Curation::default();
        let cases = [
            (DataFilter { min_satisfaction: Some(1.5), ..Default::default() }, "min_satisfaction"),
            (DataFilter { min_message_length: Some(9), max_message_length: Some(3), ..Default::default() }, "max_message_length"),
            (DataFilter { since: Some(5), until: Some(5), ..Default::default() }, "until"),
            (DataFilter { limit: Some(0), ..Default::default() }, "limit"),
        ];
        for (filter, field) in cases {
            let err = db.with_conn(|c| preview(c, Format::Alpaca, &filter, &curation, 0)).unwrap_err();
            assert!(matches!(&err, Error::Invalid { field: f, .. } if f == field), "{err}");
        }
    }

    fn read_examples(path: &str, format: Format) -> Vec<Value> {
        let text = std::fs::read_to_string(path).unwrap();
        if format.is_array() {
            serde_json::from_str::<Vec<Value>>(&text).unwrap()
        } else {
            text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
        }
    }

    #[test]
    fn every_format_exports_with_dataset_info_sidecar_and_record() {
        let (dir, db) = history();
        for format in Format::ALL {
            let request = ExportRequest {
                name: Some(format!("set-{}", format.as_str())),
                format,
                filter: DataFilter::default(),
                curation: Curation { validation_ratio: 0.3, seed: 7, ..Curation::default() },
                output: None,
            };
            let ds = db.with_conn(|c| export(c, dir.path(), &request, &mut |_, _| {})).unwrap();
            let train = read_examples(&ds.path, format);
            let val = ds.validation_path.as_deref().map(|p| read_examples(p, format)).unwrap_or_default();
            assert_eq!((train.len() + val.len()) as u64, ds.examples, "{format:?}");
            assert_eq!(val.len() as u64, ds.validation);
            assert_eq!(ds.sha256, crate::hex(&Sha256::digest(std::fs::read(&ds.path).unwrap())));
            let info: Value = serde_json::from_str(&std::fs::read_to_string(&ds.dataset_info).unwrap()).unwrap();
            let entry = &info[&ds.name];
            assert_eq!(entry["file_name"], Path::new(&ds.path).file_name().unwrap().to_str().unwrap());
            let folder = Path::new(&ds.path).parent().unwrap();
            assert!(folder.join(format!("{}.meta.json", ds.name)).exists());
            assert!(std::fs::read_dir(folder).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().contains(".tmp-")));
            let stored = db.with_conn(|c| get(c, &ds.id)).unwrap();
            assert_eq!(stored, ds);
            let all: Vec<&Value> = train.iter().chain(&val).collect();
            match format {
                Format::Alpaca => {
                    let two = all.iter().find(|e| e["output"] == "Day 1: Seongsan; day 2: Hallasan.").unwrap();
                    assert_eq!(two["instruction"], "Plan a trip to Jeju.");
                    assert_eq!(two["history"][0][0], "Hi there, can you help?");
                    assert_eq!(two["system"], "You are kind.");
                    assert_eq!(entry["columns"]["history"], "history");
                }
                Format::Sharegpt => {
                    let c = &all[0]["conversations"];
                    assert_eq!(c[0]["from"], "system");
                    assert_eq!(c[1]["from"], "human");
                    assert_eq!(c[2]["from"], "gpt");
                    assert_eq!(entry["formatting"], "sharegpt");
                }
                Format::Jsonl => {
                    // One line per exchange: 9 conversations after dedupe, one with 2 turns and one with 3.
                    assert_eq!(all.len(), 12);
                    assert!(all.iter().all(|e| e["timestamp"].as_str().unwrap().ends_with('Z')));
                    assert!(all.iter().any(|e| e["satisfaction"] == 0.9));
                }
                Format::Openai => {
                    assert_eq!(all[0]["messages"][0]["role"], "system");
                }
                Format::Kto => {
                    // thumbs-mixed gives 3 rated answers; great 1 up; bad 1 down; the rest by score.
                    let tags: Vec<bool> = all.iter().map(|e| e["kto_tag"].as_bool().unwrap()).collect();
                    assert!(tags.contains(&true) && tags.contains(&false));
                    assert!(all.iter().all(|e| e["messages"].as_array().unwrap().last().unwrap()["role"] == "assistant"));
                    assert_eq!(entry["columns"]["kto_tag"], "kto_tag");
                }
                Format::Pairs => unreachable!("not a conversation format"),
            }
        }
        assert_eq!(db.with_conn(|c| list(c)).unwrap().len(), 5);
    }

    #[test]
    fn output_path_and_dataset_info_merge() {
        let (dir, db) = history();
        let out = dir.path().join("mine");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join("dataset_info.json"), r#"{"theirs": {"file_name": "x.json"}}"#).unwrap();
        let request = ExportRequest {
            name: None,
            format: Format::Alpaca,
            filter: DataFilter::default(),
            curation: Curation { validation_ratio: 0.0, ..Curation::default() },
            output: Some(out.join("training_data.json")),
        };
        let ds = db.with_conn(|c| export(c, dir.path(), &request, &mut |_, _| {})).unwrap();
        assert_eq!(ds.name, "training_data");
        assert_eq!(ds.validation_path, None);
        let info: Value = serde_json::from_str(&std::fs::read_to_string(out.join("dataset_info.json")).unwrap()).unwrap();
        assert_eq!(info["theirs"]["file_name"], "x.json", "existing entries are kept");
        assert_eq!(info["training_data"]["file_name"], "training_data.json");
    }

    #[test]
    fn an_export_that_fails_leaves_no_file() {
        let (dir, db) = history();
        let out = dir.path().join("out");
        let request = ExportRequest {
            name: Some("nothing".into()),
            format: Format::Sharegpt,
            filter: DataFilter { min_satisfaction: Some(1.0), min_turns: Some(5), ..Default::default() },
            curation: Curation::default(),
            output: Some(out.join("nothing.json")),
        };
        let err = db.with_conn(|c| export(c, dir.path(), &request, &mut |_, _| {})).unwrap_err();
        assert!(err.to_string().contains("no example passes"), "{err}");
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0, "no half-written or temporary file");
        assert!(db.with_conn(|c| list(c)).unwrap().is_empty());
    }

    /// The history plus what the bench history lacks: several conversations sharing one
    /// `created_at` (the id breaks the tie), text that needs escaping, joined user messages, an
    /// answer with no question and a question with no answer.
    fn tricky_history() -> (tempfile::TempDir, Db) {
        let (dir, db) = history();
        db.with_conn(|conn| {
            let tx = conn.transaction()?;
            let mut conversations = Vec::new();
            for r in ["tie-c", "tie-a", "tie-b", "tie-aa"] {
                conversations.push(conv(r, 11, Some(0.9), &[(&format!("Same time {r}?"), "Yes, \"quoted\"\t\\ and \u{1}.", Some(1))]));
            }
            let mut odd = conv("odd", 12, None, &[("첫 질문\nline two", "답변 🌱", Some(-1)), ("second\r\n", "ok", Some(1))]);
            odd.messages.insert(1, msg(Role::Assistant, "an answer to nothing", Some(1)));
            odd.messages.insert(3, msg(Role::User, "and more from the user", None));
            odd.messages.push(msg(Role::System, "Second system line.", None));
            odd.messages.push(msg(Role::User, "a question with no answer", None));
            conversations.push(odd);
            store(&tx, "test", None, conversations)?;
            tx.commit()?;
            Ok(())
        })
        .unwrap();
        (dir, db)
    }

    struct Collect(Vec<(String, bool)>);

    impl Sink for Collect {
        fn write(&mut self, bytes: &[u8], validation: bool) -> Result<()> {
            self.0.push((String::from_utf8(bytes.to_vec()).unwrap(), validation));
            Ok(())
        }
    }

    #[test]
    fn both_ways_of_reading_scores_give_the_same_export_in_canonical_json() {
        let (_dir, db) = tricky_history();
        let curations = [
            Curation { dedupe: false, scrub_pii: false, validation_ratio: 0.0, seed: 1 },
            Curation { validation_ratio: 0.3, ..Curation::default() },
        ];
        let filters = [
            DataFilter::default(),
            DataFilter { min_satisfaction: Some(0.8), ..Default::default() },
            DataFilter { exclude_negative: true, limit: Some(5), ..Default::default() },
        ];
        for format in Format::ALL {
            for curation in &curations {
                for filter in &filters {
                    let mut outs = Vec::new();
                    for scores in [stream::Scores::PerConversation, stream::Scores::Map] {
                        let mut sink = Collect(Vec::new());
                        let counts = db
                            .with_conn(|c| stream::run(c, format, filter, curation, &mut sink, &mut |_, _| {}, Some(scores)))
                            .unwrap();
                        outs.push((counts, sink.0));
                    }
                    assert_eq!(outs[0], outs[1], "{format:?} {curation:?} {filter:?}");
                    let (counts, examples) = &outs[0];
                    assert_eq!(counts.written as usize, examples.len());
                    for (e, _) in examples {
                        // Exactly what serde_json writes for the same value.
                        let v: Value = serde_json::from_str(e).unwrap();
                        assert_eq!(&serde_json::to_string(&v).unwrap(), e);
                    }
                }
            }
        }
    }

    /// The map keeps only the scores that can pass a filter refusing unrated conversations: an
    /// explicit rating must still win over the thumbs, whichever of the two passes.
    #[test]
    fn a_rating_wins_over_thumbs_when_only_passing_scores_are_mapped() {
        let (_dir, db) = history();
        db.with_conn(|conn| {
            let tx = conn.transaction()?;
            store(&tx, "test", None, vec![
                conv("low-rating-thumbs-up", 20, Some(0.2), &[("Is the sky blue?", "Yes, on a clear day.", Some(1))]),
                conv("high-rating-thumbs-down", 21, Some(0.95), &[("Is grass green?", "Mostly, yes.", Some(-1))]),
                conv("thumbs-up-only", 22, None, &[("Is snow white?", "Usually.", Some(1))]),
            ])?;
            tx.commit()?;
            Ok(())
        })
        .unwrap();
        let curation = Curation { dedupe: false, scrub_pii: false, validation_ratio: 0.0, seed: 1 };
        let filters = [
            DataFilter { min_satisfaction: Some(0.8), ..Default::default() },
            DataFilter { positive_only: true, ..Default::default() },
            DataFilter { positive_only: true, exclude_negative: true, min_satisfaction: Some(0.6), ..Default::default() },
        ];
        for filter in &filters {
            let mut outs = Vec::new();
            for scores in [stream::Scores::PerConversation, stream::Scores::Map] {
                let mut sink = Collect(Vec::new());
                let counts = db
                    .with_conn(|c| stream::run(c, Format::Jsonl, filter, &curation, &mut sink, &mut |_, _| {}, Some(scores)))
                    .unwrap();
                outs.push((counts, sink.0));
            }
            assert_eq!(outs[0], outs[1], "{filter:?}");
            let ids: Vec<String> = outs[1]
                .1
                .iter()
                .map(|(e, _)| serde_json::from_str::<Value>(e).unwrap()["conversation_id"].as_str().unwrap().to_owned())
                .collect();
            let sources: Vec<String> = db
                .with_conn(|c| {
                    let mut out = Vec::new();
                    for id in &ids {
                        out.push(c.query_row("SELECT source_ref FROM conversations WHERE id = ?1", [id], |r| r.get(0))?);
                    }
                    Ok(out)
                })
                .unwrap();
            assert!(sources.iter().any(|s| s == "high-rating-thumbs-down"), "{filter:?} {sources:?}");
            assert!(sources.iter().any(|s| s == "thumbs-up-only"), "{filter:?} {sources:?}");
            assert!(!sources.iter().any(|s| s == "low-rating-thumbs-up"), "{filter:?} {sources:?}");
        }
    }

    #[test]
    fn ties_are_read_in_id_order_and_text_is_kept_exactly() {
        let (_dir, db) = tricky_history();
        let curation = Curation { dedupe: false, scrub_pii: false, validation_ratio: 0.0, seed: 1 };
        let mut sink = Collect(Vec::new());
        db.with_conn(|c| stream::run(c, Format::Jsonl, &DataFilter::default(), &curation, &mut sink, &mut |_, _| {}, None))
            .unwrap();
        let rows: Vec<Value> = sink.0.iter().map(|(e, _)| serde_json::from_str(e).unwrap()).collect();
        let expected: Vec<String> = db
            .with_conn(|c| {
                let mut s = c.prepare("SELECT id FROM conversations ORDER BY created_at DESC, id")?;
                let ids = s.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(ids)
            })
            .unwrap();
        let mut seen: Vec<String> = Vec::new();
        for r in &rows {
            let id = r["conversation_id"].as_str().unwrap().to_owned();
            if seen.last() != Some(&id) {
                seen.push(id);
            }
        }
        let expected: Vec<String> = expected.into_iter().filter(|id| seen.contains(id)).collect();
        assert_eq!(seen, expected);
        let odd: Vec<&Value> = rows.iter().filter(|r| r["user"].as_str().unwrap().starts_with("첫")).collect();
        assert_eq!(odd[0]["user"], "첫 질문\nline two\n\nand more from the user", "consecutive questions are joined");
        assert_eq!(odd[0]["system"], "You are kind.\n\nSecond system line.");
        let second = rows.iter().find(|r| r["assistant"] == "ok").unwrap();
        assert_eq!(second["user"], "second\r\n");
        assert!(rows.iter().all(|r| r["user"] != "a question with no answer" && r["assistant"] != "an answer to nothing"));
        let tie = rows.iter().find(|r| r["user"] == "Same time tie-a?").unwrap();
        assert_eq!(tie["assistant"], "Yes, \"quoted\"\t\\ and \u{1}.");
    }

    struct Failing {
        after: usize,
        panic: bool,
    }

    impl Sink for Failing {
        fn write(&mut self, _bytes: &[u8], _validation: bool) -> Result<()> {
            if self.after == 0 {
                if self.panic {
                    panic!("sink exploded");
                }
                return Err(Error::Task("disk full".into()));
            }
            self.after -= 1;
            Ok(())
        }
    }

    #[test]
    fn a_failing_or_panicking_writer_is_an_error() {
        let (_dir, db) = tricky_history();
        let curation = Curation::default();
        for panic in [false, true] {
            let mut sink = Failing { after: 2, panic };
            let err = db
                .with_conn(|c| stream::run(c, Format::Alpaca, &DataFilter::default(), &curation, &mut sink, &mut |_, _| {}, None))
                .unwrap_err();
            let text = err.to_string();
            assert!(if panic { text.contains("sink exploded") } else { text.contains("disk full") }, "{text}");
            // The connection is usable again (the read transaction ended).
            db.with_conn(|c| {
                assert!(c.is_autocommit());
                Ok(())
            })
            .unwrap();
        }
    }

    #[test]
    fn names_are_sanitised() {
        assert_eq!(sanitize_name(" my data/set v1 "), "my_data_set_v1");
        assert_eq!(sanitize_name("../.."), "");
    }

    #[test]
    fn form_params_parse_or_name_their_field() {
        let (format, filter, curation, name) = request_from_params(&ExportParams::default()).unwrap();
        assert_eq!((format, name), (Format::Alpaca, None));
        assert_eq!(filter, DataFilter::default());
        assert_eq!(curation, Curation::default());

        let p = ExportParams {
            format: Some("kto".into()),
            min_satisfaction: Some(" 0.5 ".into()),
            since: Some("2025-01-01".into()),
            positive_only: Some("on".into()),
            name: Some(" mine ".into()),
            submitted: Some("1".into()),
            ..Default::default()
        };
        let (format, filter, curation, name) = request_from_params(&p).unwrap();
        assert_eq!((format, name.as_deref()), (Format::Kto, Some("mine")));
        assert_eq!((filter.min_satisfaction, filter.positive_only), (Some(0.5), true));
        assert_eq!(filter.since, Some(1_735_689_600_000));
        assert!(!curation.dedupe && !curation.scrub_pii);

        for (field, p) in [
            ("format", ExportParams { format: Some("csv".into()), ..Default::default() }),
            ("min_turns", ExportParams { min_turns: Some("many".into()), ..Default::default() }),
            ("until", ExportParams { until: Some("soon".into()), ..Default::default() }),
            ("min_satisfaction", ExportParams { min_satisfaction: Some("2".into()), ..Default::default() }),
            ("validation_ratio", ExportParams { validation_ratio: Some("0.95".into()), ..Default::default() }),
        ] {
            let err = request_from_params(&p).unwrap_err();
            assert!(matches!(&err, Error::Invalid { field: f, .. } if f == field), "{field}: {err}");
        }
    }

    #[test]
    fn views_put_steps_and_filter_in_words() {
        let counts = Counts { conversations: 5, passed_filter: 4, examples: 3, written: 2, ..Default::default() };
        let preview = preview_view(Format::Sharegpt, Preview { counts: counts.clone(), samples: vec!["{}".into()] });
        assert_eq!((preview.format.as_str(), preview.written, preview.samples.len()), ("sharegpt", 2, 1));
        assert_eq!(preview.pii.len(), 8);
        assert_eq!(preview.pii[0], ("email".to_owned(), 0));

        let dataset = Dataset {
            id: "d1".into(),
            name: "set".into(),
            format: Format::Alpaca,
            filter: DataFilter { min_satisfaction: Some(0.5), exclude_negative: true, since: Some(0), limit: Some(10), ..Default::default() },
            curation: Curation::default(),
            counts,
            examples: 2,
            validation: 0,
            avg_satisfaction: None,
            path: "/d/set.json".into(),
            validation_path: None,
            dataset_info: "/d/dataset_info.json".into(),
            sha256: "ab".into(),
            parent_ids: Vec::new(),
            created_at: 7,
        };
        let view = dataset_view(&dataset);
        assert_eq!(view.format, "alpaca");
        assert_eq!(view.steps.first(), Some(&("conversations considered".to_owned(), 5)));
        assert_eq!(view.steps.last(), Some(&("written".to_owned(), 2)));
        assert_eq!(view.filter, ["satisfaction ≥ 0.5", "no negative", "since 1970-01-01T00:00:00Z", "limit 10"]);
    }
}
