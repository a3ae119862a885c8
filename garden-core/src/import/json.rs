//! Reading JSON inputs: the file checks shared by every JSON kind, streaming a file record by
//! record, and the small field readers the formats share.
//!
//! # Layout
//! - A file whose first non-blank character is `[` is one JSON array; each element is a record,
//!   placed as `conversation N` (1-based), with ` (id X)` when the element has an `id` or
//!   `conversation_id`.
//! - A file whose first non-blank line is a whole `{…}` object is JSON Lines: each non-blank line
//!   is a record, placed as `line N` (1-based, blank lines counted).
//! - Anything else is parsed as one JSON value; a single object is one record.
//!
//! Before that, files that are empty, SQLite databases, zip or gzip archives are refused with a
//! message saying what they are; bytes that are not UTF-8 are refused where they are met. A UTF-8
//! byte-order mark is ignored.
//!
//! # Streaming
//! The file is never held whole: it is read in 64 KiB chunks (hashed with SHA-256 and checked for
//! UTF-8 as they come), and each record is parsed and handed on before the next is read, so memory
//! follows the largest record, not the file. One record may take at most [`RECORD_CAP`] bytes (a
//! line of JSON Lines, an element of an array with what separates it from the one before, or a
//! file's single value); a longer one is an [`Error::Import`] naming it (`line 3`,
//! `conversation 5`) and the cap, found as soon as the cap is passed.

use std::cell::Cell;
use std::collections::HashSet;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::Path;
use std::time::UNIX_EPOCH;

use serde::de::{self, Deserialize, Deserializer as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{hex, import_error, ms_from_json, Collector, ImportKind};
use crate::conversations::{NewMessage, Role};
use crate::error::{Error, Result};

/// The first bytes of every SQLite database file.
pub(super) const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";

/// The most bytes one record may take: a JSON Lines line, an array element, a file's single value.
pub(crate) const RECORD_CAP: u64 = 64 << 20;

/// Bytes read from the file at a time.
const CHUNK: usize = 64 << 10;

/// A JSON input file, read record by record with [`Input::each_record`].
pub(super) struct Input<'a> {
    pub(super) path: &'a Path,
    /// The file's modification time (Unix ms): the time of conversations that carry none.
    pub(super) mtime: i64,
}

/// One record of a file and where it is.
pub(super) struct Record {
    pub(super) place: String,
    pub(super) value: Value,
}

