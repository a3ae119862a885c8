//! Garden of Eden V3's own SQLite database (`goe-v3`).
//!
//! # Rules
//! - **Read-only.** The database is opened with `SQLITE_OPEN_READ_ONLY` (and `query_only`), so
//!   it is never modified; it may be in WAL mode and even open in the app. Should SQLite be unable
//!   to read a WAL database that way (its folder is read-only, so the `-shm` file cannot be
//!   made), it is read once more as `immutable`, which sees the last checkpoint.
//! - **Tables.** `conversations` and `messages` are required; `feedback`, `learning_data` and
//!   `episodic_memory` are optional, and so is every column but `conversations.id`,
//!   `messages.conversation_id`, `messages.role` and `messages.content`. `episodic_memory` and
//!   `user_preferences` are not conversations and are not imported; when `episodic_memory` has
//!   rows, one skipped entry says how many.
//! - **Messages** are ordered by their timestamp, then by rowid. Roles `user`, `assistant` and
//!   `system` are kept (system prompts too); any other role, a missing or empty content, and
//!   messages whose conversation does not exist (orphans) are skipped, one entry each
//!   (`messages row id=m9`). Text is stored as is.
//! - **Timestamps** are mixed units in this database: a number (or numeric text) below 1e11 is
//!   seconds, anything else milliseconds; ISO-8601 text is read too. A conversation with no
//!   readable `created_at` takes its earliest message's time (else 0); a message with no readable
//!   `timestamp` takes its conversation's `created_at`.
//! - **Thumbs** (per message): `messages.satisfaction` `'positive'` → up, `'negative'` → down,
//!   NULL → none; overridden by the latest `learning_data` row for that `message_id` (latest by
//!   its timestamp, then rowid) whose `feedback` is `'positive'` or `'negative'`.
//! - **Conversation satisfaction**: the mean of the conversation's `feedback.satisfaction` rows
//!   (0 thumbs-down, 0.5 neutral, 1 thumbs-up), when it has any; stored as the conversation's
//!   explicit satisfaction, which then decides its score (see `crate::conversations`). Without
//!   feedback rows the score comes from the thumbs.
//! - **Orphans**: `feedback` rows whose conversation and `learning_data` rows whose message do
//!   not exist are skipped, one entry each, as are rows with an unreadable value (a satisfaction
//!   outside 0..1, a feedback word other than positive/negative). None of this fails the import.
//! - A conversation left with no messages is skipped. `source_ref` is the GoE conversation id;
//!   the title is the GoE title or, when empty, the first user message cut to 60 characters.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OpenFlags};

use super::json::SQLITE_MAGIC;
use super::{
    import_error, ms_from_f64, ms_from_int, ms_from_text, title_or_first_user, Collector, Parsed,
};
use crate::conversations::{NewConversation, NewMessage, Role};
use crate::error::{Error, Result};

/// The app's folder name under the platform's data dir, and its database's file name.
const APP_DIR: &str = "garden-of-eden-v3";
const DB_FILE: &str = "data.db";

/// Where Garden of Eden V3 keeps its database, most likely first: `<data dir>/garden-of-eden-v3/
/// data.db`, the data dir being what the `dirs` crate gives (the app asks it too):
/// `~/Library/Application Support` on macOS, `~/.local/share` on Linux, `%APPDATA%` on Windows; then
/// `~/.garden-of-eden-v3/data.db`, the home-folder location its early notes name.
pub fn default_locations() -> Vec<PathBuf> {
    locations_in(dirs::data_dir().as_deref(), dirs::home_dir().as_deref())
}

/// The first of [`default_locations`] that is a file: what `import --from goe-v3` opens when it is
/// given no path, and what the Import page can propose.
pub fn find_default() -> Option<PathBuf> {
    default_locations().into_iter().find(|p| p.is_file())
}

