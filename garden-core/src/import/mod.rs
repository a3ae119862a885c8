//! Importers: bringing conversation histories into garden-eden.
//!
//! [`import_path`] reads one file of an [`ImportKind`]; [`import_sample`] adds a clearly labelled
//! synthetic history; [`parse`] only reads (for previews and tests); [`list_imports`] lists what
//! was imported. Each format's own rules are documented in its submodule:
//! [`goe`] (Garden of Eden V3's SQLite database), [`openwebui`], [`chatgpt`], [`sharegpt`],
//! [`alpaca`], [`jsonl`], and [`sample`].
//!
//! # Rules every importer follows
//!
//! - **All or nothing.** Files are streamed: each record is parsed and stored before the next is
//!   read, so memory follows the largest record, never the file (one record may take at most
//!   64 MB; a longer one is an error naming it). Everything happens in one transaction: the run's
//!   row in `imports` first, then each conversation as it is read (each pointing at the run
//!   through `conversations.import_id`), then the run's counts; any error rolls it all back. A
//!   file that is not what its kind promises is an [`Error::Import`] naming the place
//!   (`line 17`, `conversation 3 (id abc)`, `conversation 3, message 2`, `messages row id=m9`)
//!   and nothing is imported. A missing or unreadable file is an [`Error::Io`]. (Garden of Eden
//!   databases are read whole first: they are SQLite, not a stream of records.)
//! - **Skipped, not failed.** Rows that are well-formed but cannot become a message (an unknown
//!   role, an empty message, an orphan row, a conversation with no messages or with only a
//!   system prompt, a repeat of a conversation earlier in the same file) are left out and listed
//!   in the report's `skipped`, each with a place and a reason.
//! - **Nothing twice.** Conversations are stored with the kind as their `source` and a
//!   `source_ref`: the source's own id where it has one (Garden of Eden, ChatGPT and Open WebUI
//!   ids; an `id` field on ShareGPT, Alpaca and JSONL records); otherwise the hex SHA-256 of the
//!   canonical JSON `[["role","content"], …]` of the conversation's messages (timestamps and
//!   ratings left out). Re-importing the same file, even reordered, adds nothing and reports the
//!   conversations as `already`.
//! - **Timestamps** are stored as Unix milliseconds. A number (or numeric string) whose magnitude
//!   is below 1e11 is seconds, anything larger is milliseconds; ISO-8601 text
//!   (`2025-01-02T03:04:05Z`, `2025-01-02 03:04:05`, with or without offset; no offset = UTC) is
//!   accepted too. Formats that carry no time at all get the file's modification time.
//! - **Text is stored as is** (Korean and every other script, emoji, markup); nothing is
//!   trimmed or re-encoded. Lengths are counted in characters, never bytes.
//! - **Titles** are the source's title; when it has none (or it is blank), the first user
//!   message with its whitespace collapsed, cut to [`TITLE_CHARS`] characters.
//! - **Wrong kinds are named.** An SQLite file given as a JSON kind, a JSON file given as
//!   `goe-v3`, a zip archive, or a JSON record shaped like another kind (a ChatGPT export given as
//!   `openwebui`, …) is an error that says which kind the file looks like.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::Path;

use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::conversations::{self, NewConversation, NewMessage, Role, StoreReport};
use crate::db::Db;
use crate::error::{Error, Result};

pub mod alpaca;
pub mod chatgpt;
pub mod goe;
mod json;
pub mod jsonl;
pub mod openwebui;
pub mod sample;
pub mod sharegpt;

pub use garden_types::data::{ImportReport, Skipped};

/// Longest title taken from a first user message, in characters.
pub const TITLE_CHARS: usize = 60;

/// What kind of file is being imported. [`ImportKind::as_str`] is also the `source` stored on
/// the conversations it brings in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ImportKind {
    /// Garden of Eden V3's SQLite database (opened read-only).
    #[serde(rename = "goe-v3")]
    GoeV3,
    /// Open WebUI's chat export (JSON).
    #[serde(rename = "openwebui")]
    OpenWebui,
    /// ChatGPT's `conversations.json`.
    #[serde(rename = "chatgpt")]
    Chatgpt,
    /// ShareGPT (`conversations: [{from, value}]`) or OpenAI messages, JSON or JSON Lines.
    #[serde(rename = "sharegpt")]
    Sharegpt,
    /// Alpaca instruction records, JSON or JSON Lines.
    #[serde(rename = "alpaca")]
    Alpaca,
    /// JSON Lines with the fields `system`, `user`, `assistant` and `satisfaction`.
    #[serde(rename = "jsonl")]
    Jsonl,
}