impl<'a> Input<'a> {
    pub(super) fn new(path: &'a Path) -> Input<'a> {
        let mtime = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or_else(crate::now_ms, |d| {
                i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
            });
        Input { path, mtime }
    }

    /// Reads the file's records, by the layout rules in the module docs, handing each to `each`
    /// before reading the next; stops at the first error (`each`'s own, or the file's). Returns
    /// the hex SHA-256 of the file's bytes. No record may take more than `cap` bytes.
    pub(super) fn each_record(
        &self,
        cap: u64,
        each: &mut dyn FnMut(Record) -> Result<()>,
    ) -> Result<String> {
        let path = self.path;
        let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
        let mut src = Source::open(file).map_err(|e| self.read_error(e))?;
        let fail = |message: String| import_error(path, "file", message);
        let head = src.head();
        if head.starts_with(SQLITE_MAGIC) {
            return Err(fail(format!(
                "this is an SQLite database, not a JSON file; a {} is imported as \"{}\"",
                ImportKind::GoeV3.label(),
                ImportKind::GoeV3.as_str()
            )));
        }
        if head.starts_with(b"PK\x03\x04") {
            return Err(fail(
                "this is a zip archive; unzip it first and import the JSON file inside \
                 (a ChatGPT export holds conversations.json)"
                    .into(),
            ));
        }
        if head.starts_with(&[0x1f, 0x8b]) {
            return Err(fail("this is a gzip archive; decompress it first".into()));
        }
        src.check_head().map_err(|e| self.read_error(e))?;
        if src.head().starts_with(b"\xef\xbb\xbf") {
            src.consume(3);
        }
        // Blank lines and spaces before the first record: counted, so places stay the file's.
        let (mut skipped_lines, mut skipped_columns) = (0usize, 0usize);
        let first = loop {
            let buf = src.fill_buf().map_err(|e| self.read_error(e))?;
            let Some(&b) = buf.first() else {
                return Err(fail("the file is empty".into()));
            };
            if !b.is_ascii_whitespace() {
                break b;
            }
            if b == b'\n' {
                skipped_lines += 1;
                skipped_columns = 0;
            } else {
                skipped_columns += 1;
            }
            src.consume(1);
        };
        let mut prefix = Vec::new();
        if first == b'{' {
            let place = format!("line {}", skipped_lines + 1);
            match read_line(&mut src, &mut prefix, cap).map_err(|e| self.read_error(e))? {
                Line::TooLong => return Err(self.line_too_long(&place, cap)),
                Line::Eof | Line::Read => {}
            }
            let text = std::str::from_utf8(&prefix).unwrap_or_default().trim_end();
            if text.ends_with('}') {
                self.lines(&mut src, skipped_lines, prefix, cap, each)?;
                return Ok(src.finish());
            }
            // One JSON value over several lines: the line goes back in front of the rest.
            prefix.push(b'\n');
        }

        let meter = Meter::default();
        meter.arm(0, cap);
        let reader = Metered {
            inner: io::Cursor::new(prefix).chain(&mut src),
            meter: &meter,
        };
        let mut de = serde_json::Deserializer::from_reader(reader);
        let mut failure = None;
        let top = Top {
            each,
            failure: &mut failure,
            meter: &meter,
            cap,
        };
        let place_of = |e: &serde_json::Error| {
            let (line, column) = (e.line() + skipped_lines, e.column());
            let column = if e.line() == 1 {
                column + skipped_columns
            } else {
                column
            };
            format!("line {line}, column {column}")
        };
        let found = de.deserialize_any(top).and_then(|found| {
            de.end()?;
            Ok(found)
        });
        let found = match found {
            Ok(found) => found,
            Err(e) => {
                if let Some(failure) = failure {
                    return Err(failure);
                }
                if meter.over.get() {
                    let place = format!("conversation {}", meter.index.get() + 1);
                    return Err(self.error(
                        &place,
                        format!(
                            "the record is larger than {}, the most one record may take",
                            size_text(cap)
                        ),
                    ));
                }
                if e.is_io() {
                    return Err(self.read_error(e.into()));
                }
                return Err(self.error(
                    &place_of(&e),
                    format!("not valid JSON: {}", bare_message(&e)),
                ));
            }
        };
        drop(de);
        if let Some(kind) = found {
            return Err(fail(format!(
                "expected a JSON array or object, found {kind}"
            )));
        }
        io::copy(&mut src, &mut io::sink()).map_err(|e| self.read_error(e))?;
        Ok(src.finish())
    }

    /// JSON Lines: `first` is line `skipped + 1`, the rest follow in `src`.
    fn lines(
        &self,
        src: &mut Source,
        skipped: usize,
        first: Vec<u8>,
        cap: u64,
        each: &mut dyn FnMut(Record) -> Result<()>,
    ) -> Result<()> {
        let mut number = skipped + 1;
        let mut line = first;
        loop {
            let place = format!("line {number}");
            let text = std::str::from_utf8(&line)
                .map_err(|_| self.error(&place, "the line is not UTF-8 text"))?
                .trim();
            if !text.is_empty() {
                let value: Value = serde_json::from_str(text).map_err(|e| {
                    self.error(
                        &place,
                        format!(
                            "not valid JSON (column {}): {}",
                            e.column(),
                            bare_message(&e)
                        ),
                    )
                })?;
                each(Record { place, value })?;
            }
            line.clear();
            number += 1;
            match read_line(src, &mut line, cap).map_err(|e| self.read_error(e))? {
                Line::Eof => return Ok(()),
                Line::TooLong => return Err(self.line_too_long(&format!("line {number}"), cap)),
                Line::Read => {}
            }
        }
    }

    fn line_too_long(&self, place: &str, cap: u64) -> Error {
        self.error(
            place,
            format!(
                "the line is longer than {}, the most one record may take",
                size_text(cap)
            ),
        )
    }

    /// A failure reading the file: bytes that are not UTF-8 are the file's fault, anything
    /// else is an [`Error::Io`].
    fn read_error(&self, e: io::Error) -> Error {
        match e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<NotUtf8>())
        {
            Some(NotUtf8(offset)) => self.error(
                "file",
                format!("not UTF-8 text (invalid bytes at offset {offset})"),
            ),
            None => Error::io("reading", self.path, e),
        }
    }