fn locations_in(data_dir: Option<&Path>, home: Option<&Path>) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = Vec::new();
    let candidates = [
        data_dir.map(|d| d.join(APP_DIR).join(DB_FILE)),
        home.map(|h| h.join(format!(".{APP_DIR}")).join(DB_FILE)),
    ];
    for path in candidates.into_iter().flatten() {
        if !found.contains(&path) {
            found.push(path);
        }
    }
    found
}

pub(super) fn parse(path: &Path) -> Result<Parsed> {
    check_header(path)?;
    let conn = open_read_only(path)
        .map_err(|e| import_error(path, "database", format!("cannot be opened read-only: {e}")))?;
    read(&conn, path).map_err(|e| match e {
        Error::Db(e) => import_error(path, "database", e.to_string()),
        other => other,
    })
}

/// Refuses files that are not SQLite databases before SQLite sees them.
fn check_header(path: &Path) -> Result<()> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let mut head = [0u8; 16];
    let mut filled = 0;
    while filled < head.len() {
        match file
            .read(&mut head[filled..])
            .map_err(|e| Error::io("reading", path, e))?
        {
            0 => break,
            n => filled += n,
        }
    }
    if head[..filled] == *SQLITE_MAGIC {
        return Ok(());
    }
    let first = head[..filled].iter().find(|b| !b.is_ascii_whitespace());
    let hint = match first {
        None => "the file is empty".to_owned(),
        Some(b'[' | b'{') => "it looks like JSON: choose the format it was exported in \
                              (openwebui, chatgpt, sharegpt, alpaca or jsonl)"
            .to_owned(),
        Some(_) => "Garden of Eden V3 keeps its history in an SQLite file".to_owned(),
    };
    Err(import_error(
        path,
        "file",
        format!("not an SQLite database; {hint}"),
    ))
}

fn open_read_only(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let probe = |conn: Connection| -> rusqlite::Result<Connection> {
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.execute_batch("PRAGMA query_only = ON;")?;
        conn.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })?;
        Ok(conn)
    };
    match Connection::open_with_flags(path, flags).and_then(probe) {
        Ok(conn) => Ok(conn),
        Err(first) => {
            let uri = format!("file:{}?immutable=1", uri_path(path));
            Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
                .and_then(probe)
                .map_err(|_| first)
        }
    }
}

/// The absolute path, percent-encoded for an SQLite `file:` URI.
fn uri_path(path: &Path) -> String {
    use std::fmt::Write;
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let text = absolute.to_string_lossy().replace('\\', "/");
    let mut out = String::with_capacity(text.len());
    if !text.starts_with('/') {
        out.push('/');
    }
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The database's tables (lower-case name → name).
fn tables(conn: &Connection) -> rusqlite::Result<HashMap<String, String>> {
    let mut stmt = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(names
        .into_iter()
        .map(|n| (n.to_ascii_lowercase(), n))
        .collect())
}

/// A table as present in the database, with its columns (lower case).
struct Table {
    name: String,
    columns: HashSet<String>,
}

impl Table {
    fn open(
        conn: &Connection,
        tables: &HashMap<String, String>,
        name: &str,
    ) -> rusqlite::Result<Option<Table>> {
        let Some(name) = tables.get(name) else {
            return Ok(None);
        };
        let mut stmt = conn.prepare(&format!("PRAGMA table_info({})", quote(name)))?;
        let columns = stmt
            .query_map([], |r| r.get::<_, String>(1))?
            .map(|c| c.map(|c| c.to_ascii_lowercase()))
            .collect::<rusqlite::Result<HashSet<_>>>()?;
        Ok(Some(Table {
            name: name.clone(),
            columns,
        }))
    }

    fn has(&self, column: &str) -> bool {
        self.columns.contains(column)
    }

    /// `SELECT rowid, <columns or NULL where missing> FROM <table> ORDER BY rowid`.
    fn select(&self, columns: &[&str]) -> String {
        let list: Vec<String> = columns
            .iter()
            .map(|c| {
                if self.has(c) {
                    quote(c)
                } else {
                    "NULL".to_owned()
                }
            })
            .collect();
        format!(
            "SELECT rowid, {} FROM {} ORDER BY rowid",
            list.join(", "),
            quote(&self.name)
        )
    }

    /// Runs [`Table::select`], handing each row's rowid and values to `f`.
    fn rows(
        &self,
        conn: &Connection,
        columns: &[&str],
        mut f: impl FnMut(i64, Vec<Sql>),
    ) -> rusqlite::Result<()> {
        let mut stmt = conn.prepare(&self.select(columns))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let rowid: i64 = row.get(0)?;
            let values = (1..=columns.len())
                .map(|i| row.get::<_, Sql>(i))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            f(rowid, values);
        }
        Ok(())
    }
}

fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

/// A value as text: text as is, numbers written out, UTF-8 blobs; `None` for NULL.
fn text(v: &Sql) -> Option<String> {
    match v {
        Sql::Null => None,
        Sql::Integer(i) => Some(i.to_string()),
        Sql::Real(f) => Some(f.to_string()),
        Sql::Text(s) => Some(s.clone()),
        Sql::Blob(b) => String::from_utf8(b.clone()).ok(),
    }
}

/// A timestamp in seconds or milliseconds (number or text) or ISO-8601 text, as Unix ms.
fn ms(v: &Sql) -> Option<i64> {
    match v {
        Sql::Integer(i) => Some(ms_from_int(*i)),
        Sql::Real(f) => ms_from_f64(*f),
        Sql::Text(s) => ms_from_text(s),
        Sql::Null | Sql::Blob(_) => None,
    }
}

fn number(v: &Sql) -> Option<f64> {
    match v {
        Sql::Integer(i) => Some(*i as f64),
        Sql::Real(f) => Some(*f),
        Sql::Text(s) => s.trim().parse().ok(),
        Sql::Null | Sql::Blob(_) => None,
    }
}

/// `positive` → 1, `negative` → -1 (any case); `Err` with the word for anything else.
fn thumbs_word(word: &str) -> std::result::Result<i8, String> {
    match word.trim().to_ascii_lowercase().as_str() {
        "positive" => Ok(1),
        "negative" => Ok(-1),
        _ => Err(word.to_owned()),
    }
}

/// `messages row id=m9`, or `messages row rowid=9` when the row has no id.
fn row_place(table: &str, id: Option<&str>, rowid: i64) -> String {
    match id {
        Some(id) => format!("{table} row id={id}"),
        None => format!("{table} row rowid={rowid}"),
    }
}

struct Conversation {
    id: String,
    place: String,
    title: Option<String>,
    created_at: Option<i64>,
}

struct Message {
    rowid: i64,
    id: Option<String>,
    role: Role,
    content: String,
    at: Option<i64>,
    model: Option<String>,
    thumbs: Option<i8>,
}

