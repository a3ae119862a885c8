//! Open WebUI chat exports (`openwebui`).
//!
//! # Rules
//! - The file is the JSON array Open WebUI exports (“Export All Chats”, or one chat's JSON), each
//!   element `{id, title, chat: {history: {messages: {<id>: message}, currentId}, messages?},
//!   created_at (seconds), updated_at}`. A bare chat object (with `history`) is accepted too.
//! - Only the branch on screen is imported: from `history.currentId`, follow `parentId` up to the
//!   root and reverse. Regenerated answers and edited questions on other branches are left out.
//!   Without a usable `currentId` the leaf with the latest `timestamp` is taken; a `parentId`
//!   chain that loops skips the chat (listed). Without a history, `chat.messages` is used in
//!   order.
//! - Roles `user`, `assistant`, `system` are kept; other roles and empty messages are skipped and
//!   listed. A message that is not an object or has no string `role` is an error.
//! - Thumbs: `annotation.rating` (or a `rating` on the message) 1 → up, -1 → down.
//! - Times: a message's `timestamp` (seconds or ms); the chat's `created_at` (else
//!   `chat.timestamp`, else its first message's time, else the file's modification time) for
//!   the conversation and for messages without one. The assistant's `model` is kept.
//! - `source_ref`: the chat's `id`, else the hash of its messages. Title: the chat's `title`.

use serde_json::{Map, Value};

use super::json::{branch, kind_of, latest_leaf, parts_text, record_id, Input, Record};
use super::{
    content_ref, ms_from_json, thumbs_from_number, title_or_first_user, Collector, ImportKind,
};
use crate::conversations::{NewConversation, NewMessage, Role};
use crate::error::Result;