impl ImportKind {
    pub const ALL: [ImportKind; 6] = [
        ImportKind::GoeV3,
        ImportKind::OpenWebui,
        ImportKind::Chatgpt,
        ImportKind::Sharegpt,
        ImportKind::Alpaca,
        ImportKind::Jsonl,
    ];

    /// The kind's name on the command line, in forms, and as the conversations' `source`.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::GoeV3 => "goe-v3",
            ImportKind::OpenWebui => "openwebui",
            ImportKind::Chatgpt => "chatgpt",
            ImportKind::Sharegpt => "sharegpt",
            ImportKind::Alpaca => "alpaca",
            ImportKind::Jsonl => "jsonl",
        }
    }

    /// A name for people.
    pub fn label(self) -> &'static str {
        match self {
            ImportKind::GoeV3 => "Garden of Eden V3 database",
            ImportKind::OpenWebui => "Open WebUI chat export",
            ImportKind::Chatgpt => "ChatGPT export (conversations.json)",
            ImportKind::Sharegpt => "ShareGPT or OpenAI messages file",
            ImportKind::Alpaca => "Alpaca instruction file",
            ImportKind::Jsonl => "JSON Lines (system / user / assistant per line)",
        }
    }
}

impl fmt::Display for ImportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ImportKind {
    type Err = Error;

    /// Accepts the [`ImportKind::as_str`] names, in any case.
    fn from_str(s: &str) -> Result<Self> {
        let wanted = s.trim();
        ImportKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| {
                let names: Vec<&str> = ImportKind::ALL.iter().map(|k| k.as_str()).collect();
                Error::invalid(
                    "import kind",
                    format!("'{wanted}' is not one of {}", names.join(", ")),
                )
            })
    }
}

/// A file read into conversations, not stored yet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub conversations: Vec<NewConversation>,
    pub skipped: Vec<Skipped>,
}

/// Reads a file of the given kind into conversations without storing anything (through the same
/// record-at-a-time reader as [`import_path`]).
pub fn parse(kind: ImportKind, path: &Path) -> Result<Parsed> {
    Ok(read(kind, path, json::RECORD_CAP, Collector::default())?.0)
}

/// How one JSON record of a kind becomes conversations (handed to the collector).
type ParseRecord = fn(&json::Input<'_>, &json::Record, &mut Collector<'_>) -> Result<()>;

/// Reads the file record by record into `out` (which keeps or hands on each conversation);
/// returns what `out` kept and the SHA-256 of the file's bytes.
fn read(
    kind: ImportKind,
    path: &Path,
    cap: u64,
    mut out: Collector<'_>,
) -> Result<(Parsed, String)> {
    let parse_record: ParseRecord = match kind {
        ImportKind::GoeV3 => {
            let parsed = goe::parse(path)?;
            let sha256 = file_sha256(path)?;
            out.skipped.extend(parsed.skipped);
            for conversation in parsed.conversations {
                out.keep(conversation)?;
            }
            return Ok((out.finish(), sha256));
        }
        ImportKind::OpenWebui => openwebui::record,
        ImportKind::Chatgpt => chatgpt::record,
        ImportKind::Sharegpt => sharegpt::record,
        ImportKind::Alpaca => alpaca::record,
        ImportKind::Jsonl => jsonl::record,
    };
    let input = json::Input::new(path);
    let sha256 = input.each_record(cap, &mut |record| parse_record(&input, &record, &mut out))?;
    Ok((out.finish(), sha256))
}

/// Reads the file record by record and, in ONE transaction, inserts a row into `imports` and
/// stores each conversation as it is read (`conversations.import_id` = the import's id). Any
/// error → nothing written.
pub fn import_path(db: &Db, kind: ImportKind, path: &Path) -> Result<ImportReport> {
    import_capped(db, kind, path, json::RECORD_CAP)
}