fn read(conn: &Connection, path: &Path) -> Result<Parsed> {
    let tables = tables(conn)?;
    let missing = |what: &str| {
        import_error(
            path,
            "database",
            format!("not a Garden of Eden V3 database: {what}"),
        )
    };
    let Some(conversations_table) = Table::open(conn, &tables, "conversations")? else {
        return Err(missing("it has no conversations table"));
    };
    let Some(messages_table) = Table::open(conn, &tables, "messages")? else {
        return Err(missing("it has no messages table"));
    };
    if !conversations_table.has("id") {
        return Err(missing("its conversations table has no id column"));
    }
    for column in ["conversation_id", "role", "content"] {
        if !messages_table.has(column) {
            return Err(missing(&format!(
                "its messages table has no {column} column"
            )));
        }
    }
    let mut out = Collector::default();

    // Conversations, in rowid order.
    let mut conversations: Vec<Conversation> = Vec::new();
    let mut known: HashSet<String> = HashSet::new();
    conversations_table.rows(conn, &["id", "title", "created_at"], |rowid, v| {
        let id = text(&v[0]);
        let place = row_place("conversations", id.as_deref(), rowid);
        let Some(id) = id else {
            out.skip(place, "it has no id");
            return;
        };
        if !known.insert(id.clone()) {
            out.skip(place, "another conversation has the same id");
            return;
        }
        conversations.push(Conversation {
            id,
            place,
            title: text(&v[1]),
            created_at: ms(&v[2]),
        });
    })?;

    // Messages, grouped by conversation; every message id seen, for learning_data.
    let mut messages: HashMap<String, Vec<Message>> = HashMap::new();
    let mut message_ids: HashSet<String> = HashSet::new();
    messages_table.rows(conn, &["id", "conversation_id", "role", "content", "timestamp", "satisfaction", "model"], |rowid, v| {
        let id = text(&v[0]);
        let place = row_place("messages", id.as_deref(), rowid);
        if let Some(id) = &id {
            message_ids.insert(id.clone());
        }
        let Some(conversation) = text(&v[1]) else {
            out.skip(place, "it has no conversation_id");
            return;
        };
        if !known.contains(&conversation) {
            out.skip(place, format!("its conversation {conversation} does not exist"));
            return;
        }
        let role = match text(&v[2]).as_deref().map(str::trim).map(str::to_ascii_lowercase).as_deref() {
            Some("user") => Role::User,
            Some("assistant") => Role::Assistant,
            Some("system") => Role::System,
            other => {
                out.skip(place, format!("role {:?} is not user, assistant or system", other.unwrap_or("NULL")));
                return;
            }
        };
        let content = match text(&v[3]) {
            Some(content) if !content.trim().is_empty() => content,
            _ => {
                out.skip(place, "the message is empty");
                return;
            }
        };
        let thumbs = match text(&v[5]).filter(|s| !s.trim().is_empty()).map(|s| thumbs_word(&s)) {
            None => None,
            Some(Ok(thumbs)) => Some(thumbs),
            Some(Err(word)) => {
                out.skip(place, format!("satisfaction '{word}' is neither positive nor negative; kept without a rating"));
                None
            }
        };
        let model = text(&v[6]).filter(|m| !m.trim().is_empty());
        messages.entry(conversation).or_default().push(Message { rowid, id, role, content, at: ms(&v[4]), model, thumbs });
    })?;

    // learning_data: the latest valid row per message overrides its thumbs.
    if let Some(learning) = Table::open(conn, &tables, "learning_data")? {
        let mut latest: HashMap<String, (Option<i64>, i64, i8)> = HashMap::new();
        learning.rows(
            conn,
            &["id", "message_id", "feedback", "timestamp"],
            |rowid, v| {
                let place = row_place("learning_data", text(&v[0]).as_deref(), rowid);
                let Some(message) = text(&v[1]) else {
                    out.skip(place, "it has no message_id");
                    return;
                };
                if !message_ids.contains(&message) {
                    out.skip(place, format!("its message {message} does not exist"));
                    return;
                }
                let thumbs = match text(&v[2]).map(|w| thumbs_word(&w)) {
                    Some(Ok(thumbs)) => thumbs,
                    Some(Err(word)) => {
                        out.skip(
                            place,
                            format!("feedback '{word}' is neither positive nor negative"),
                        );
                        return;
                    }
                    None => {
                        out.skip(place, "it has no feedback");
                        return;
                    }
                };
                let key = (ms(&v[3]), rowid);
                match latest.get(&message) {
                    Some(&(at, row, _)) if (at, row) > key => {}
                    _ => {
                        latest.insert(message, (key.0, key.1, thumbs));
                    }
                }
            },
        )?;
        for message in messages.values_mut().flatten() {
            if let Some((_, _, thumbs)) = message.id.as_ref().and_then(|id| latest.get(id)) {
                message.thumbs = Some(*thumbs);
            }
        }
    }

    // feedback: the mean satisfaction per conversation.
    let mut feedback_sums: HashMap<String, (f64, u32)> = HashMap::new();
    if let Some(feedback) = Table::open(conn, &tables, "feedback")? {
        feedback.rows(
            conn,
            &["id", "conversation_id", "satisfaction"],
            |rowid, v| {
                let place = row_place("feedback", text(&v[0]).as_deref(), rowid);
                let Some(conversation) = text(&v[1]) else {
                    out.skip(place, "it has no conversation_id");
                    return;
                };
                if !known.contains(&conversation) {
                    out.skip(
                        place,
                        format!("its conversation {conversation} does not exist"),
                    );
                    return;
                }
                match number(&v[2]) {
                    Some(s) if (0.0..=1.0).contains(&s) => {
                        let sum = feedback_sums.entry(conversation).or_insert((0.0, 0));
                        sum.0 += s;
                        sum.1 += 1;
                    }
                    _ => {
                        let shown = text(&v[2]).unwrap_or_else(|| "NULL".into());
                        out.skip(
                            place,
                            format!("satisfaction {shown} is not a number in 0..1"),
                        );
                    }
                }
            },
        )?;
    }

    if let Some(episodic) = tables.get("episodic_memory") {
        let count: i64 = conn.query_row(
            &format!("SELECT COUNT(*) FROM {}", quote(episodic)),
            [],
            |r| r.get(0),
        )?;
        if count > 0 {
            out.skip(
                "episodic_memory",
                format!("{count} rows not imported: episodic memories are the app's notes, not conversations"),
            );
        }
    }

    for conversation in conversations {
        let mut list = messages.remove(&conversation.id).unwrap_or_default();
        let created_at = conversation
            .created_at
            .or_else(|| list.iter().filter_map(|m| m.at).min())
            .unwrap_or(0);
        list.sort_by_key(|m| (m.at.unwrap_or(created_at), m.rowid));
        let messages: Vec<NewMessage> = list
            .into_iter()
            .map(|m| NewMessage {
                role: m.role,
                content: m.content,
                created_at: m.at.unwrap_or(created_at),
                model: m.model,
                thumbs: m.thumbs,
            })
            .collect();
        let title = title_or_first_user(conversation.title.as_deref(), &messages);
        let satisfaction = feedback_sums
            .get(&conversation.id)
            .map(|&(sum, n)| sum / f64::from(n));
        out.add(
            &conversation.place,
            NewConversation {
                source_ref: conversation.id,
                title,
                created_at,
                messages,
                satisfaction,
            },
        )?;
    }
    Ok(out.finish())
}