    /// An [`Error::Import`] at a place in this file.
    pub(super) fn error(&self, place: &str, message: impl Into<String>) -> Error {
        import_error(self.path, place, message)
    }

    /// A record that is not what `expected` needs; says which kind it looks like instead.
    pub(super) fn wrong_shape(
        &self,
        place: &str,
        expected: ImportKind,
        value: &Value,
        message: &str,
    ) -> Error {
        let hint = match guess_kind(value) {
            Some(kind) if kind != expected => {
                format!(
                    "; this looks like a {}: import it as \"{}\"",
                    kind.label(),
                    kind.as_str()
                )
            }
            _ => String::new(),
        };
        self.error(place, format!("{message}{hint}"))
    }

    /// A record's optional time field (`timestamp`, `created_at` or `create_time`): seconds,
    /// milliseconds or ISO-8601. Present but not a time is an error.
    pub(super) fn record_time(&self, place: &str, obj: &Map<String, Value>) -> Result<Option<i64>> {
        for key in ["timestamp", "created_at", "create_time"] {
            match obj.get(key) {
                None | Some(Value::Null) => {}
                Some(v) => {
                    return ms_from_json(v).map(Some).ok_or_else(|| {
                        self.error(
                            place,
                            format!("\"{key}\" {v} is not a time: use Unix seconds, milliseconds or ISO-8601"),
                        )
                    });
                }
            }
        }
        Ok(None)
    }

    /// An optional string field; present with another type is an error.
    pub(super) fn opt_str<'v>(
        &self,
        place: &str,
        obj: &'v Map<String, Value>,
        key: &str,
    ) -> Result<Option<&'v str>> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.error(
                place,
                format!("\"{key}\" must be a string, found {}", kind_of(other)),
            )),
        }
    }

    /// A message list in ShareGPT (`{from, value}`) or OpenAI (`{role, content}`) form. Unknown
    /// roles and empty messages are skipped (noted in `out`); a message that is not an object
    /// with a role and text is an error.
    pub(super) fn message_list(
        &self,
        place: &str,
        list: &[Value],
        at: i64,
        out: &mut Collector<'_>,
    ) -> Result<Vec<NewMessage>> {
        let mut messages = Vec::with_capacity(list.len());
        for (i, item) in list.iter().enumerate() {
            let place = format!("{place}, message {}", i + 1);
            let Some(m) = item.as_object() else {
                return Err(self.error(
                    &place,
                    format!("expected an object with \"from\" and \"value\" (or \"role\" and \"content\"), found {}", kind_of(item)),
                ));
            };
            let role = match m.get("from").or_else(|| m.get("role")) {
                Some(Value::String(s)) => s,
                Some(other) => {
                    return Err(self.error(
                        &place,
                        format!("the role must be a string, found {}", kind_of(other)),
                    ))
                }
                None => return Err(self.error(&place, "it has no \"from\" (or \"role\")")),
            };
            let content = match m.get("value").or_else(|| m.get("content")) {
                Some(v) => parts_text(v).ok_or_else(|| {
                    self.error(
                        &place,
                        format!("the text must be a string, found {}", kind_of(v)),
                    )
                })?,
                None => return Err(self.error(&place, "it has no \"value\" (or \"content\")")),
            };
            let Some(role) = Role::parse(role) else {
                out.skip(
                    place,
                    format!("role \"{role}\" is not user, assistant or system"),
                );
                continue;
            };
            if content.trim().is_empty() {
                out.skip(place, "the message is empty");
                continue;
            }
            messages.push(NewMessage {
                role,
                content,
                created_at: at,
                model: None,
                thumbs: None,
            });
        }
        Ok(messages)
    }
}

/// The nodes from the root down to `leaf` in a message tree keyed by id, each node naming its
/// parent under `parent_key`; the walk stops at a parent that is not in the tree. `Err` (a reason
/// to skip the conversation) when the chain loops.
pub(super) fn branch<'m>(
    nodes: &'m Map<String, Value>,
    leaf: &str,
    parent_key: &str,
) -> std::result::Result<Vec<(&'m str, &'m Value)>, String> {
    let mut chain = Vec::new();
    let mut seen = HashSet::new();
    let mut current = Some(leaf);
    while let Some((id, node)) = current.and_then(|id| nodes.get_key_value(id)) {
        if !seen.insert(id.as_str()) {
            return Err(format!("its message tree loops at {id}"));
        }
        chain.push((id.as_str(), node));
        current = node.get(parent_key).and_then(Value::as_str);
    }
    chain.reverse();
    Ok(chain)
}

