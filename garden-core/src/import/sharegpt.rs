//! ShareGPT files (`sharegpt`), and OpenAI-style messages in the same kind.
//!
//! # Rules
//! - The file is a JSON array of records or JSON Lines with one record a line (see the layout
//!   rules in the parent module); a single object is one record.
//! - A record is `{conversations: [{from, value}], system?, id?, title?}`, or OpenAI-style
//!   `{messages: [{role, content}], …}`; either message form is accepted in either list.
//!   Roles: `human`/`user`, `gpt`/`assistant`/`model`, `system` (any case). The record's `system`
//!   becomes a first system message.
//! - OpenAI content given as a list of parts keeps its text parts, joined with newlines.
//! - Messages with any other role (`function_call`, `observation`, `tool`, …) and empty messages
//!   are skipped and listed. A record without the list, a message that is not an object, or a
//!   role or text of the wrong type is an error naming `conversation N, message M` (or
//!   `line N, message M`).
//! - Time: the record's `timestamp`/`created_at` if given (seconds, ms or ISO-8601; anything
//!   else is an error), otherwise the file's modification time. Every message gets that time.
//! - `source_ref`: the record's `id`, else the hash of its messages.

use serde_json::Value;

use super::json::{kind_of, record_id, Input, Record};
use super::{content_ref, title_or_first_user, Collector, ImportKind};
use crate::conversations::{NewConversation, NewMessage, Role};
use crate::error::Result;

/// One record of the file: a conversation (or a skip) handed to `out`.
pub(super) fn record(input: &Input<'_>, record: &Record, out: &mut Collector<'_>) -> Result<()> {
    let place = record.place.as_str();
    let expected = "expected a ShareGPT record with \"conversations\" (or OpenAI \"messages\")";
    let Some(obj) = record.value.as_object() else {
        return Err(input.wrong_shape(place, ImportKind::Sharegpt, &record.value, expected));
    };
    let list = match obj.get("conversations").or_else(|| obj.get("messages")) {
        Some(Value::Array(list)) => list,
        Some(other) => {
            return Err(input.error(
                place,
                format!(
                    "the message list must be an array, found {}",
                    kind_of(other)
                ),
            ));
        }
        None => {
            return Err(input.wrong_shape(place, ImportKind::Sharegpt, &record.value, expected))
        }
    };
    let at = input.record_time(place, obj)?.unwrap_or(input.mtime);
    let mut messages = Vec::with_capacity(list.len() + 1);
    if let Some(system) = input
        .opt_str(place, obj, "system")?
        .filter(|s| !s.trim().is_empty())
    {
        messages.push(NewMessage {
            role: Role::System,
            content: system.to_owned(),
            created_at: at,
            model: None,
            thumbs: None,
        });
    }
    messages.extend(input.message_list(place, list, at, out)?);
    let title = title_or_first_user(input.opt_str(place, obj, "title")?, &messages);
    let source_ref = record_id(obj, &["id"]).unwrap_or_else(|| content_ref(&messages));
    out.add(
        place,
        NewConversation {
            source_ref,
            title,
            created_at: at,
            messages,
            satisfaction: None,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{all, by_title, db, turns, write};
    use super::super::{import_path, ImportKind};

    #[test]
    fn imports_sharegpt_and_openai_messages_and_reordering_adds_nothing() {
        let (dir, db) = db();
        let records = [
            r#"{"conversations": [{"from": "human", "value": "안녕하세요?"}, {"from": "gpt", "value": "안녕하세요! 무엇을 도와드릴까요?"}], "system": "Be kind."}"#,
            r#"{"id": "oa-1", "messages": [{"role": "user", "content": [{"type": "text", "text": "Describe"}, {"type": "image_url", "image_url": {"url": "x"}}]}, {"role": "assistant", "content": "A cat."}, {"role": "tool", "content": "{}"}]}"#,
            r#"{"conversations": [{"from": "human", "value": "Call it"}, {"from": "function_call", "value": "{}"}, {"from": "observation", "value": "ok"}, {"from": "gpt", "value": ""}, {"from": "gpt", "value": "Done."}]}"#,
        ];
        let path = write(&dir, "data.json", &format!("[{}]", records.join(",")));
        let report = import_path(&db, ImportKind::Sharegpt, &path).unwrap();
        assert_eq!(report.stored.conversations, 3);
        assert_eq!(report.stored.messages, 3 + 2 + 2);
        let places: Vec<&str> = report.skipped.iter().map(|s| s.place.as_str()).collect();
        assert_eq!(
            places,
            [
                "conversation 2 (id oa-1), message 3",
                "conversation 3, message 2",
                "conversation 3, message 3",
                "conversation 3, message 4"
            ]
        );

        let stored = all(&db);
        let korean = by_title(&stored, "안녕하세요?");
        assert_eq!(
            turns(korean),
            [
                ("system", "Be kind."),
                ("user", "안녕하세요?"),
                ("assistant", "안녕하세요! 무엇을 도와드릴까요?")
            ]
        );
        assert_eq!(korean.summary.source, "sharegpt");
        assert_eq!(
            turns(by_title(&stored, "Describe")),
            [("user", "Describe"), ("assistant", "A cat.")]
        );

        // The same records as JSON Lines, reordered: nothing new.
        let reordered = write(
            &dir,
            "data.jsonl",
            &format!("{}\n\n{}\n{}\n", records[2], records[0], records[1]),
        );
        let again = import_path(&db, ImportKind::Sharegpt, &reordered).unwrap();
        assert_eq!((again.stored.conversations, again.stored.already), (0, 3));
    }

    #[test]
    fn a_bad_message_names_its_place_and_imports_nothing() {
        let (dir, db) = db();
        let path = write(
            &dir,
            "bad.json",
            r#"[{"conversations": [{"from": "human", "value": "ok"}]}, {"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": 5}]}]"#,
        );
        let err = import_path(&db, ImportKind::Sharegpt, &path)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("conversation 2, message 2") && err.contains("found a number"),
            "{err}"
        );
        assert!(all(&db).is_empty());
    }
}