#[cfg(test)]
mod tests {
    use rusqlite::{params, Connection};
    use std::path::Path;

    use super::super::test_util::{all, by_title, db, turns};
    use super::super::{import_path, parse, ImportKind};
    use crate::conversations::Role;

    /// Garden of Eden V3's schema (DESIGN.md), as the app creates it.
    const SCHEMA: &str = "
        CREATE TABLE conversations (
            id TEXT PRIMARY KEY, title TEXT NOT NULL,
            mode TEXT NOT NULL CHECK(mode IN ('user-led', 'ai-led')),
            created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, message_count INTEGER DEFAULT 0);
        CREATE TABLE messages (
            id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL,
            role TEXT NOT NULL CHECK(role IN ('user', 'assistant', 'system')),
            content TEXT NOT NULL, timestamp INTEGER NOT NULL, tokens INTEGER, response_time INTEGER,
            context_level INTEGER CHECK(context_level IN (1, 2, 3)),
            satisfaction TEXT CHECK(satisfaction IN ('positive', 'negative', NULL)),
            FOREIGN KEY (conversation_id) REFERENCES conversations(id) ON DELETE CASCADE);
        CREATE TABLE feedback (
            id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, satisfaction REAL,
            timestamp INTEGER NOT NULL, persona_snapshot TEXT,
            FOREIGN KEY (conversation_id) REFERENCES conversations(id) ON DELETE CASCADE);
        CREATE TABLE learning_data (
            id INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL,
            feedback TEXT NOT NULL CHECK(feedback IN ('positive', 'negative')),
            persona_snapshot TEXT NOT NULL, timestamp INTEGER NOT NULL,
            FOREIGN KEY (message_id) REFERENCES messages(id) ON DELETE CASCADE);
        CREATE TABLE episodic_memory (
            id TEXT PRIMARY KEY, user_message TEXT NOT NULL, ai_response TEXT NOT NULL,
            satisfaction REAL DEFAULT 0.5, created_at INTEGER NOT NULL);
        CREATE TABLE user_preferences (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL);";