/// One record of the file: a conversation (or a skip) handed to `out`.
pub(super) fn record(input: &Input<'_>, record: &Record, out: &mut Collector<'_>) -> Result<()> {
    let place = record.place.as_str();
    let expected = "expected an Open WebUI chat (an object with \"chat\": {\"history\": …})";
    let Some(obj) = record.value.as_object() else {
        return Err(input.wrong_shape(place, ImportKind::OpenWebui, &record.value, expected));
    };
    let chat = match obj.get("chat") {
        Some(Value::Object(chat)) => chat,
        Some(other) => {
            return Err(input.error(
                place,
                format!("\"chat\" must be an object, found {}", kind_of(other)),
            ))
        }
        None if obj.get("history").is_some_and(Value::is_object) => obj,
        None => {
            return Err(input.wrong_shape(place, ImportKind::OpenWebui, &record.value, expected))
        }
    };
    let raw = match on_screen(input, place, chat)? {
        Ok(raw) => raw,
        Err(reason) => {
            out.skip(place, reason);
            return Ok(());
        }
    };

    let mut timed = Vec::with_capacity(raw.len());
    for (i, item) in raw.iter().enumerate() {
        let place = format!("{place}, message {}", i + 1);
        let Some(m) = item.as_object() else {
            return Err(input.error(
                &place,
                format!("expected a message object, found {}", kind_of(item)),
            ));
        };
        let role = match m.get("role") {
            Some(Value::String(role)) => role,
            Some(other) => {
                return Err(input.error(
                    &place,
                    format!("\"role\" must be a string, found {}", kind_of(other)),
                ))
            }
            None => return Err(input.error(&place, "the message has no \"role\"")),
        };
        let content = match m.get("content") {
            Some(v) => parts_text(v).ok_or_else(|| {
                input.error(
                    &place,
                    format!("\"content\" must be text, found {}", kind_of(v)),
                )
            })?,
            None => String::new(),
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
        let model = match role {
            Role::Assistant => m.get("model").and_then(Value::as_str).map(str::to_owned),
            _ => None,
        };
        let at = m.get("timestamp").and_then(ms_from_json);
        timed.push((
            at,
            NewMessage {
                role,
                content,
                created_at: 0,
                model,
                thumbs: rating(m),
            },
        ));
    }

    let created_at = obj
        .get("created_at")
        .and_then(ms_from_json)
        .or_else(|| chat.get("timestamp").and_then(ms_from_json))
        .or_else(|| timed.iter().find_map(|(at, _)| *at))
        .unwrap_or(input.mtime);
    let messages: Vec<NewMessage> = timed
        .into_iter()
        .map(|(at, message)| NewMessage {
            created_at: at.unwrap_or(created_at),
            ..message
        })
        .collect();
    let title = obj
        .get("title")
        .or_else(|| chat.get("title"))
        .and_then(Value::as_str);
    let title = title_or_first_user(title, &messages);
    let source_ref = record_id(obj, &["id"])
        .or_else(|| record_id(chat, &["id"]))
        .unwrap_or_else(|| content_ref(&messages));
    out.add(
        place,
        NewConversation {
            source_ref,
            title,
            created_at,
            messages,
            satisfaction: None,
        },
    )
}

/// The chat's messages on screen: the current branch of its history, else `chat.messages`.
/// The inner `Err` is a reason to skip the chat.
fn on_screen<'c>(
    input: &Input<'_>,
    place: &str,
    chat: &'c Map<String, Value>,
) -> Result<std::result::Result<Vec<&'c Value>, String>> {
    let nodes = match chat.get("history") {
        None | Some(Value::Null) => None,
        Some(Value::Object(history)) => match history.get("messages") {
            None | Some(Value::Null) => None,
            Some(Value::Object(nodes)) if nodes.is_empty() => None,
            Some(Value::Object(nodes)) => Some((history, nodes)),
            Some(other) => {
                return Err(input.error(
                    place,
                    format!(
                        "\"history.messages\" must be an object keyed by message id, found {}",
                        kind_of(other)
                    ),
                ));
            }
        },
        Some(other) => {
            return Err(input.error(
                place,
                format!("\"history\" must be an object, found {}", kind_of(other)),
            ))
        }
    };
    if let Some((history, nodes)) = nodes {
        let current = history
            .get("currentId")
            .and_then(Value::as_str)
            .filter(|id| nodes.contains_key(*id))
            .or_else(|| {
                latest_leaf(nodes, "parentId", |n| {
                    n.get("timestamp").and_then(ms_from_json)
                })
            });
        let Some(current) = current else {
            return Ok(Err("its history has no current message".into()));
        };
        return Ok(branch(nodes, current, "parentId")
            .map(|chain| chain.into_iter().map(|(_, node)| node).collect()));
    }
    match chat.get("messages") {
        None | Some(Value::Null) => Ok(Ok(Vec::new())),
        Some(Value::Array(list)) => Ok(Ok(list.iter().collect())),
        Some(other) => Err(input.error(
            place,
            format!("\"messages\" must be an array, found {}", kind_of(other)),
        )),
    }
}

