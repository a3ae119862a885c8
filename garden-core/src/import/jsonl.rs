//! JSON Lines with `system`, `user`, `assistant` and `satisfaction` fields (`jsonl`).
//!
//! # Rules
//! - One JSON object a line; blank lines are ignored; errors are placed as `line N` (1-based).
//!   (A JSON array of the same objects is accepted too, placed as `conversation N`.)
//! - A line is `{system?, user, assistant, satisfaction?, timestamp?, id?, title?}` and becomes
//!   one conversation: the system prompt (when non-empty), the user message, the assistant's
//!   answer (empty ones are left out). A line may instead carry `messages: [{role, content}]`
//!   (the ShareGPT/OpenAI message rules apply) with the same optional fields.
//! - `satisfaction` is the conversation's explicit satisfaction: a number in 0..1 (`null` means
//!   none). Anything else (out of range, a string) is an error naming the line.
//! - `timestamp` (or `created_at`): Unix seconds, milliseconds or ISO-8601; anything else is an
//!   error naming the line. Without one, the file's modification time is used.
//! - `source_ref`: the line's `id`, else the hash of its messages.

use serde_json::Value;

use super::json::{kind_of, record_id, Input, Record};
use super::{content_ref, title_or_first_user, Collector, ImportKind};
use crate::conversations::{NewConversation, NewMessage, Role};
use crate::error::Result;