    const T: i64 = 1_735_689_600; // 2025-01-01T00:00:00Z in seconds

    /// A GoE database with awkward rows, left open in WAL mode (as the running app leaves it).
    fn goe_fixture(path: &std::path::Path) -> Connection {
        let conn = Connection::open(path).unwrap();
        conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
            .unwrap();
        // Orphan rows exist in real databases written without foreign-key enforcement.
        conn.execute_batch("PRAGMA foreign_keys = OFF;").unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        let conversation = |id: &str, title: &str, created: &dyn rusqlite::ToSql| {
            conn.execute(
                "INSERT INTO conversations (id, title, mode, created_at, updated_at) VALUES (?1, ?2, 'user-led', ?3, ?3)",
                params![id, title, created],
            )
            .unwrap();
        };
        conversation("c1", "김치 이야기", &T); // seconds
        conversation("c2", "", &(T * 1000 + 5_000)); // milliseconds, no title
        conversation("c3", "Empty", &T);
        conversation("c4", "Odd times", &"2025-01-01T00:00:00Z");

        let message = |id: &str,
                       conv: &str,
                       role: &str,
                       content: &str,
                       ts: &dyn rusqlite::ToSql,
                       sat: Option<&str>| {
            conn.execute(
                "INSERT INTO messages (id, conversation_id, role, content, timestamp, tokens, satisfaction)
                 VALUES (?1, ?2, ?3, ?4, ?5, 12, ?6)",
                params![id, conv, role, content, ts, sat],
            )
            .unwrap();
        };
        // c1: inserted out of order; mixed units; a system prompt; thumbs and an override.
        message(
            "m3",
            "c1",
            "assistant",
            "김치찌개는 30분이면 충분해요.",
            &((T + 20) * 1000),
            Some("negative"),
        );
        message("m1", "c1", "system", "당신은 요리 도우미입니다.", &T, None);
        message(
            "m2",
            "c1",
            "user",
            "김치찌개 얼마나 끓여요?",
            &(T + 10),
            None,
        );
        message(
            "m4",
            "c1",
            "user",
            "고마워요",
            &"2025-01-01T00:00:30Z",
            None,
        );
        message(
            "m5",
            "c1",
            "assistant",
            "천만에요!",
            &(T + 40),
            Some("positive"),
        );
        // c2: no title; the user message is long and Korean.
        let long = "긴 질문 ".repeat(20);
        message("m6", "c2", "user", &long, &(T + 5), None);
        message("m7", "c2", "assistant", "Short answer", &(T + 6), None);
        // c4: an unreadable timestamp falls back to the conversation's created_at.
        message("m8", "c4", "user", "When?", &"yesterday", None);
        message("m10", "c4", "assistant", "Now.", &(T + 1), None);
        // Orphan message, unknown role, empty content (CHECKs off, as older app versions had none).
        message("m9", "gone", "user", "orphan", &T, None);
        conn.execute_batch("PRAGMA ignore_check_constraints = ON;")
            .unwrap();
        message("m11", "c4", "tool", "{}", &(T + 2), None);
        message("m12", "c4", "assistant", "   ", &(T + 3), None);
        conn.execute_batch("PRAGMA ignore_check_constraints = OFF;")
            .unwrap();

        let feedback = |id: &str, conv: &str, sat: Option<f64>| {
            conn.execute(
                "INSERT INTO feedback (id, conversation_id, satisfaction, timestamp, persona_snapshot) VALUES (?1, ?2, ?3, ?4, '{}')",
                params![id, conv, sat, T],
            )
            .unwrap();
        };
        feedback("f1", "c1", Some(1.0));
        feedback("f2", "c1", Some(0.5));
        feedback("f3", "gone", Some(0.0)); // orphan
        feedback("f4", "c2", None); // NULL satisfaction

        let learning = |message: &str, fb: &str, ts: i64| {
            conn.execute(
                "INSERT INTO learning_data (message_id, feedback, persona_snapshot, timestamp) VALUES (?1, ?2, '{}', ?3)",
                params![message, fb, ts],
            )
            .unwrap();
        };
        learning("m3", "negative", T + 100); // older…
        learning("m3", "positive", (T + 200) * 1000); // …latest (ms) wins: m3 becomes thumbs up
        learning("m404", "negative", T); // orphan

        conn.execute(
            "INSERT INTO episodic_memory (id, user_message, ai_response, created_at) VALUES ('e1', 'q', 'a', ?1), ('e2', 'q', 'a', ?1)",
            [T],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO user_preferences VALUES ('theme', 'dark', ?1)",
            [T],
        )
        .unwrap();
        conn
    }