/// [`import_path`] with the most bytes one record may take.
fn import_capped(db: &Db, kind: ImportKind, path: &Path, cap: u64) -> Result<ImportReport> {
    let shown = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    record(db, kind.as_str(), &shown.display().to_string(), |store| {
        let (parsed, sha256) = read(kind, path, cap, Collector::handing(store))?;
        Ok((parsed.skipped, sha256))
    })
}

/// A clearly labelled synthetic history (source `sample`, titles starting with `[sample] `) with
/// feedback, so a newcomer can try the whole loop; see [`sample`] for what is in it. Stored
/// through the same one-transaction path as a file (kind `sample`, path `(sample)`); running it
/// again adds nothing.
pub fn import_sample(db: &Db) -> Result<ImportReport> {
    let conversations = sample::history(crate::now_ms());
    let sha256 = sample::fingerprint(&conversations);
    record(db, sample::SOURCE, "(sample)", |store| {
        for conversation in conversations {
            store(conversation)?;
        }
        Ok((Vec::new(), sha256))
    })
}

/// [`import_sample`] on a blocking thread, for async callers (the web app).
pub async fn sample_in_background(db: &Db) -> Result<ImportReport> {
    let db = db.clone();
    tokio::task::spawn_blocking(move || import_sample(&db)).await.map_err(|e| Error::Task(e.to_string()))?
}

/// Imports Garden of Eden V3's database from where the app keeps it on this machine
/// ([`goe::find_default`], opened read-only), on a blocking thread: `garden-eden import --from
/// goe-v3` with no path.
pub async fn goe_here_in_background(db: &Db) -> Result<ImportReport> {
    let db = db.clone();
    tokio::task::spawn_blocking(move || {
        let path = goe::find_default().ok_or_else(|| Error::invalid("path", "Garden of Eden V3's database is not on this machine"))?;
        import_path(&db, ImportKind::GoeV3, &path)
    })
    .await
    .map_err(|e| Error::Task(e.to_string()))?
}

/// Where Garden of Eden V3's database would be on this machine and whether it is there, looked
/// up on a blocking thread.
pub async fn goe_here() -> Result<garden_types::data::GoeHere> {
    tokio::task::spawn_blocking(|| garden_types::data::GoeHere {
        found: goe::find_default().map(|p| p.display().to_string()),
        looked: goe::default_locations().iter().map(|p| p.display().to_string()).collect(),
    })
    .await
    .map_err(|e| Error::Task(e.to_string()))
}

/// Where [`record`] stores each conversation as it comes.
type Store<'s> = &'s mut dyn FnMut(NewConversation) -> Result<()>;

/// One import run in one transaction: the `imports` row first, then every conversation `read`
/// hands over (stored at once), then the run's counts, skipped list and SHA-256 (which `read`
/// returns); then commit. Any error drops the transaction: nothing is written.
fn record(
    db: &Db,
    kind: &str,
    path: &str,
    read: impl FnOnce(Store<'_>) -> Result<(Vec<Skipped>, String)>,
) -> Result<ImportReport> {
    db.with_conn(|conn| {
        let id = conversations::new_id();
        let created_at = crate::now_ms();
        let tx = conn.transaction()?;
        // The run's row first: the conversations point at it.
        tx.execute(
            "INSERT INTO imports (id, kind, path, sha256, conversations, messages, ratings, already,
                                  skipped, created_at)
             VALUES (?1, ?2, ?3, '', 0, 0, 0, 0, '[]', ?4)",
            params![id, kind, path, created_at],
        )?;
        let mut stored = StoreReport::default();
        let (skipped, sha256) = read(&mut |conversation| {
            let one = conversations::store(&tx, kind, Some(&id), std::iter::once(conversation))?;
            stored.conversations += one.conversations;
            stored.messages += one.messages;
            stored.ratings += one.ratings;
            stored.already += one.already;
            Ok(())
        })?;
        let skipped_json = serde_json::to_string(&skipped)
            .map_err(|e| Error::invalid("skipped", format!("cannot be written as JSON: {e}")))?;
        tx.execute(
            "UPDATE imports SET sha256 = ?2, conversations = ?3, messages = ?4, ratings = ?5,
                                already = ?6, skipped = ?7
              WHERE id = ?1",
            params![
                id,
                sha256,
                count_to_sql(stored.conversations),
                count_to_sql(stored.messages),
                count_to_sql(stored.ratings),
                count_to_sql(stored.already),
                skipped_json
            ],
        )?;
        tx.commit()?;
        tracing::info!(
            import = %id, kind, path, added = stored.conversations, already = stored.already,
            skipped = skipped.len(), "imported"
        );
        Ok(ImportReport {
            id,
            kind: kind.to_owned(),
            path: path.to_owned(),
            sha256,
            stored,
            skipped,
            created_at,
        })
    })
}

