//! Alpaca instruction files (`alpaca`).
//!
//! # Rules
//! - The file is a JSON array of records or JSON Lines (see the parent module's layout rules).
//! - A record is `{instruction, input?, output, system?, history?: [[question, answer], …],
//!   id?}`. It becomes one conversation: the system prompt (when non-empty), the history turns
//!   in order, then the user message `instruction + "\n\n" + input` (just the instruction when
//!   the input is empty, just the input when the instruction is), then the `output` as the
//!   assistant's answer.
//! - Empty history questions or answers are left out. A record whose prompt or output is empty
//!   is skipped and listed.
//! - A record without `instruction` and `output`, fields of the wrong type, an `output` that is
//!   a list (ranking/preference sets) or a history item that is not a `[question, answer]` pair
//!   of strings is an error naming the record.
//! - Time: the record's `timestamp`/`created_at` if given, otherwise the file's modification
//!   time. `source_ref`: the record's `id`, else the hash of its messages.

use serde_json::Value;

use super::json::{kind_of, record_id, Input, Record};
use super::{content_ref, title_or_first_user, Collector, ImportKind};
use crate::conversations::{NewConversation, NewMessage, Role};
use crate::error::Result;

/// One record of the file: a conversation (or a skip) handed to `out`.
pub(super) fn record(input: &Input<'_>, record: &Record, out: &mut Collector<'_>) -> Result<()> {
    let place = record.place.as_str();
    let expected = "expected an Alpaca record with \"instruction\" and \"output\"";
    let obj = match record.value.as_object() {
        Some(obj) if obj.contains_key("instruction") && obj.contains_key("output") => obj,
        _ => return Err(input.wrong_shape(place, ImportKind::Alpaca, &record.value, expected)),
    };
    let instruction = input
        .opt_str(place, obj, "instruction")?
        .unwrap_or_default();
    let extra = input.opt_str(place, obj, "input")?.unwrap_or_default();
    let output = match obj.get("output") {
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Null) | None => "",
        Some(Value::Array(_)) => {
            return Err(input.error(
                place,
                "\"output\" is a list (a ranking or preference set?); only one answer per record is supported",
            ));
        }
        Some(other) => {
            return Err(input.error(
                place,
                format!("\"output\" must be a string, found {}", kind_of(other)),
            ))
        }
    };
    let at = input.record_time(place, obj)?.unwrap_or(input.mtime);
    let message = |role, content: &str| NewMessage {
        role,
        content: content.to_owned(),
        created_at: at,
        model: None,
        thumbs: None,
    };

    let mut messages = Vec::new();
    if let Some(system) = input
        .opt_str(place, obj, "system")?
        .filter(|s| !s.trim().is_empty())
    {
        messages.push(message(Role::System, system));
    }
    match obj.get("history") {
        None | Some(Value::Null) => {}
        Some(Value::Array(pairs)) => {
            for (i, pair) in pairs.iter().enumerate() {
                let Some([Value::String(q), Value::String(a)]) = pair.as_array().map(Vec::as_slice)
                else {
                    return Err(input.error(
                        place,
                        format!(
                            "\"history\" item {} must be a [question, answer] pair of strings",
                            i + 1
                        ),
                    ));
                };
                for (role, text) in [(Role::User, q), (Role::Assistant, a)] {
                    if !text.trim().is_empty() {
                        messages.push(message(role, text));
                    }
                }
            }
        }
        Some(other) => {
            return Err(input.error(
                place,
                format!("\"history\" must be an array, found {}", kind_of(other)),
            ))
        }
    }
    let prompt = [instruction, extra]
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");
    if prompt.is_empty() {
        out.skip(place, "the instruction and input are empty");
        return Ok(());
    }
    if output.trim().is_empty() {
        out.skip(place, "the output is empty");
        return Ok(());
    }
    messages.push(message(Role::User, &prompt));
    messages.push(message(Role::Assistant, output));
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
    fn imports_alpaca_with_history_system_and_input() {
        let (dir, db) = db();
        let path = write(
            &dir,
            "alpaca.json",
            r#"[
              {"instruction": "Translate to English", "input": "고맙습니다", "output": "Thank you", "system": "You translate.",
               "history": [["Hi", "Hello! What shall I translate?"]], "timestamp": "2025-01-01T00:00:00Z"},
              {"instruction": "Name a colour", "input": "", "output": "Blue"},
              {"instruction": "Empty answer", "output": ""}
            ]"#,
        );
        let report = import_path(&db, ImportKind::Alpaca, &path).unwrap();
        assert_eq!(report.stored.conversations, 2);
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(report.skipped[0].place, "conversation 3");

        let stored = all(&db);
        let translated = by_title(&stored, "Hi");
        assert_eq!(
            turns(translated),
            [
                ("system", "You translate."),
                ("user", "Hi"),
                ("assistant", "Hello! What shall I translate?"),
                ("user", "Translate to English\n\n고맙습니다"),
                ("assistant", "Thank you")
            ]
        );
        assert_eq!(translated.summary.created_at, 1_735_689_600_000);
        assert_eq!(
            turns(by_title(&stored, "Name a colour")),
            [("user", "Name a colour"), ("assistant", "Blue")]
        );

        let again = import_path(&db, ImportKind::Alpaca, &path).unwrap();
        assert_eq!((again.stored.conversations, again.stored.already), (0, 2));
    }

    #[test]
    fn alpaca_shape_errors_name_the_record() {
        let (dir, db) = db();
        let pairs = write(&dir, "a.jsonl", "{\"instruction\": \"q\", \"output\": \"a\"}\n{\"instruction\": \"q\", \"output\": \"a\", \"history\": [[\"only one\"]]}\n");
        let err = import_path(&db, ImportKind::Alpaca, &pairs)
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2") && err.contains("history"), "{err}");
        let ranked = write(
            &dir,
            "b.json",
            r#"[{"instruction": "q", "output": ["good", "bad"]}]"#,
        );
        let err = import_path(&db, ImportKind::Alpaca, &ranked)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("conversation 1") && err.contains("list"),
            "{err}"
        );
        assert!(all(&db).is_empty());
    }
}