    fn sha256_of(path: &std::path::Path) -> String {
        super::super::file_sha256(path).unwrap()
    }

    #[test]
    fn imports_a_goe_v3_database_with_awkward_rows() {
        let (dir, db) = db();
        let goe = dir.path().join("eden.db");
        let writer = goe_fixture(&goe);
        // The app is still running: its last writes are in the WAL, not checkpointed.
        writer
            .execute_batch("PRAGMA wal_autocheckpoint = 0;")
            .unwrap();
        writer
            .execute("INSERT INTO messages (id, conversation_id, role, content, timestamp) VALUES ('m13', 'c2', 'user', 'Late one', ?1)", [T + 7])
            .unwrap();
        let before = sha256_of(&goe);

        let report = import_path(&db, ImportKind::GoeV3, &goe).unwrap();
        assert_eq!(
            sha256_of(&goe),
            before,
            "the GoE database is never modified"
        );
        assert_eq!(report.kind, "goe-v3");
        assert_eq!(report.sha256, before);
        assert_eq!(report.stored.conversations, 3);
        assert_eq!(report.stored.messages, 5 + 3 + 2);
        // m3 and m5 thumbs, c1 satisfaction.
        assert_eq!(report.stored.ratings, 3);

        let reasons: Vec<(&str, &str)> = report
            .skipped
            .iter()
            .map(|s| (s.place.as_str(), s.reason.as_str()))
            .collect();
        let expect = [
            ("messages row id=m9", "its conversation gone does not exist"),
            (
                "messages row id=m11",
                "role \"tool\" is not user, assistant or system",
            ),
            ("messages row id=m12", "the message is empty"),
            ("learning_data row id=3", "its message m404 does not exist"),
            ("feedback row id=f3", "its conversation gone does not exist"),
            (
                "feedback row id=f4",
                "satisfaction NULL is not a number in 0..1",
            ),
            (
                "episodic_memory",
                "2 rows not imported: episodic memories are the app's notes, not conversations",
            ),
            ("conversations row id=c3", "it has no messages"),
        ];
        assert_eq!(reasons, expect);

        let stored = all(&db);
        let c1 = by_title(&stored, "김치 이야기");
        assert_eq!(c1.summary.source, "goe-v3");
        assert_eq!(
            turns(c1),
            [
                ("system", "당신은 요리 도우미입니다."),
                ("user", "김치찌개 얼마나 끓여요?"),
                ("assistant", "김치찌개는 30분이면 충분해요."),
                ("user", "고마워요"),
                ("assistant", "천만에요!")
            ]
        );
        let ms = T * 1000;
        let times: Vec<i64> = c1.messages.iter().map(|m| m.created_at).collect();
        assert_eq!(
            times,
            [ms, ms + 10_000, ms + 20_000, ms + 30_000, ms + 40_000]
        );
        let thumbs: Vec<Option<i8>> = c1.messages.iter().map(|m| m.thumbs).collect();
        assert_eq!(
            thumbs,
            [None, None, Some(1), None, Some(1)],
            "learning_data overrides m3's negative"
        );
        assert_eq!(
            c1.explicit_satisfaction,
            Some(0.75),
            "mean of feedback 1.0 and 0.5"
        );
        assert_eq!(c1.summary.satisfaction, Some(0.75));
        assert_eq!(c1.summary.created_at, ms);

        let long_title = "긴 질문 "
            .repeat(20)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(60)
            .collect::<String>();
        let c2 = by_title(&stored, &long_title);
        assert_eq!(c2.summary.title.chars().count(), 60);
        assert_eq!(c2.summary.created_at, ms + 5_000);
        assert_eq!(
            c2.messages
                .iter()
                .map(|m| m.content.as_str())
                .collect::<Vec<_>>()[1..],
            ["Short answer", "Late one"]
        );
        assert_eq!(
            c2.explicit_satisfaction, None,
            "its only feedback row was NULL"
        );

        let c4 = by_title(&stored, "Odd times");
        assert_eq!(c4.summary.created_at, ms, "ISO created_at");
        assert_eq!(
            c4.messages[0].created_at, ms,
            "unreadable timestamp → the conversation's"
        );
        assert_eq!(c4.messages[0].role, Role::User);
        assert_eq!(c4.messages[1].created_at, ms + 1_000);

        let again = import_path(&db, ImportKind::GoeV3, &goe).unwrap();
        assert_eq!(again.stored.conversations, 0);
        assert_eq!(again.stored.already, 3);

        // Closed by the app (the WAL checkpointed away, the file still in WAL mode): still readable.
        drop(writer);
        let parsed = parse(ImportKind::GoeV3, &goe).unwrap();
        assert_eq!(parsed.conversations.len(), 3);
        assert_eq!(
            parsed
                .conversations
                .iter()
                .map(|c| c.messages.len())
                .sum::<usize>(),
            10
        );
    }

