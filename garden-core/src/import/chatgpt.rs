//! ChatGPT's data export, `conversations.json` (`chatgpt`).
//!
//! # Rules
//! - The file is a JSON array of conversations `{id | conversation_id, title, create_time
//!   (float seconds), mapping: {<node id>: {id, message, parent, children}}, current_node}`.
//! - Only the branch on screen is imported: from `current_node`, follow `parent` up to the root
//!   and reverse, so edited questions and regenerated answers on other branches are left out.
//!   Without a usable `current_node` the leaf with the latest message `create_time` is taken; a
//!   chain that loops skips the conversation (listed).
//! - Left out silently, as ChatGPT does not show them either: nodes whose `message` is null,
//!   messages by the `tool` role, messages addressed to a tool (`recipient` other than `all`),
//!   messages marked `metadata.is_visually_hidden_from_conversation`, and messages with no text
//!   (this drops empty system prompts, image-only messages, code and reasoning records). Of
//!   `content.parts`, only the string parts are kept, joined with newlines.
//! - Any other author role is skipped and listed. A node or message that is not an object, or a
//!   message without `author.role`, is an error naming `conversation N (id X), node Y`.
//! - Times: each message's `create_time`; the conversation's `create_time` (else its first
//!   message's, else the file's modification time) for the conversation and messages without
//!   one. The assistant's `metadata.model_slug` is kept as its model. The export has no ratings.
//! - `source_ref`: `id` (or `conversation_id`), else the hash of its messages.

use serde_json::Value;

use super::json::{branch, kind_of, latest_leaf, record_id, Input, Record};
use super::{content_ref, ms_from_json, title_or_first_user, Collector, ImportKind};
use crate::conversations::{NewConversation, NewMessage, Role};
use crate::error::Result;