/// The leaf (a node no other node names as parent) with the latest time, for trees that do not
/// say which branch is current. Ties go to the greatest id.
pub(super) fn latest_leaf<'m>(
    nodes: &'m Map<String, Value>,
    parent_key: &str,
    time_of: impl Fn(&Value) -> Option<i64>,
) -> Option<&'m str> {
    let parents: HashSet<&str> = nodes
        .values()
        .filter_map(|n| n.get(parent_key)?.as_str())
        .collect();
    nodes
        .iter()
        .filter(|(id, _)| !parents.contains(id.as_str()))
        .max_by_key(|(id, node)| (time_of(node), id.as_str()))
        .map(|(id, _)| id.as_str())
}

/// `conversation N` (1-based), with the record's id when it has one.
fn item_place(index: usize, value: &Value) -> String {
    match value
        .as_object()
        .and_then(|o| record_id(o, &["id", "conversation_id"]))
    {
        Some(id) => format!("conversation {} (id {id})", index + 1),
        None => format!("conversation {}", index + 1),
    }
}

/// The first of `keys` holding a non-empty string or a number, as text.
pub(super) fn record_id(obj: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|key| match obj.get(*key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// Text from a string, `null` (empty), or a list of parts: strings and `{"type": "text",
/// "text": …}` objects, joined with newlines (other parts, such as images, are left out).
/// `None` for anything else.
pub(super) fn parts_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => Some(String::new()),
        Value::Array(parts) => {
            let texts: Vec<&str> = parts
                .iter()
                .filter_map(|p| match p {
                    Value::String(s) => Some(s.as_str()),
                    Value::Object(o) if o.get("type").is_none_or(|t| t == "text") => {
                        o.get("text")?.as_str()
                    }
                    _ => None,
                })
                .collect();
            Some(texts.join("\n"))
        }
        _ => None,
    }
}

/// Which kind a JSON record looks like, if any.
pub(super) fn guess_kind(value: &Value) -> Option<ImportKind> {
    let obj = value.as_object()?;
    let has = |key: &str| obj.contains_key(key);
    if has("mapping") {
        Some(ImportKind::Chatgpt)
    } else if obj.get("chat").is_some_and(Value::is_object)
        || obj
            .get("history")
            .is_some_and(|h| h.get("currentId").is_some())
    {
        Some(ImportKind::OpenWebui)
    } else if has("conversations") || obj.get("messages").is_some_and(Value::is_array) {
        Some(ImportKind::Sharegpt)
    } else if has("instruction") && has("output") {
        Some(ImportKind::Alpaca)
    } else if has("user") && has("assistant") {
        Some(ImportKind::Jsonl)
    } else {
        None
    }
}

/// "a string", "an array", … for messages.
pub(super) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// serde_json's message without its " at line L column C" tail (the place says where).
fn bare_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// The file as read: 64 KiB at a time, every byte hashed and checked for UTF-8 as it comes in.
struct Source {
    file: File,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    /// Bytes read from the file so far.
    read: u64,
    hasher: Sha256,
    /// The start of a UTF-8 sequence cut by the end of the last chunk, and where it began.
    pending: ([u8; 4], usize, u64),
    /// Whether the bytes first read (before the checks that name other kinds) were checked.
    head_checked: bool,
}

/// Bytes that are not UTF-8, at this offset in the file (carried in an [`io::Error`]).
#[derive(Debug)]
struct NotUtf8(u64);

impl fmt::Display for NotUtf8 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid UTF-8 at offset {}", self.0)
    }
}

impl std::error::Error for NotUtf8 {}

impl Source {
    /// Opens the file and reads its first bytes (at least 16 unless the file is shorter),
    /// unchecked, so [`Source::head`] can say what kind of file it is.
    fn open(file: File) -> io::Result<Source> {
        let mut src = Source {
            file,
            buf: vec![0; CHUNK].into_boxed_slice(),
            start: 0,
            end: 0,
            read: 0,
            hasher: Sha256::new(),
            pending: ([0; 4], 0, 0),
            head_checked: false,
        };
        while src.end < SQLITE_MAGIC.len() {
            let n = src.read_raw(src.end)?;
            if n == 0 {
                break;
            }
            src.end += n;
        }
        Ok(src)
    }