    #[test]
    fn a_goe_database_without_optional_tables_or_columns_still_imports() {
        let dir = tempfile::tempdir().unwrap();
        let goe = dir.path().join("old.db");
        let conn = Connection::open(&goe).unwrap();
        conn.execute_batch(
            "CREATE TABLE conversations (id TEXT PRIMARY KEY);
             CREATE TABLE messages (conversation_id TEXT, role TEXT, content TEXT);
             INSERT INTO conversations VALUES ('a');
             INSERT INTO messages VALUES ('a', 'user', 'hello'), ('a', 'assistant', 'hi'), ('b', 'user', 'orphan');",
        )
        .unwrap();
        drop(conn);
        let parsed = parse(ImportKind::GoeV3, &goe).unwrap();
        assert_eq!(parsed.conversations.len(), 1);
        let c = &parsed.conversations[0];
        assert_eq!(
            (c.title.as_str(), c.created_at, c.satisfaction),
            ("hello", 0, None)
        );
        assert_eq!(c.messages.len(), 2);
        assert_eq!(parsed.skipped.len(), 1);
        assert_eq!(parsed.skipped[0].place, "messages row rowid=3");

        let bare = dir.path().join("other.db");
        Connection::open(&bare)
            .unwrap()
            .execute_batch("CREATE TABLE notes (x);")
            .unwrap();
        let err = parse(ImportKind::GoeV3, &bare).unwrap_err().to_string();
        assert!(
            err.contains("not a Garden of Eden V3 database") && err.contains("conversations"),
            "{err}"
        );
    }

    #[test]
    fn the_database_is_looked_for_where_the_app_keeps_it() {
        let mac = super::locations_in(
            Some(Path::new("/Users/me/Library/Application Support")),
            Some(Path::new("/Users/me")),
        );
        assert_eq!(
            mac,
            [
                Path::new("/Users/me/Library/Application Support/garden-of-eden-v3/data.db"),
                Path::new("/Users/me/.garden-of-eden-v3/data.db"),
            ]
        );
        let linux = super::locations_in(Some(Path::new("/home/me/.local/share")), None);
        assert_eq!(linux, [Path::new("/home/me/.local/share/garden-of-eden-v3/data.db")]);
        assert!(super::locations_in(None, None).is_empty());
        // Whatever this machine has, the default is one of the locations and is a file.
        if let Some(found) = super::find_default() {
            assert!(super::default_locations().contains(&found) && found.is_file());
        }
    }
}
