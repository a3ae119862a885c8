//! Reading the conversation history.

use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// A row of the Conversations list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub id: String,
    pub title: String,
    pub source: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub message_count: i64,
    /// The most recent explicit conversation-level satisfaction, if any.
    pub satisfaction: Option<f64>,
}

/// What to list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListQuery {
    /// Case-insensitive substring of the title or of any message.
    pub search: Option<String>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// One page of conversations, newest first, with the total that matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListPage {
    pub items: Vec<ConversationSummary>,
    pub total: i64,
}

pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 500;

/// Lists conversations, newest first.
pub fn list(conn: &Connection, query: &ListQuery) -> Result<ListPage> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let offset = query.offset.unwrap_or(0);
    let pattern = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| format!("%{}%", escape_like(s)));

    const MATCH: &str = "(?1 IS NULL
        OR c.title LIKE ?1 ESCAPE '\\'
        OR EXISTS (SELECT 1 FROM messages m2 WHERE m2.conversation_id = c.id
                   AND m2.content LIKE ?1 ESCAPE '\\'))";

    let total: i64 = conn.query_row(
        &format!("SELECT COUNT(*) FROM conversations c WHERE {MATCH}"),
        params![pattern],
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare(&format!(
        "SELECT c.id, c.title, c.source, c.created_at, c.updated_at,
                (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id),
                (SELECT f.satisfaction FROM feedback f
                  WHERE f.conversation_id = c.id AND f.message_id IS NULL
                    AND f.satisfaction IS NOT NULL
                  ORDER BY f.created_at DESC, f.rowid DESC LIMIT 1)
           FROM conversations c
          WHERE {MATCH}
          ORDER BY c.created_at DESC, c.id
          LIMIT ?2 OFFSET ?3"
    ))?;
    let items = stmt
        .query_map(params![pattern, limit, offset], |r| {
            Ok(ConversationSummary {
                id: r.get(0)?,
                title: r.get(1)?,
                source: r.get(2)?,
                created_at: r.get(3)?,
                updated_at: r.get(4)?,
                message_count: r.get(5)?,
                satisfaction: r.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(ListPage { items, total })
}

/// Number of conversations stored.
pub fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM conversations", [], |r| r.get(0))?)
}

fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::db::Db;

    /// Inserts a conversation with alternating user/assistant messages.
    pub(crate) fn insert(conn: &Connection, id: &str, title: &str, at: i64, messages: &[&str]) {
        conn.execute(
            "INSERT INTO conversations (id, title, source, created_at, updated_at)
             VALUES (?1, ?2, 'chat', ?3, ?3)",
            params![id, title, at],
        )
        .unwrap();
        for (i, content) in messages.iter().enumerate() {
            let role = if i % 2 == 0 { "user" } else { "assistant" };
            conn.execute(
                "INSERT INTO messages (id, conversation_id, position, role, content, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![format!("{id}-{i}"), id, i as i64, role, content, at + i as i64],
            )
            .unwrap();
        }
    }

    #[test]
    fn lists_newest_first_with_counts_search_and_satisfaction() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path().join("db.sqlite3")).unwrap();
        db.with_conn(|conn| {
            insert(conn, "a", "Old one", 1_000, &["hello", "hi there"]);
            insert(conn, "b", "Korean 안녕", 2_000, &["안녕하세요", "반가워요", "100%_done"]);
            conn.execute(
                "INSERT INTO feedback (id, conversation_id, satisfaction, created_at)
                 VALUES ('f1', 'b', 0.25, 10), ('f2', 'b', 0.75, 20)",
                [],
            )?;
            let all = list(conn, &ListQuery::default())?;
            assert_eq!(all.total, 2);
            assert_eq!(all.items[0].id, "b");
            assert_eq!(all.items[0].message_count, 3);
            assert_eq!(all.items[0].satisfaction, Some(0.75), "latest rating wins");
            assert_eq!(all.items[1].satisfaction, None);

            let found = list(conn, &ListQuery { search: Some("안녕".into()), ..Default::default() })?;
            assert_eq!(found.total, 1);
            // LIKE wildcards in the search are literal.
            let pct = list(conn, &ListQuery { search: Some("0%_d".into()), ..Default::default() })?;
            assert_eq!(pct.total, 1);
            let none = list(conn, &ListQuery { search: Some("%".into()), ..Default::default() })?;
            assert_eq!(none.total, 1, "only the message that really has a % sign");

            let paged = list(conn, &ListQuery { limit: Some(1), offset: Some(1), ..Default::default() })?;
            assert_eq!(paged.items.len(), 1);
            assert_eq!(paged.items[0].id, "a");
            assert_eq!(paged.total, 2);
            Ok(())
        })
        .unwrap();
    }
}