    /// The bytes read and not consumed yet.
    fn head(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Checks the first bytes for UTF-8 (after the checks for other kinds of file).
    fn check_head(&mut self) -> io::Result<()> {
        self.head_checked = true;
        self.check_utf8(0, self.end)
    }

    /// Reads from the file into `buf[at..]`, hashing what comes.
    fn read_raw(&mut self, at: usize) -> io::Result<usize> {
        let n = loop {
            match self.file.read(&mut self.buf[at..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        self.hasher.update(&self.buf[at..at + n]);
        self.read += n as u64;
        Ok(n)
    }

    /// Checks `buf[from..to]`, the newest bytes read, for UTF-8, carrying a sequence cut by the
    /// end of the chunk over to the next one.
    fn check_utf8(&mut self, from: usize, to: usize) -> io::Result<()> {
        let chunk_at = self.read - (to - from) as u64;
        let chunk = &self.buf[from..to];
        let mut i = 0;
        let (mut seq, mut len, seq_at) = self.pending;
        if len > 0 {
            while len > 0 && i < chunk.len() {
                seq[len] = chunk[i];
                len += 1;
                i += 1;
                match std::str::from_utf8(&seq[..len]) {
                    Ok(_) => len = 0,
                    Err(e) if e.error_len().is_some() => {
                        return Err(io::Error::new(io::ErrorKind::InvalidData, NotUtf8(seq_at)))
                    }
                    Err(_) => {}
                }
            }
            self.pending = (seq, len, seq_at);
            if len > 0 {
                return Ok(());
            }
        }
        let rest = &chunk[i..];
        if let Err(e) = std::str::from_utf8(rest) {
            let at = chunk_at + (i + e.valid_up_to()) as u64;
            if e.error_len().is_some() {
                return Err(io::Error::new(io::ErrorKind::InvalidData, NotUtf8(at)));
            }
            let tail = &rest[e.valid_up_to()..];
            let mut seq = [0; 4];
            seq[..tail.len()].copy_from_slice(tail);
            self.pending = (seq, tail.len(), at);
        }
        Ok(())
    }

    /// The hex SHA-256 of every byte read.
    fn finish(self) -> String {
        hex(&self.hasher.finalize())
    }
}

impl BufRead for Source {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            let n = self.read_raw(0)?;
            if n == 0 && self.pending.1 > 0 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    NotUtf8(self.pending.2),
                ));
            }
            self.end = n;
            self.head_checked = true;
            self.check_utf8(0, n)?;
        } else if !self.head_checked {
            self.check_head()?;
        }
        Ok(&self.buf[self.start..self.end])
    }

    fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
    }
}

impl Read for Source {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

/// What [`read_line`] found.
enum Line {
    Read,
    Eof,
    /// The line goes past the cap (what was read of it is in the buffer, the rest is not).
    TooLong,
}

/// Appends one line, without its `\n`, to `line`; at most `cap` bytes of it.
fn read_line(src: &mut Source, line: &mut Vec<u8>, cap: u64) -> io::Result<Line> {
    let mut any = false;
    loop {
        let buf = src.fill_buf()?;
        if buf.is_empty() {
            return Ok(if any { Line::Read } else { Line::Eof });
        }
        any = true;
        let (take, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i, true),
            None => (buf.len(), false),
        };
        if (line.len() + take) as u64 > cap {
            return Ok(Line::TooLong);
        }
        line.extend_from_slice(&buf[..take]);
        src.consume(if done { take + 1 } else { take });
        if done {
            return Ok(Line::Read);
        }
    }
}

/// Where the array reader stands: shared by the reader serde owns and the loop over records.
#[derive(Default)]
struct Meter {
    /// Bytes handed to the parser.
    pos: Cell<u64>,
    /// No byte may be handed past this: the current record's start plus the cap.
    limit: Cell<u64>,
    /// The current record (0-based).
    index: Cell<usize>,
    /// Set when a record passed the cap.
    over: Cell<bool>,
}