/// `annotation.rating`, else `rating`: positive → thumbs up, negative → down.
fn rating(m: &Map<String, Value>) -> Option<i8> {
    let value = m
        .get("annotation")
        .and_then(|a| a.get("rating"))
        .filter(|v| !v.is_null())
        .or_else(|| m.get("rating"))?;
    thumbs_from_number(value.as_f64()?)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{all, by_title, db, turns, write};
    use super::super::{import_path, ImportKind};

    #[test]
    fn follows_the_current_branch_of_an_open_webui_history() {
        let (dir, db) = db();
        // u1 → a1-old (thumbs down, regenerated away) | a1 (thumbs up) → u2 → a2 (current)
        let export = r#"[{
          "id": "chat-1", "title": "Branching chat", "created_at": 1735689600, "updated_at": 1735689700,
          "chat": {
            "title": "Branching chat",
            "history": {
              "currentId": "a2",
              "messages": {
                "u1": {"id": "u1", "parentId": null, "childrenIds": ["a1-old", "a1"], "role": "user", "content": "서울 날씨?", "timestamp": 1735689601},
                "a1-old": {"id": "a1-old", "parentId": "u1", "childrenIds": [], "role": "assistant", "content": "Old answer", "timestamp": 1735689602, "model": "llama3", "annotation": {"rating": -1}},
                "a1": {"id": "a1", "parentId": "u1", "childrenIds": ["u2"], "role": "assistant", "content": "맑아요.", "timestamp": 1735689603, "model": "llama3", "annotation": {"rating": 1}},
                "u2": {"id": "u2", "parentId": "a1", "childrenIds": ["a2"], "role": "user", "content": "Thanks", "timestamp": 1735689604},
                "a2": {"id": "a2", "parentId": "u2", "childrenIds": [], "role": "assistant", "content": "Any time.", "timestamp": 1735689605123, "rating": -1}
              }
            },
            "messages": [{"id": "u1", "role": "user", "content": "ignored when there is a history"}]
          }
        }, {
          "id": "chat-2", "title": "", "created_at": 1735689000,
          "chat": {"messages": [{"role": "user", "content": "Legacy list"}, {"role": "assistant", "content": "Still works", "timestamp": 1735689001}]}
        }]"#;
        let path = write(&dir, "openwebui.json", export);
        let report = import_path(&db, ImportKind::OpenWebui, &path).unwrap();
        assert_eq!(report.stored.conversations, 2);
        assert_eq!(report.stored.messages, 4 + 2);
        assert_eq!(report.stored.ratings, 2);

        let stored = all(&db);
        let chat = by_title(&stored, "Branching chat");
        assert_eq!(chat.summary.source, "openwebui");
        assert_eq!(
            turns(chat),
            [
                ("user", "서울 날씨?"),
                ("assistant", "맑아요."),
                ("user", "Thanks"),
                ("assistant", "Any time.")
            ]
        );
        let thumbs: Vec<Option<i8>> = chat.messages.iter().map(|m| m.thumbs).collect();
        assert_eq!(thumbs, [None, Some(1), None, Some(-1)]);
        let times: Vec<i64> = chat.messages.iter().map(|m| m.created_at).collect();
        assert_eq!(
            times,
            [
                1_735_689_601_000,
                1_735_689_603_000,
                1_735_689_604_000,
                1_735_689_605_123
            ]
        );
        assert_eq!(chat.messages[1].model.as_deref(), Some("llama3"));
        assert_eq!(chat.summary.created_at, 1_735_689_600_000);

        let legacy = by_title(&stored, "Legacy list");
        assert_eq!(
            turns(legacy),
            [("user", "Legacy list"), ("assistant", "Still works")]
        );
        assert_eq!(
            legacy.messages[0].created_at, 1_735_689_000_000,
            "no timestamp: the chat's"
        );

        // A single chat object (no array) of the same chat adds nothing.
        let first = serde_json::from_str::<serde_json::Value>(export).unwrap()[0].clone();
        let single = write(
            &dir,
            "one.json",
            &serde_json::to_string_pretty(&first).unwrap(),
        );
        let again = import_path(&db, ImportKind::OpenWebui, &single).unwrap();
        assert_eq!((again.stored.conversations, again.stored.already), (0, 1));
    }

    #[test]
    fn a_history_without_current_id_takes_the_latest_leaf_and_loops_are_skipped() {
        let (dir, db) = db();
        let path = write(
            &dir,
            "chats.json",
            r#"[
              {"id": "x", "title": "No current", "chat": {"history": {"messages": {
                "q": {"parentId": null, "role": "user", "content": "Q", "timestamp": 10},
                "old": {"parentId": "q", "role": "assistant", "content": "old", "timestamp": 11},
                "new": {"parentId": "q", "role": "assistant", "content": "new", "timestamp": 12}}}}},
              {"id": "y", "title": "Loop", "chat": {"history": {"currentId": "a", "messages": {
                "a": {"parentId": "b", "role": "user", "content": "A"},
                "b": {"parentId": "a", "role": "assistant", "content": "B"}}}}}
            ]"#,
        );
        let report = import_path(&db, ImportKind::OpenWebui, &path).unwrap();
        assert_eq!(report.stored.conversations, 1);
        assert_eq!(report.skipped.len(), 1);
        assert!(
            report.skipped[0].place.contains("(id y)")
                && report.skipped[0].reason.contains("loops")
        );
        assert_eq!(
            turns(by_title(&all(&db), "No current")),
            [("user", "Q"), ("assistant", "new")]
        );
    }
}