/// One record of the file: a conversation (or a skip) handed to `out`.
pub(super) fn record(input: &Input<'_>, record: &Record, out: &mut Collector<'_>) -> Result<()> {
    let place = record.place.as_str();
    let expected = "expected an object with \"user\" and \"assistant\" (or \"messages\")";
    let Some(obj) = record.value.as_object() else {
        return Err(input.wrong_shape(place, ImportKind::Jsonl, &record.value, expected));
    };
    let satisfaction = match obj.get("satisfaction") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_f64() {
            Some(s) if (0.0..=1.0).contains(&s) => Some(s),
            _ => return Err(input.error(place, format!("satisfaction {n} is outside 0..1"))),
        },
        Some(other) => {
            return Err(input.error(
                place,
                format!(
                    "satisfaction must be a number in 0..1, found {}",
                    kind_of(other)
                ),
            ));
        }
    };
    let at = input.record_time(place, obj)?.unwrap_or(input.mtime);
    let messages = match obj.get("messages") {
        Some(Value::Array(list)) => input.message_list(place, list, at, out)?,
        Some(other) => {
            return Err(input.error(
                place,
                format!("\"messages\" must be an array, found {}", kind_of(other)),
            ))
        }
        None if obj.contains_key("user") && obj.contains_key("assistant") => {
            let mut messages = Vec::with_capacity(3);
            for (role, key) in [
                (Role::System, "system"),
                (Role::User, "user"),
                (Role::Assistant, "assistant"),
            ] {
                if let Some(text) = input
                    .opt_str(place, obj, key)?
                    .filter(|s| !s.trim().is_empty())
                {
                    messages.push(NewMessage {
                        role,
                        content: text.to_owned(),
                        created_at: at,
                        model: None,
                        thumbs: None,
                    });
                }
            }
            messages
        }
        None => return Err(input.wrong_shape(place, ImportKind::Jsonl, &record.value, expected)),
    };
    let title = title_or_first_user(input.opt_str(place, obj, "title")?, &messages);
    let source_ref = record_id(obj, &["id"]).unwrap_or_else(|| content_ref(&messages));
    out.add(
        place,
        NewConversation {
            source_ref,
            title,
            created_at: at,
            messages,
            satisfaction,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{all, by_title, db, turns, write};
    use super::super::{import_path, ImportKind};
    use crate::conversations;

    #[test]
    fn imports_seed_jsonl_with_satisfaction_and_times() {
        let (dir, db) = db();
        let path = write(
            &dir,
            "seed.jsonl",
            concat!(
                r#"{"system": "너는 친절한 비서야.", "user": "오늘 날씨 어때?", "assistant": "맑고 따뜻해요.", "satisfaction": 0.9, "timestamp": 1735689600}"#,
                "\n\n",
                r#"{"user": "ms time", "assistant": "ok", "satisfaction": 0, "timestamp": 1735689600123}"#,
                "\r\n",
                r#"{"user": "iso time", "assistant": "ok", "satisfaction": null, "timestamp": "2025-01-01T00:00:00Z"}"#,
                "\n",
                r#"{"messages": [{"role": "user", "content": "via messages"}, {"role": "assistant", "content": "fine"}], "satisfaction": 1}"#,
                "\n",
            ),
        );
        let report = import_path(&db, ImportKind::Jsonl, &path).unwrap();
        assert_eq!(report.stored.conversations, 4);
        assert_eq!(report.stored.ratings, 3);
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);

        let stored = all(&db);
        let korean = by_title(&stored, "오늘 날씨 어때?");
        assert_eq!(
            turns(korean),
            [
                ("system", "너는 친절한 비서야."),
                ("user", "오늘 날씨 어때?"),
                ("assistant", "맑고 따뜻해요.")
            ]
        );
        assert_eq!(korean.explicit_satisfaction, Some(0.9));
        assert_eq!(korean.summary.created_at, 1_735_689_600_000);
        assert!(korean
            .messages
            .iter()
            .all(|m| m.created_at == 1_735_689_600_000));
        assert_eq!(
            by_title(&stored, "ms time").summary.created_at,
            1_735_689_600_123
        );
        assert_eq!(
            by_title(&stored, "ms time").explicit_satisfaction,
            Some(0.0)
        );
        assert_eq!(
            by_title(&stored, "iso time").summary.created_at,
            1_735_689_600_000
        );
        assert_eq!(by_title(&stored, "iso time").summary.satisfaction, None);
        assert_eq!(
            by_title(&stored, "via messages").summary.satisfaction,
            Some(1.0)
        );

        let again = import_path(&db, ImportKind::Jsonl, &path).unwrap();
        assert_eq!((again.stored.conversations, again.stored.already), (0, 4));
    }

    #[test]
    fn a_broken_line_3_imports_nothing() {
        let (dir, db) = db();
        let path = write(
            &dir,
            "broken.jsonl",
            "{\"user\": \"a\", \"assistant\": \"b\"}\n{\"user\": \"c\", \"assistant\": \"d\"}\n{\"user\": \"e\", \"assistant\": }\n{\"user\": \"f\", \"assistant\": \"g\"}\n",
        );
        let err = import_path(&db, ImportKind::Jsonl, &path).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("line 3") && text.contains("not valid JSON"),
            "{text}"
        );
        assert!(matches!(err, crate::Error::Import { ref place, .. } if place == "line 3"));
        db.with_conn(|conn| {
            assert_eq!(conversations::count(conn)?, 0);
            assert!(super::super::list_imports(conn)?.is_empty());
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn an_out_of_range_satisfaction_names_the_line() {
        let (dir, db) = db();
        let path = write(
            &dir,
            "sat.jsonl",
            "{\"user\": \"a\", \"assistant\": \"b\", \"satisfaction\": 0.5}\n{\"user\": \"c\", \"assistant\": \"d\", \"satisfaction\": 1.5}\n",
        );
        let err = import_path(&db, ImportKind::Jsonl, &path)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 2") && err.contains("satisfaction 1.5 is outside 0..1"),
            "{err}"
        );
        let text = write(
            &dir,
            "sat2.jsonl",
            "{\"user\": \"a\", \"assistant\": \"b\", \"satisfaction\": \"high\"}\n",
        );
        let err = import_path(&db, ImportKind::Jsonl, &text)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 1") && err.contains("found a string"),
            "{err}"
        );
        let time = write(
            &dir,
            "time.jsonl",
            "{\"user\": \"a\", \"assistant\": \"b\", \"timestamp\": \"soon\"}\n",
        );
        let err = import_path(&db, ImportKind::Jsonl, &time)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 1") && err.contains("not a time"),
            "{err}"
        );
        assert!(all(&db).is_empty());
    }
}