impl Meter {
    /// A new record (0-based `index`) starts here.
    fn arm(&self, index: usize, cap: u64) {
        self.index.set(index);
        self.limit.set(self.pos.get().saturating_add(cap));
    }
}

/// A reader that refuses to hand out bytes past the meter's limit.
struct Metered<'m, R> {
    inner: R,
    meter: &'m Meter,
}

impl<R: Read> Read for Metered<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let pos = self.meter.pos.get();
        let room = self.meter.limit.get().saturating_sub(pos);
        if room == 0 {
            self.meter.over.set(true);
            return Err(io::Error::other("the record is larger than the cap"));
        }
        let wanted = out.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut out[..wanted])?;
        self.meter.pos.set(pos + n as u64);
        Ok(n)
    }
}

/// The visitor of a file's top-level JSON value: an array's elements are records, handed on one
/// at a time; an object is the one record; anything else is named (`Some("a string")`).
struct Top<'x> {
    each: &'x mut dyn FnMut(Record) -> Result<()>,
    /// `each`'s error, which stopped the parse.
    failure: &'x mut Option<Error>,
    meter: &'x Meter,
    cap: u64,
}

impl Top<'_> {
    fn hand<E: de::Error>(&mut self, record: Record) -> std::result::Result<(), E> {
        (self.each)(record).map_err(|e| {
            *self.failure = Some(e);
            E::custom("stopped by the record's error")
        })
    }
}

impl<'de> Visitor<'de> for Top<'_> {
    type Value = Option<&'static str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array or object")
    }

    fn visit_seq<A: SeqAccess<'de>>(
        mut self,
        mut seq: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut index = 0;
        loop {
            self.meter.arm(index, self.cap);
            let Some(value) = seq.next_element::<Value>()? else {
                // What follows the array is not part of a record.
                self.meter.limit.set(u64::MAX);
                return Ok(None);
            };
            let place = item_place(index, &value);
            self.hand(Record { place, value })?;
            index += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(
        mut self,
        map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let value = Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        self.meter.limit.set(u64::MAX);
        let place = item_place(0, &value);
        self.hand(Record { place, value })?;
        Ok(None)
    }

    fn visit_bool<E>(self, _: bool) -> std::result::Result<Self::Value, E> {
        Ok(Some("a boolean"))
    }

    fn visit_i64<E>(self, _: i64) -> std::result::Result<Self::Value, E> {
        Ok(Some("a number"))
    }

    fn visit_u64<E>(self, _: u64) -> std::result::Result<Self::Value, E> {
        Ok(Some("a number"))
    }

    fn visit_f64<E>(self, _: f64) -> std::result::Result<Self::Value, E> {
        Ok(Some("a number"))
    }

    fn visit_str<E>(self, _: &str) -> std::result::Result<Self::Value, E> {
        Ok(Some("a string"))
    }

    fn visit_unit<E>(self) -> std::result::Result<Self::Value, E> {
        Ok(Some("null"))
    }
}

/// `64 MB`, `100 bytes`: a cap as people read it.
fn size_text(bytes: u64) -> String {
    const MB: u64 = 1 << 20;
    const KB: u64 = 1 << 10;
    if bytes >= MB && bytes.is_multiple_of(MB) {
        format!("{} MB", bytes / MB)
    } else if bytes >= KB && bytes.is_multiple_of(KB) {
        format!("{} KB", bytes / KB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_text_keeps_text_parts_only() {
        let v = serde_json::json!(["a", {"type": "text", "text": "b"}, {"type": "image_url", "image_url": {}}, 5]);
        assert_eq!(parts_text(&v).as_deref(), Some("a\nb"));
        assert_eq!(parts_text(&serde_json::json!(null)).as_deref(), Some(""));
        assert_eq!(parts_text(&serde_json::json!(5)), None);
    }

    #[test]
    fn bad_json_is_placed_by_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        std::fs::write(&path, "[\n  {\"a\": 1},\n  {\"b\" 2}\n]").unwrap();
        let input = Input::new(&path);
        let Err(Error::Import { place, message, .. }) =
            input.each_record(RECORD_CAP, &mut |_| Ok(()))
        else {
            panic!("not an import error")
        };
        assert_eq!(place, "line 3, column 8");
        assert!(
            message.starts_with("not valid JSON: expected `:`"),
            "{message}"
        );
    }
}