/// One record of the file: a conversation (or a skip) handed to `out`.
pub(super) fn record(input: &Input<'_>, record: &Record, out: &mut Collector<'_>) -> Result<()> {
    let place = record.place.as_str();
    let expected =
        "expected a ChatGPT conversation (an object with a \"mapping\" of message nodes)";
    let Some(obj) = record.value.as_object() else {
        return Err(input.wrong_shape(place, ImportKind::Chatgpt, &record.value, expected));
    };
    let mapping = match obj.get("mapping") {
        Some(Value::Object(mapping)) => mapping,
        Some(other) => {
            return Err(input.error(
                place,
                format!("\"mapping\" must be an object, found {}", kind_of(other)),
            ))
        }
        None => return Err(input.wrong_shape(place, ImportKind::Chatgpt, &record.value, expected)),
    };
    let message_time = |node: &Value| {
        node.get("message")?
            .get("create_time")
            .and_then(ms_from_json)
    };
    let current = obj
        .get("current_node")
        .and_then(Value::as_str)
        .filter(|id| mapping.contains_key(*id))
        .or_else(|| latest_leaf(mapping, "parent", message_time));
    let chain = match current.map(|current| branch(mapping, current, "parent")) {
        Some(Ok(chain)) => chain,
        Some(Err(reason)) => {
            out.skip(place, reason);
            return Ok(());
        }
        None => Vec::new(),
    };

    let mut timed = Vec::with_capacity(chain.len());
    for (node_id, node) in chain {
        let place = format!("{place}, node {node_id}");
        if !node.is_object() {
            return Err(input.error(
                &place,
                format!("expected a node object, found {}", kind_of(node)),
            ));
        }
        let message = match node.get("message") {
            None | Some(Value::Null) => continue,
            Some(Value::Object(message)) => message,
            Some(other) => {
                return Err(input.error(
                    &place,
                    format!("\"message\" must be an object, found {}", kind_of(other)),
                ))
            }
        };
        let Some(role) = message
            .get("author")
            .and_then(|a| a.get("role"))
            .and_then(Value::as_str)
        else {
            return Err(input.error(&place, "the message has no \"author.role\""));
        };
        let hidden = message
            .get("metadata")
            .and_then(|m| m.get("is_visually_hidden_from_conversation"))
            .and_then(Value::as_bool)
            == Some(true);
        let to_tool = message
            .get("recipient")
            .and_then(Value::as_str)
            .is_some_and(|r| r != "all");
        if role == "tool" || hidden || to_tool {
            continue;
        }
        let text = message
            .get("content")
            .and_then(|c| c.get("parts"))
            .and_then(Value::as_array)
            .map(|parts| {
                parts
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default();
        if text.trim().is_empty() {
            continue;
        }
        let Some(role) = Role::parse(role) else {
            out.skip(
                place,
                format!("role \"{role}\" is not user, assistant or system"),
            );
            continue;
        };
        let model = match role {
            Role::Assistant => message
                .get("metadata")
                .and_then(|m| m.get("model_slug"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            _ => None,
        };
        let at = message.get("create_time").and_then(ms_from_json);
        timed.push((
            at,
            NewMessage {
                role,
                content: text,
                created_at: 0,
                model,
                thumbs: None,
            },
        ));
    }

    let created_at = obj
        .get("create_time")
        .and_then(ms_from_json)
        .or_else(|| timed.iter().find_map(|(at, _)| *at))
        .unwrap_or(input.mtime);
    let messages: Vec<NewMessage> = timed
        .into_iter()
        .map(|(at, message)| NewMessage {
            created_at: at.unwrap_or(created_at),
            ..message
        })
        .collect();
    let title = title_or_first_user(obj.get("title").and_then(Value::as_str), &messages);
    let source_ref =
        record_id(obj, &["id", "conversation_id"]).unwrap_or_else(|| content_ref(&messages));
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

#[cfg(test)]
mod tests {
    use super::super::test_util::{all, by_title, db, turns, write};
    use super::super::{import_path, ImportKind};

    #[test]
    fn follows_the_current_node_of_a_chatgpt_tree() {
        let (dir, db) = db();
        // root → hidden system → u1 → a1 → u2-old → a2-old            (edited away)
        //                                  └ u2 → code → tool → a2     (current)
        let export = r#"[{
          "title": "Edited question", "create_time": 1735689600.5, "update_time": 1735689700.0,
          "conversation_id": "conv-1", "id": "conv-1", "current_node": "a2",
          "mapping": {
            "root": {"id": "root", "message": null, "parent": null, "children": ["sys"]},
            "sys": {"id": "sys", "parent": "root", "children": ["u1"], "message": {"author": {"role": "system"},
              "content": {"content_type": "text", "parts": [""]}, "create_time": null,
              "metadata": {"is_visually_hidden_from_conversation": true}}},
            "u1": {"id": "u1", "parent": "sys", "children": ["a1"], "message": {"author": {"role": "user"},
              "content": {"content_type": "text", "parts": ["김치찌개 레시피 알려줘"]}, "create_time": 1735689601.25}},
            "a1": {"id": "a1", "parent": "u1", "children": ["u2-old", "u2"], "message": {"author": {"role": "assistant"},
              "content": {"content_type": "text", "parts": ["돼지고기와 김치를 볶은 뒤 물을 붓고 끓이세요."]},
              "create_time": 1735689602, "metadata": {"model_slug": "gpt-4o"}}},
            "u2-old": {"id": "u2-old", "parent": "a1", "children": ["a2-old"], "message": {"author": {"role": "user"},
              "content": {"content_type": "text", "parts": ["Old question"]}, "create_time": 1735689603}},
            "a2-old": {"id": "a2-old", "parent": "u2-old", "children": [], "message": {"author": {"role": "assistant"},
              "content": {"content_type": "text", "parts": ["Old answer"]}, "create_time": 1735689604}},
            "u2": {"id": "u2", "parent": "a1", "children": ["code"], "message": {"author": {"role": "user"},
              "content": {"content_type": "multimodal_text", "parts": [{"content_type": "image_asset_pointer", "asset_pointer": "file-service://x"}, "What about this photo?"]},
              "create_time": 1735689605}},
            "code": {"id": "code", "parent": "u2", "children": ["tool"], "recipient": "python", "message": {"author": {"role": "assistant"},
              "recipient": "python", "content": {"content_type": "code", "language": "python", "text": "print(1)"}, "create_time": 1735689606}},
            "tool": {"id": "tool", "parent": "code", "children": ["a2"], "message": {"author": {"role": "tool", "name": "python"},
              "content": {"content_type": "execution_output", "text": "1"}, "create_time": 1735689607}},
            "a2": {"id": "a2", "parent": "tool", "children": [], "message": {"author": {"role": "assistant"}, "recipient": "all",
              "content": {"content_type": "text", "parts": ["It is a stew.", "Enjoy!"]}, "create_time": 1735689608.75,
              "metadata": {"model_slug": "gpt-4o"}}}
          }
        }]"#;
        let path = write(&dir, "conversations.json", export);
        let report = import_path(&db, ImportKind::Chatgpt, &path).unwrap();
        assert_eq!(report.stored.conversations, 1);
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);

        let stored = all(&db);
        let chat = by_title(&stored, "Edited question");
        assert_eq!(chat.summary.source, "chatgpt");
        assert_eq!(
            turns(chat),
            [
                ("user", "김치찌개 레시피 알려줘"),
                ("assistant", "돼지고기와 김치를 볶은 뒤 물을 붓고 끓이세요."),
                ("user", "What about this photo?"),
                ("assistant", "It is a stew.\nEnjoy!")
            ]
        );
        let times: Vec<i64> = chat.messages.iter().map(|m| m.created_at).collect();
        assert_eq!(
            times,
            [
                1_735_689_601_250,
                1_735_689_602_000,
                1_735_689_605_000,
                1_735_689_608_750
            ]
        );
        assert_eq!(chat.summary.created_at, 1_735_689_600_500);
        assert_eq!(chat.messages[3].model.as_deref(), Some("gpt-4o"));

        let again = import_path(&db, ImportKind::Chatgpt, &path).unwrap();
        assert_eq!(again.stored.already, 1);
    }

    #[test]
    fn a_chatgpt_node_without_a_role_is_an_error() {
        let (dir, db) = db();
        let path = write(
            &dir,
            "conversations.json",
            r#"[{"id": "c9", "current_node": "n", "mapping": {"n": {"parent": null, "message": {"content": {"parts": ["x"]}}}}}]"#,
        );
        let err = import_path(&db, ImportKind::Chatgpt, &path)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("conversation 1 (id c9), node n") && err.contains("author.role"),
            "{err}"
        );
        // An Open WebUI export given as ChatGPT says so.
        let webui = write(
            &dir,
            "webui.json",
            r#"[{"id": "w", "title": "t", "chat": {"history": {"messages": {}}}}]"#,
        );
        let err = import_path(&db, ImportKind::Chatgpt, &webui)
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"openwebui\""), "{err}");
        assert!(all(&db).is_empty());
    }
}