fn count_to_sql(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn count_from_sql(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

/// Lists imports, newest first.
pub fn list_imports(conn: &Connection) -> Result<Vec<ImportReport>> {
    let mut stmt = conn.prepare(
        "SELECT id, kind, path, sha256, conversations, messages, ratings, already, skipped, created_at
           FROM imports ORDER BY created_at DESC, rowid DESC",
    )?;
    let rows = stmt.query_map([], |r| {
        let skipped: String = r.get(8)?;
        Ok(ImportReport {
            id: r.get(0)?,
            kind: r.get(1)?,
            path: r.get(2)?,
            sha256: r.get(3)?,
            stored: StoreReport {
                conversations: count_from_sql(r.get(4)?),
                messages: count_from_sql(r.get(5)?),
                ratings: count_from_sql(r.get(6)?),
                already: count_from_sql(r.get(7)?),
            },
            skipped: serde_json::from_str(&skipped).unwrap_or_else(|e| {
                tracing::warn!("import's skipped list is not valid JSON: {e}");
                Vec::new()
            }),
            created_at: r.get(9)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Hex SHA-256 of a file, read in chunks.
fn file_sha256(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| Error::io("reading", path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

use crate::hex;

/// An input error at a place in a file.
fn import_error(path: &Path, place: impl Into<String>, message: impl Into<String>) -> Error {
    Error::Import {
        path: path.to_path_buf(),
        place: place.into(),
        message: message.into(),
    }
}

/// Gathers a parse's skipped rows and its conversations (kept, or handed on to be stored as
/// they come), leaving out empty conversations and repeats of one already gathered (same
/// `source_ref`; only the keys are remembered, never the conversations handed on).
#[derive(Default)]
struct Collector<'s> {
    skipped: Vec<Skipped>,
    /// Conversations kept ([`Collector::default`]), for [`parse`].
    kept: Vec<NewConversation>,
    /// Where conversations go instead of `kept`, for [`import_path`].
    store: Option<Store<'s>>,
    /// source_ref → the place it was first seen.
    seen: HashMap<String, String>,
}

impl<'s> Collector<'s> {
    /// A collector that hands each conversation to `store` instead of keeping it.
    fn handing(store: Store<'s>) -> Collector<'s> {
        Collector {
            store: Some(store),
            ..Collector::default()
        }
    }

    fn skip(&mut self, place: impl Into<String>, reason: impl Into<String>) {
        self.skipped.push(Skipped {
            place: place.into(),
            reason: reason.into(),
        });
    }

    /// Adds a conversation read at `place`, unless it is empty or a repeat (then it is listed as
    /// skipped). Errors only when storing it fails.
    fn add(&mut self, place: &str, conversation: NewConversation) -> Result<()> {
        if conversation.messages.is_empty() {
            self.skip(place, "it has no messages");
            return Ok(());
        }
        if conversation.messages.iter().all(|m| m.role == Role::System) {
            self.skip(
                place,
                "it has only a system prompt, no user or assistant message",
            );
            return Ok(());
        }
        match self.seen.entry(conversation.source_ref.clone()) {
            Entry::Occupied(first) => {
                let reason = format!("the same conversation as {}", first.get());
                self.skip(place, reason);
                Ok(())
            }
            Entry::Vacant(slot) => {
                slot.insert(place.to_owned());
                self.keep(conversation)
            }
        }
    }

    /// Keeps or hands on a conversation without checking it.
    fn keep(&mut self, conversation: NewConversation) -> Result<()> {
        match &mut self.store {
            Some(store) => store(conversation),
            None => {
                self.kept.push(conversation);
                Ok(())
            }
        }
    }

    fn finish(self) -> Parsed {
        Parsed {
            conversations: self.kept,
            skipped: self.skipped,
        }
    }
}

/// The `source_ref` of a conversation whose source gives it no id: the hex SHA-256 of the
/// canonical JSON `[["role","content"], …]` of its messages.
fn content_ref(messages: &[NewMessage]) -> String {
    let canonical: Vec<[&str; 2]> = messages
        .iter()
        .map(|m| [m.role.as_str(), m.content.as_str()])
        .collect();
    let json = serde_json::to_string(&canonical).unwrap_or_default();
    hex(&Sha256::digest(json.as_bytes()))
}

/// The source's title, or the first user message cut to [`TITLE_CHARS`] characters.
fn title_or_first_user(title: Option<&str>, messages: &[NewMessage]) -> String {
    if let Some(title) = title.map(str::trim).filter(|t| !t.is_empty()) {
        return title.to_owned();
    }
    let Some(first) = messages.iter().find(|m| m.role == Role::User) else {
        return String::new();
    };
    let collapsed = first
        .content
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    collapsed.chars().take(TITLE_CHARS).collect()
}

/// Values whose magnitude is below this are seconds; larger ones milliseconds (1e11 s is the
/// year 5138; 1e11 ms is March 1973).
const SECONDS_BELOW: i64 = 100_000_000_000;

/// Unix ms from an integer of seconds or milliseconds.
fn ms_from_int(n: i64) -> i64 {
    if n.unsigned_abs() < SECONDS_BELOW.unsigned_abs() {
        n * 1000
    } else {
        n
    }
}

/// Unix ms from a number of seconds or milliseconds; `None` when not finite or absurd.
fn ms_from_f64(n: f64) -> Option<i64> {
    if !n.is_finite() {
        return None;
    }
    let ms = if n.abs() < SECONDS_BELOW as f64 {
        n * 1000.0
    } else {
        n
    };
    // Beyond ±1e16 ms (±317,000 years) is not a time.
    (ms.abs() <= 1e16).then(|| ms.round() as i64)
}

/// Unix ms from text: a number of seconds or milliseconds, or ISO-8601.
fn ms_from_text(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(n) = s.parse::<i64>() {
        return Some(ms_from_int(n));
    }
    if s.bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
    {
        if let Ok(n) = s.parse::<f64>() {
            return ms_from_f64(n);
        }
    }
    crate::time::parse_iso(s)
}

/// Unix ms from a JSON number or string (see [`ms_from_text`]); `None` for anything else.
fn ms_from_json(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) => Some(ms_from_int(i)),
            None => n.as_f64().and_then(ms_from_f64),
        },
        Value::String(s) => ms_from_text(s),
        _ => None,
    }
}

/// A thumbs from a rating number: positive → 1, negative → -1, zero → none.
fn thumbs_from_number(n: f64) -> Option<i8> {
    if n > 0.0 {
        Some(1)
    } else if n < 0.0 {
        Some(-1)
    } else {
        None
    }
}

#[cfg(test)]
pub(crate) mod test_util {
    use std::path::PathBuf;

    use crate::conversations::{self, ConversationDetail, ListQuery};
    use crate::db::Db;

    /// A fresh database in a temporary folder (kept alive by the returned guard).
    pub(crate) fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path().join("garden.sqlite3")).unwrap();
        (dir, db)
    }

    /// Writes a fixture file into the folder.
    pub(crate) fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Every stored conversation in full, sorted by title.
    pub(crate) fn all(db: &Db) -> Vec<ConversationDetail> {
        db.with_conn(|conn| {
            let page = conversations::list(
                conn,
                &ListQuery {
                    limit: Some(conversations::MAX_PAGE),
                    ..Default::default()
                },
            )?;
            let mut out = page
                .items
                .iter()
                .map(|c| conversations::get(conn, &c.id))
                .collect::<crate::Result<Vec<_>>>()?;
            out.sort_by(|a, b| a.summary.title.cmp(&b.summary.title));
            Ok(out)
        })
        .unwrap()
    }

    /// The stored conversation with this title.
    pub(crate) fn by_title<'a>(
        all: &'a [ConversationDetail],
        title: &str,
    ) -> &'a ConversationDetail {
        all.iter()
            .find(|c| c.summary.title == title)
            .unwrap_or_else(|| panic!("no conversation titled {title:?}"))
    }

    /// (role, content) pairs of a stored conversation.
    pub(crate) fn turns(c: &ConversationDetail) -> Vec<(&'static str, &str)> {
        c.messages
            .iter()
            .map(|m| (m.role.as_str(), m.content.as_str()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::test_util::{db, write};
    use super::*;

    #[test]
    fn kind_names_round_trip() {
        for kind in ImportKind::ALL {
            assert_eq!(kind.as_str().parse::<ImportKind>().unwrap(), kind);
            assert_eq!(
                kind.as_str().to_uppercase().parse::<ImportKind>().unwrap(),
                kind
            );
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<ImportKind>(&json).unwrap(), kind);
            assert!(!kind.label().is_empty());
        }
        let err = "csv".parse::<ImportKind>().unwrap_err().to_string();
        assert!(
            err.contains("'csv'") && err.contains("goe-v3, openwebui, chatgpt"),
            "{err}"
        );
    }

    #[test]
    fn timestamps_in_seconds_milliseconds_and_iso() {
        assert_eq!(ms_from_int(1_735_689_600), 1_735_689_600_000);
        assert_eq!(ms_from_int(1_735_689_600_123), 1_735_689_600_123);
        assert_eq!(ms_from_f64(1_735_689_600.5), Some(1_735_689_600_500));
        assert_eq!(ms_from_f64(f64::NAN), None);
        assert_eq!(ms_from_text(" 1735689600 "), Some(1_735_689_600_000));
        assert_eq!(ms_from_text("1735689600123"), Some(1_735_689_600_123));
        assert_eq!(ms_from_text("1735689600.25"), Some(1_735_689_600_250));
        assert_eq!(
            ms_from_text("2025-01-01T00:00:01Z"),
            Some(1_735_689_601_000)
        );
        assert_eq!(
            ms_from_text("2025-01-01 09:00:00+09:00"),
            Some(1_735_689_600_000)
        );
        assert_eq!(ms_from_text("inf"), None);
        assert_eq!(ms_from_text("yesterday"), None);
        assert_eq!(
            ms_from_json(&serde_json::json!(1_735_689_600)),
            Some(1_735_689_600_000)
        );
        assert_eq!(ms_from_json(&serde_json::json!(null)), None);
    }

    #[test]
    fn titles_fall_back_to_the_first_user_message_in_characters() {
        let message = |role, content: &str| NewMessage {
            role,
            content: content.into(),
            created_at: 0,
            model: None,
            thumbs: None,
        };
        let long = "가".repeat(100);
        let messages = [
            message(Role::System, "sys"),
            message(Role::User, &format!("  {long}\n")),
        ];
        assert_eq!(
            title_or_first_user(None, &messages).chars().count(),
            TITLE_CHARS
        );
        assert_eq!(
            title_or_first_user(Some("  "), &messages),
            "가".repeat(TITLE_CHARS)
        );
        assert_eq!(title_or_first_user(Some("Kept"), &messages), "Kept");
        let short = [message(Role::User, "two\n\nlines")];
        assert_eq!(title_or_first_user(None, &short), "two lines");
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let (dir, db) = db();
        for kind in ImportKind::ALL {
            let err = import_path(&db, kind, &dir.path().join("nope.json")).unwrap_err();
            assert!(matches!(err, Error::Io { .. }), "{kind}: {err}");
        }
    }

    #[test]
    fn wrong_kinds_are_named() {
        let (dir, db) = db();
        let chatgpt = write(
            &dir,
            "conversations.json",
            r#"[{"id": "c1", "title": "t", "mapping": {}, "current_node": null}]"#,
        );
        let err = import_path(&db, ImportKind::OpenWebui, &chatgpt)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("conversation 1 (id c1)") && err.contains("\"chatgpt\""),
            "{err}"
        );

        let sqlite = dir.path().join("goe.db");
        Connection::open(&sqlite)
            .unwrap()
            .execute_batch("CREATE TABLE t (x);")
            .unwrap();
        let err = import_path(&db, ImportKind::Jsonl, &sqlite)
            .unwrap_err()
            .to_string();
        assert!(err.contains("goe-v3"), "{err}");

        let err = import_path(&db, ImportKind::GoeV3, &chatgpt)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not an SQLite database") && err.contains("JSON"),
            "{err}"
        );

        let alpaca = write(
            &dir,
            "alpaca.json",
            r#"[{"instruction": "Say hi", "input": "", "output": "Hi"}]"#,
        );
        let err = import_path(&db, ImportKind::Sharegpt, &alpaca)
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"alpaca\""), "{err}");

        let zip = dir.path().join("export.zip");
        std::fs::write(&zip, b"PK\x03\x04rest").unwrap();
        let err = import_path(&db, ImportKind::Chatgpt, &zip)
            .unwrap_err()
            .to_string();
        assert!(err.contains("zip"), "{err}");

        let empty = write(&dir, "empty.json", " \n");
        let err = import_path(&db, ImportKind::Sharegpt, &empty)
            .unwrap_err()
            .to_string();
        assert!(err.contains("empty"), "{err}");

        db.with_conn(|conn| {
            assert!(
                list_imports(conn)?.is_empty(),
                "failed imports leave no trace"
            );
            assert_eq!(conversations::count(conn)?, 0);
            Ok(())
        })
        .unwrap();
    }

    /// Nothing stored, no import recorded.
    fn assert_empty(db: &Db) {
        db.with_conn(|conn| {
            assert_eq!(conversations::count(conn)?, 0);
            assert!(list_imports(conn)?.is_empty());
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn a_line_longer_than_the_cap_is_named_and_nothing_is_stored() {
        let (dir, db) = db();
        let good = r#"{"user": "q", "assistant": "a"}"#;
        let long = format!(r#"{{"user": "{}", "assistant": "a"}}"#, "x".repeat(200));
        let path = write(
            &dir,
            "long.jsonl",
            &format!(
                "{good}

{long}
{good}
"
            ),
        );
        let err = import_capped(&db, ImportKind::Jsonl, &path, 100).unwrap_err();
        assert!(
            matches!(&err, Error::Import { place, message, .. }
                if place == "line 3" && message.contains("longer than 100 bytes")),
            "{err}"
        );
        assert_empty(&db);
        // A line of exactly the cap is fine; the real cap is in MB.
        let exact = format!(r#"{{"user": "{}", "assistant": "a"}}"#, "y".repeat(70));
        let path = write(
            &dir,
            "exact.jsonl",
            &format!(
                "{exact}
{good}
"
            ),
        );
        let report = import_capped(&db, ImportKind::Jsonl, &path, exact.len() as u64).unwrap();
        assert_eq!(report.stored.conversations, 2);
        assert_eq!(json::RECORD_CAP, 64 << 20);
        let err = import_capped(&db, ImportKind::Jsonl, &path, 16 << 20).err();
        assert!(err.is_none());
    }

    #[test]
    fn a_single_huge_line_fails_at_the_cap_without_reading_on() {
        let (dir, db) = db();
        // One 1 MB line (never closed): the error comes at the cap, naming line 1.
        let path = write(
            &dir,
            "huge.jsonl",
            &format!("\n{{\"user\": \"{}", "z".repeat(1 << 20)),
        );
        let err = import_capped(&db, ImportKind::Jsonl, &path, 4096)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 2: the line is longer than 4 KB"),
            "{err}"
        );
        assert_empty(&db);
    }

    #[test]
    fn an_array_element_larger_than_the_cap_is_named_and_nothing_is_stored() {
        let (dir, db) = db();
        let good = |id: &str| {
            format!(
                r#"{{"id": "{id}", "conversations": [{{"from": "human", "value": "hi"}}, {{"from": "gpt", "value": "hello"}}]}}"#
            )
        };
        let big = format!(
            r#"{{"id": "big", "conversations": [{{"from": "human", "value": "{}"}}]}}"#,
            "가".repeat(100)
        );
        let text = format!(
            "[\n{},\n{},\n{big},\n{}\n]",
            good("a"),
            good("b"),
            good("c")
        );
        let path = write(&dir, "big.json", &text);
        let err = import_capped(&db, ImportKind::Sharegpt, &path, 200).unwrap_err();
        assert!(
            matches!(&err, Error::Import { place, message, .. }
                if place == "conversation 3" && message.contains("larger than 200 bytes")),
            "{err}"
        );
        assert_empty(&db);
        let report = import_capped(&db, ImportKind::Sharegpt, &path, 1024).unwrap();
        assert_eq!(report.stored.conversations, 4);
        // One pretty-printed object larger than the cap.
        let one = write(
            &dir,
            "one.json",
            &format!(
                "{{\n  \"conversations\": [{}]\n}}\n",
                "1, ".repeat(100) + "1"
            ),
        );
        let err = import_capped(&db, ImportKind::Sharegpt, &one, 100)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("conversation 1: the record is larger than 100 bytes"),
            "{err}"
        );
    }

    #[test]
    fn text_across_read_chunks_and_the_file_hash_survive_streaming() {
        let (dir, db) = db();
        // Three-byte characters straddle every 64 KiB chunk boundary.
        let lines: Vec<String> = (0..8)
            .map(|i| {
                format!(
                    r#"{{"id": "k{i}", "user": "{}", "assistant": "네"}}"#,
                    "한".repeat(30_000)
                )
            })
            .collect();
        let text = lines.join("\n");
        let path = write(&dir, "korean.jsonl", &text);
        let report = import_path(&db, ImportKind::Jsonl, &path).unwrap();
        assert_eq!(report.stored.conversations, 8);
        assert_eq!(report.sha256, hex(&Sha256::digest(text.as_bytes())));
        let array = write(&dir, "korean.json", &format!("[{}]", lines.join(",")));
        let parsed = parse(ImportKind::Jsonl, &array).unwrap();
        assert_eq!(parsed.conversations.len(), 8);
        assert!(parsed.conversations[7].messages[0]
            .content
            .chars()
            .all(|c| c == '한'));

        // A bad byte far into the file is placed by its offset.
        let mut bytes = text.into_bytes();
        let at = 200_001;
        bytes[at] = 0xff;
        let bad = dir.path().join("bad.jsonl");
        std::fs::write(&bad, &bytes).unwrap();
        let err = parse(ImportKind::Jsonl, &bad).unwrap_err().to_string();
        let want = std::str::from_utf8(&bytes).unwrap_err().valid_up_to();
        assert!(want > 3 * (1 << 16), "past the third chunk");
        assert!(
            err.contains(&format!(
                "file: not UTF-8 text (invalid bytes at offset {want})"
            )),
            "{err}"
        );
        // A sequence cut off by the end of the file.
        let cut = dir.path().join("cut.jsonl");
        std::fs::write(&cut, b"{\"user\": \"a\", \"assistant\": \"b\"}\n\xed\x95").unwrap();
        let err = parse(ImportKind::Jsonl, &cut).unwrap_err().to_string();
        assert!(err.contains("invalid bytes at offset 32"), "{err}");
    }

    #[test]
    fn imports_are_listed_newest_first_with_their_counts_and_skips() {
        let (dir, db) = db();
        let first = write(
            &dir,
            "a.jsonl",
            "{\"user\": \"hi\", \"assistant\": \"hello\"}\n",
        );
        let second = write(
            &dir,
            "b.jsonl",
            "{\"user\": \"q\", \"assistant\": \"a\", \"satisfaction\": 1}\n{\"user\": \"\", \"assistant\": \"\"}\n",
        );
        let a = import_path(&db, ImportKind::Jsonl, &first).unwrap();
        let b = import_path(&db, ImportKind::Jsonl, &second).unwrap();
        assert_eq!(
            b.stored,
            StoreReport {
                conversations: 1,
                messages: 2,
                ratings: 1,
                already: 0
            }
        );
        assert_eq!(b.skipped.len(), 1, "{:?}", b.skipped);
        assert!(b.path.ends_with("b.jsonl"));
        assert_eq!(b.sha256.len(), 64);
        let listed = db.with_conn(|conn| list_imports(conn)).unwrap();
        assert_eq!(listed, vec![b.clone(), a.clone()]);
        let stored_ids: Vec<Option<String>> = db
            .with_conn(|conn| {
                let mut stmt =
                    conn.prepare("SELECT import_id FROM conversations ORDER BY created_at")?;
                let ids = stmt
                    .query_map([], |r| r.get(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(ids)
            })
            .unwrap();
        assert!(stored_ids.contains(&Some(a.id)) && stored_ids.contains(&Some(b.id)));
    }
}
