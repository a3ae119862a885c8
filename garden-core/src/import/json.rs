//! Reading JSON inputs: the file checks shared by every JSON kind, splitting a file into records,
//! and the small field readers the formats share.
//!
//! # Layout
//! - A file whose first non-blank character is `[` is one JSON array; each element is a record,
//!   placed as `conversation N` (1-based), with ` (id X)` when the element has an `id` or
//!   `conversation_id`.
//! - A file whose first non-blank line is a whole `{…}` object is JSON Lines: each non-blank line
//!   is a record, placed as `line N` (1-based, blank lines counted).
//! - Anything else is parsed as one JSON value; a single object is one record.
//!
//! Before that, files that are empty, not UTF-8, SQLite databases, zip or gzip archives are
//! refused with a message saying what they are. A UTF-8 byte-order mark is ignored.

use std::collections::HashSet;
use std::path::Path;
use std::time::UNIX_EPOCH;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{hex, import_error, ms_from_json, Collector, ImportKind};
use crate::conversations::{NewMessage, Role};
use crate::error::{Error, Result};

/// The first bytes of every SQLite database file.
pub(super) const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";

/// A JSON input file read into memory.
pub(super) struct Input<'a> {
    pub(super) path: &'a Path,
    pub(super) text: String,
    /// Hex SHA-256 of the file's bytes.
    pub(super) sha256: String,
    /// The file's modification time (Unix ms): the time of conversations that carry none.
    pub(super) mtime: i64,
}

/// One record of a file and where it is.
pub(super) struct Record {
    pub(super) place: String,
    pub(super) value: Value,
}

impl<'a> Input<'a> {
    pub(super) fn read(path: &'a Path) -> Result<Input<'a>> {
        let bytes = std::fs::read(path).map_err(|e| Error::io("reading", path, e))?;
        let mtime = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or_else(crate::now_ms, |d| {
                i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
            });
        let sha256 = hex(&Sha256::digest(&bytes));
        let fail = |message: String| import_error(path, "file", message);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(fail("the file is empty".into()));
        }
        if bytes.starts_with(SQLITE_MAGIC) {
            return Err(fail(format!(
                "this is an SQLite database, not a JSON file; a {} is imported as \"{}\"",
                ImportKind::GoeV3.label(),
                ImportKind::GoeV3.as_str()
            )));
        }
        if bytes.starts_with(b"PK\x03\x04") {
            return Err(fail(
                "this is a zip archive; unzip it first and import the JSON file inside \
                 (a ChatGPT export holds conversations.json)"
                    .into(),
            ));
        }
        if bytes.starts_with(&[0x1f, 0x8b]) {
            return Err(fail("this is a gzip archive; decompress it first".into()));
        }
        let mut text = String::from_utf8(bytes).map_err(|e| {
            fail(format!(
                "not UTF-8 text (invalid bytes at offset {})",
                e.utf8_error().valid_up_to()
            ))
        })?;
        if text.starts_with('\u{feff}') {
            text.drain(..'\u{feff}'.len_utf8());
        }
        Ok(Input {
            path,
            text,
            sha256,
            mtime,
        })
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

    /// The file's records, by the layout rules in the module docs.
    pub(super) fn records(&self) -> Result<Vec<Record>> {
        let first_line = self
            .text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("");
        if first_line.starts_with('{') && first_line.ends_with('}') {
            return self.lines();
        }
        let value: Value = serde_json::from_str(&self.text).map_err(|e| {
            self.error(
                &format!("line {}, column {}", e.line(), e.column()),
                format!("not valid JSON: {}", bare_message(&e)),
            )
        })?;
        match value {
            Value::Array(items) => Ok(items
                .into_iter()
                .enumerate()
                .map(|(i, value)| Record {
                    place: item_place(i, &value),
                    value,
                })
                .collect()),
            Value::Object(_) => Ok(vec![Record {
                place: item_place(0, &value),
                value,
            }]),
            other => Err(self.error(
                "file",
                format!("expected a JSON array or object, found {}", kind_of(&other)),
            )),
        }
    }

    fn lines(&self) -> Result<Vec<Record>> {
        let mut records = Vec::new();
        for (i, line) in self.text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let place = format!("line {}", i + 1);
            let value: Value = serde_json::from_str(line).map_err(|e| {
                self.error(
                    &place,
                    format!(
                        "not valid JSON (column {}): {}",
                        e.column(),
                        bare_message(&e)
                    ),
                )
            })?;
            records.push(Record { place, value });
        }
        Ok(records)
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
        out: &mut Collector,
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
        let input = Input::read(&path).unwrap();
        let Err(Error::Import { place, message, .. }) = input.records() else {
            panic!("not an import error")
        };
        assert_eq!(place, "line 3, column 8");
        assert!(
            message.starts_with("not valid JSON: expected `:`"),
            "{message}"
        );
    }
}
