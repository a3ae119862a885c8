//! The conversation history: storing conversations, the person's feedback on them, and reading
//! them back.
//!
//! # How a conversation's satisfaction is decided
//!
//! One number in 0..1 per conversation, or none:
//! 1. the conversation's explicit satisfaction, if one was given (set on the Conversations page, by
//!    `chat`, or imported; a conversation has at most one, and setting it replaces it);
//! 2. otherwise the share of thumbs-up among its rated messages (up / (up + down));
//! 3. otherwise none: the conversation is unrated. Filters that ask for a minimum satisfaction
//!    leave unrated conversations out.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub use garden_types::data::{ConversationDetail, ConversationPage, ConversationSummary, MessageView, Role, StoreReport};

/// The satisfaction rule above, as an SQL expression over a conversation aliased `c`.
pub const SCORE_SQL: &str = "COALESCE(
    (SELECT f.satisfaction FROM feedback f
      WHERE f.conversation_id = c.id AND f.message_id IS NULL AND f.satisfaction IS NOT NULL),
    (SELECT AVG(f.thumbs = 1) FROM feedback f
      WHERE f.conversation_id = c.id AND f.thumbs IS NOT NULL))";

/// A conversation to store (from an importer, the sample generator, or the chat).
#[derive(Debug, Clone, PartialEq)]
pub struct NewConversation {
    /// Its id in the source; with the source it makes re-imports add nothing twice.
    pub source_ref: String,
    pub title: String,
    /// Unix ms.
    pub created_at: i64,
    pub messages: Vec<NewMessage>,
    /// Explicit conversation-level satisfaction, 0..1.
    pub satisfaction: Option<f64>,
}

/// A message of a [`NewConversation`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    pub role: Role,
    pub content: String,
    /// Unix ms.
    pub created_at: i64,
    pub model: Option<String>,
    /// 1 thumbs up, -1 thumbs down.
    pub thumbs: Option<i8>,
}

/// Stores conversations inside the caller's transaction; ones the source already gave are
/// skipped. Invalid values are errors naming the conversation (the caller's transaction is then
/// dropped, so nothing is half-written).
pub fn store(
    tx: &Transaction<'_>,
    source: &str,
    import_id: Option<&str>,
    conversations: impl IntoIterator<Item = NewConversation>,
) -> Result<StoreReport> {
    let mut report = StoreReport::default();
    let mut insert_conversation = tx.prepare_cached(
        "INSERT INTO conversations (id, title, source, source_ref, created_at, updated_at, import_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (source, source_ref) DO NOTHING",
    )?;
    let mut insert_message = tx.prepare_cached(
        "INSERT INTO messages (id, conversation_id, position, role, content, created_at, model)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut insert_feedback = tx.prepare_cached(
        "INSERT INTO feedback (id, conversation_id, message_id, thumbs, satisfaction, source, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for conversation in conversations {
        let place = || format!("conversation '{}'", conversation.source_ref);
        if let Some(s) = conversation.satisfaction {
            if !(0.0..=1.0).contains(&s) || s.is_nan() {
                return Err(Error::invalid(
                    format!("satisfaction of {}", place()),
                    format!("{s} is outside 0..1"),
                ));
            }
        }
        let id = new_id();
        let updated_at = conversation
            .messages
            .iter()
            .map(|m| m.created_at)
            .max()
            .unwrap_or(conversation.created_at)
            .max(conversation.created_at);
        let inserted = insert_conversation.execute(params![
            id,
            conversation.title,
            source,
            conversation.source_ref,
            conversation.created_at,
            updated_at,
            import_id
        ])?;
        if inserted == 0 {
            report.already += 1;
            continue;
        }
        report.conversations += 1;
        for (position, message) in conversation.messages.iter().enumerate() {
            let message_id = new_id();
            insert_message.execute(params![
                message_id,
                id,
                position as i64,
                message.role.as_str(),
                message.content,
                message.created_at,
                message.model
            ])?;
            report.messages += 1;
            if let Some(thumbs) = message.thumbs {
                if thumbs != 1 && thumbs != -1 {
                    return Err(Error::invalid(
                        format!("thumbs of message {position} in {}", place()),
                        format!("{thumbs} is neither 1 (up) nor -1 (down)"),
                    ));
                }
                insert_feedback.execute(params![
                    new_id(),
                    id,
                    message_id,
                    thumbs,
                    None::<f64>,
                    source,
                    message.created_at
                ])?;
                report.ratings += 1;
            }
        }
        if let Some(s) = conversation.satisfaction {
            insert_feedback.execute(params![
                new_id(),
                id,
                None::<String>,
                None::<i64>,
                s,
                source,
                updated_at
            ])?;
            report.ratings += 1;
        }
    }
    Ok(report)
}

/// A fresh random id.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Sets (or with `None` clears) a message's thumbs.
pub fn set_thumbs(conn: &mut Connection, message_id: &str, thumbs: Option<i8>) -> Result<()> {
    if let Some(t) = thumbs {
        if t != 1 && t != -1 {
            return Err(Error::invalid("thumbs", format!("{t} is neither 1 (up) nor -1 (down)")));
        }
    }
    let tx = conn.transaction()?;
    let conversation_id: String = tx
        .query_row("SELECT conversation_id FROM messages WHERE id = ?1", [message_id], |r| r.get(0))
        .optional()?
        .ok_or_else(|| Error::NotFound { what: "message", id: message_id.to_owned() })?;
    tx.execute("DELETE FROM feedback WHERE message_id = ?1 AND thumbs IS NOT NULL", [message_id])?;
    if let Some(t) = thumbs {
        tx.execute(
            "INSERT INTO feedback (id, conversation_id, message_id, thumbs, source, created_at)
             VALUES (?1, ?2, ?3, ?4, 'user', ?5)",
            params![new_id(), conversation_id, message_id, t, crate::now_ms()],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Sets (or with `None` clears) a conversation's explicit satisfaction.
pub fn set_satisfaction(conn: &mut Connection, conversation_id: &str, satisfaction: Option<f64>) -> Result<()> {
    if let Some(s) = satisfaction {
        if !(0.0..=1.0).contains(&s) || s.is_nan() {
            return Err(Error::invalid("satisfaction", format!("{s} is outside 0..1")));
        }
    }
    let tx = conn.transaction()?;
    let exists: bool = tx
        .query_row("SELECT 1 FROM conversations WHERE id = ?1", [conversation_id], |_| Ok(true))
        .optional()?
        .unwrap_or(false);
    if !exists {
        return Err(Error::NotFound { what: "conversation", id: conversation_id.to_owned() });
    }
    tx.execute(
        "DELETE FROM feedback WHERE conversation_id = ?1 AND message_id IS NULL AND satisfaction IS NOT NULL",
        [conversation_id],
    )?;
    if let Some(s) = satisfaction {
        tx.execute(
            "INSERT INTO feedback (id, conversation_id, satisfaction, source, created_at)
             VALUES (?1, ?2, ?3, 'user', ?4)",
            params![new_id(), conversation_id, s, crate::now_ms()],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Reads one conversation.
pub fn get(conn: &Connection, id: &str) -> Result<ConversationDetail> {
    let summary = conn
        .query_row(
            &format!(
                "SELECT c.id, c.title, c.source, c.created_at, c.updated_at,
                        (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id), {SCORE_SQL}
                   FROM conversations c WHERE c.id = ?1"
            ),
            [id],
            summary_from_row,
        )
        .optional()?
        .ok_or_else(|| Error::NotFound { what: "conversation", id: id.to_owned() })?;
    let explicit_satisfaction = conn
        .query_row(
            "SELECT satisfaction FROM feedback
              WHERE conversation_id = ?1 AND message_id IS NULL AND satisfaction IS NOT NULL",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    let mut stmt = conn.prepare(
        "SELECT m.id, m.role, m.content, m.created_at, m.model,
                (SELECT f.thumbs FROM feedback f WHERE f.message_id = m.id AND f.thumbs IS NOT NULL)
           FROM messages m WHERE m.conversation_id = ?1 ORDER BY m.position",
    )?;
    let messages = stmt
        .query_map([id], |r| {
            let role: String = r.get(1)?;
            Ok(MessageView {
                id: r.get(0)?,
                role: Role::parse(&role).unwrap_or(Role::User),
                content: r.get(2)?,
                created_at: r.get(3)?,
                model: r.get(4)?,
                thumbs: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(ConversationDetail { summary, explicit_satisfaction, messages })
}

fn summary_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ConversationSummary> {
    Ok(ConversationSummary {
        id: r.get(0)?,
        title: r.get(1)?,
        source: r.get(2)?,
        created_at: r.get(3)?,
        updated_at: r.get(4)?,
        message_count: r.get(5)?,
        satisfaction: r.get(6)?,
    })
}

/// Which conversations by their rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RatingFilter {
    /// Has a satisfaction (explicit or from thumbs).
    Rated,
    Unrated,
    /// Satisfaction above 0.5.
    Positive,
    /// Satisfaction below 0.5.
    Negative,
}

impl std::str::FromStr for RatingFilter {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "rated" => Ok(RatingFilter::Rated),
            "unrated" => Ok(RatingFilter::Unrated),
            "positive" => Ok(RatingFilter::Positive),
            "negative" => Ok(RatingFilter::Negative),
            other => Err(Error::invalid(
                "rating",
                format!("'{other}' is not one of rated, unrated, positive, negative"),
            )),
        }
    }
}

/// What to list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListQuery {
    /// Case-insensitive substring of the title or of any message.
    pub search: Option<String>,
    /// Only conversations from this source (`goe-v3`, `chatgpt`, `sample`, …).
    pub source: Option<String>,
    pub rating: Option<RatingFilter>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 500;

impl ListQuery {
    /// The Conversations page's filter as its form sends it: blank values mean "any", `rating`
    /// is a [`RatingFilter`] name, and the page is [`DEFAULT_PAGE`] long.
    pub fn from_form(search: Option<String>, source: Option<String>, rating: Option<&str>, offset: Option<u32>) -> Result<ListQuery> {
        let rating = rating.map(str::trim).filter(|r| !r.is_empty()).map(str::parse).transpose()?;
        Ok(ListQuery { search, source: source.filter(|s| !s.trim().is_empty()), rating, limit: Some(DEFAULT_PAGE), offset })
    }
}

/// The Conversations page: one page of [`list`] for the form's filter (see [`ListQuery::from_form`]).
pub async fn page(
    studio: &crate::Studio,
    search: Option<String>,
    source: Option<String>,
    rating: Option<&str>,
    offset: Option<u32>,
) -> Result<ConversationPage> {
    let query = ListQuery::from_form(search, source, rating, offset)?;
    studio.db().call(move |conn| list(conn, &query)).await
}

/// One conversation with its messages and ratings, for its page (see [`get`]).
pub async fn view(studio: &crate::Studio, id: String) -> Result<ConversationDetail> {
    studio.db().call(move |conn| get(conn, &id)).await
}

/// Thumbs as a form sends them: `up` (1), `down` (-1) or `clear` (none).
pub fn parse_thumbs(value: &str) -> Result<Option<i8>> {
    match value {
        "up" => Ok(Some(1)),
        "down" => Ok(Some(-1)),
        "clear" => Ok(None),
        other => Err(Error::invalid("thumbs", format!("'{other}' is not up, down or clear"))),
    }
}

/// A satisfaction as a form sends it: a number from 0 to 1, or blank (none: clears it).
pub fn parse_satisfaction(value: &str) -> Result<Option<f64>> {
    match value.trim() {
        "" => Ok(None),
        s => s
            .parse::<f64>()
            .ok()
            .filter(|v| (0.0..=1.0).contains(v))
            .map(Some)
            .ok_or_else(|| Error::invalid("satisfaction", format!("'{s}' is not a number from 0 to 1"))),
    }
}

/// Sets a message's thumbs from the form's value (see [`parse_thumbs`] and [`set_thumbs`]).
pub async fn rate_message(studio: &crate::Studio, message_id: String, thumbs: &str) -> Result<()> {
    let value = parse_thumbs(thumbs)?;
    studio.db().call(move |conn| set_thumbs(conn, &message_id, value)).await
}

/// Sets a conversation's satisfaction from the form's value (see [`parse_satisfaction`] and
/// [`set_satisfaction`]).
pub async fn rate_conversation(studio: &crate::Studio, conversation_id: String, satisfaction: &str) -> Result<()> {
    let value = parse_satisfaction(satisfaction)?;
    studio.db().call(move |conn| set_satisfaction(conn, &conversation_id, value)).await
}

/// Lists conversations, newest first.
pub fn list(conn: &Connection, query: &ListQuery) -> Result<ConversationPage> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let offset = query.offset.unwrap_or(0);
    let pattern = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| format!("%{}%", escape_like(s)));

    let rating = query.rating.map(|r| match r {
        RatingFilter::Rated => "score IS NOT NULL",
        RatingFilter::Unrated => "score IS NULL",
        RatingFilter::Positive => "score > 0.5",
        RatingFilter::Negative => "score < 0.5",
    });
    // Scored once per conversation in a subquery, then filtered and paged.
    let inner = format!(
        "SELECT c.id, c.title, c.source, c.created_at, c.updated_at,
                (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id) AS n,
                {SCORE_SQL} AS score
           FROM conversations c
          WHERE (?1 IS NULL
                 OR c.title LIKE ?1 ESCAPE '\\'
                 OR EXISTS (SELECT 1 FROM messages m2 WHERE m2.conversation_id = c.id
                            AND m2.content LIKE ?1 ESCAPE '\\'))
            AND (?2 IS NULL OR c.source = ?2)"
    );
    let rating_clause = rating.map(|r| format!("WHERE {r}")).unwrap_or_default();
    let source = query.source.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let total: i64 = conn.query_row(
        &format!("SELECT COUNT(*) FROM ({inner}) {rating_clause}"),
        params![pattern, source],
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare(&format!(
        "SELECT * FROM ({inner}) {rating_clause}
          ORDER BY created_at DESC, id
          LIMIT ?3 OFFSET ?4"
    ))?;
    let items = stmt
        .query_map(params![pattern, source, limit, offset], summary_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let sources = conn
        .prepare("SELECT DISTINCT source FROM conversations ORDER BY source")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(ConversationPage { items, total, offset, limit, sources })
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
    fn form_values_parse_or_name_their_field() {
        let q = ListQuery::from_form(Some("hi".into()), Some("  ".into()), Some(" Positive "), Some(50)).unwrap();
        assert_eq!(q, ListQuery { search: Some("hi".into()), source: None, rating: Some(RatingFilter::Positive), limit: Some(DEFAULT_PAGE), offset: Some(50) });
        assert_eq!(ListQuery::from_form(None, None, Some(""), None).unwrap().rating, None);
        assert!(matches!(ListQuery::from_form(None, None, Some("great"), None), Err(Error::Invalid { field, .. }) if field == "rating"));

        assert_eq!(parse_thumbs("up").unwrap(), Some(1));
        assert_eq!(parse_thumbs("down").unwrap(), Some(-1));
        assert_eq!(parse_thumbs("clear").unwrap(), None);
        assert!(matches!(parse_thumbs("sideways"), Err(Error::Invalid { field, message }) if field == "thumbs" && message == "'sideways' is not up, down or clear"));

        assert_eq!(parse_satisfaction(" ").unwrap(), None);
        assert_eq!(parse_satisfaction("0.25").unwrap(), Some(0.25));
        for bad in ["1.5", "-0.1", "NaN", "lots"] {
            assert!(matches!(parse_satisfaction(bad), Err(Error::Invalid { field, .. }) if field == "satisfaction"), "{bad}");
        }
    }

    #[test]
    fn a_page_carries_its_offset_and_limit() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path().join("db.sqlite3")).unwrap();
        db.with_conn(|conn| {
            for i in 0..3 {
                insert(conn, &format!("c{i}"), "t", i, &["q", "a"]);
            }
            let page = list(conn, &ListQuery { limit: Some(2), offset: Some(1), ..Default::default() })?;
            assert_eq!((page.total, page.items.len(), page.offset, page.limit), (3, 2, 1, 2));
            assert_eq!(page.sources, ["chat"]);
            Ok(())
        })
        .unwrap();
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
                 VALUES ('f2', 'b', 0.75, 20)",
                [],
            )?;
            // A thumbs-down on a message of 'b' does not override its explicit satisfaction.
            conn.execute(
                "INSERT INTO feedback (id, conversation_id, message_id, thumbs, created_at)
                 VALUES ('f3', 'b', 'b-1', -1, 30)",
                [],
            )?;
            let all = list(conn, &ListQuery::default())?;
            assert_eq!(all.total, 2);
            assert_eq!(all.items[0].id, "b");
            assert_eq!(all.items[0].message_count, 3);
            assert_eq!(all.items[0].satisfaction, Some(0.75), "explicit rating wins over thumbs");
            assert_eq!(all.items[1].satisfaction, None);

            let found = list(conn, &ListQuery { search: Some("안녕".into()), ..Default::default() })?;
            assert_eq!(found.total, 1);
            // LIKE wildcards in the search are literal.
            let pct = list(conn, &ListQuery { search: Some("0%_d".into()), ..Default::default() })?;
            assert_eq!(pct.total, 1);
            let none = list(conn, &ListQuery { search: Some("%".into()), ..Default::default() })?;
            assert_eq!(none.total, 1, "only the message that really has a % sign");

            let rated = list(conn, &ListQuery { rating: Some(RatingFilter::Rated), ..Default::default() })?;
            assert_eq!(rated.total, 1);
            let unrated = list(conn, &ListQuery { rating: Some(RatingFilter::Unrated), ..Default::default() })?;
            assert_eq!(unrated.items[0].id, "a");
            let chat = list(conn, &ListQuery { source: Some("chat".into()), ..Default::default() })?;
            assert_eq!(chat.total, 2);
            assert_eq!(chat.sources, ["chat"]);
            assert!("bogus".parse::<RatingFilter>().unwrap_err().to_string().contains("rating"));

            let paged = list(conn, &ListQuery { limit: Some(1), offset: Some(1), ..Default::default() })?;
            assert_eq!(paged.items.len(), 1);
            assert_eq!(paged.items[0].id, "a");
            assert_eq!(paged.total, 2);
            Ok(())
        })
        .unwrap();
    }

    fn message(role: Role, content: &str, thumbs: Option<i8>) -> NewMessage {
        NewMessage { role, content: content.into(), created_at: 5, model: None, thumbs }
    }

    #[test]
    fn store_skips_what_the_source_already_gave_and_scores_by_the_rule() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path().join("db.sqlite3")).unwrap();
        let conv = |r: &str, satisfaction| NewConversation {
            source_ref: r.into(),
            title: format!("t{r}"),
            created_at: 1,
            messages: vec![
                message(Role::System, "be kind", None),
                message(Role::User, "q1", None),
                message(Role::Assistant, "a1", Some(1)),
                message(Role::User, "q2", None),
                message(Role::Assistant, "a2", Some(-1)),
                message(Role::User, "q3", None),
                message(Role::Assistant, "a3", Some(1)),
            ],
            satisfaction,
        };
        db.with_conn(|conn| {
            let tx = conn.transaction()?;
            let first = store(&tx, "test", None, vec![conv("x", None), conv("y", Some(0.1))])?;
            tx.commit()?;
            assert_eq!(first, StoreReport { conversations: 2, messages: 14, ratings: 7, already: 0 });
            let tx = conn.transaction()?;
            let again = store(&tx, "test", None, vec![conv("x", None), conv("z", None)])?;
            tx.commit()?;
            assert_eq!(again.conversations, 1);
            assert_eq!(again.already, 1);

            let page = list(conn, &ListQuery::default())?;
            let score = |title: &str| page.items.iter().find(|c| c.title == title).unwrap().satisfaction;
            assert_eq!(score("tx"), Some(2.0 / 3.0), "2 of 3 thumbs up");
            assert_eq!(score("ty"), Some(0.1), "explicit satisfaction wins");

            // Changing feedback replaces it.
            let x = page.items.iter().find(|c| c.title == "tx").unwrap().id.clone();
            let detail = get(conn, &x)?;
            assert_eq!(detail.messages.len(), 7);
            assert_eq!(detail.messages[4].thumbs, Some(-1));
            set_thumbs(conn, &detail.messages[4].id, Some(1))?;
            assert_eq!(get(conn, &x)?.summary.satisfaction, Some(1.0));
            set_satisfaction(conn, &x, Some(0.4))?;
            set_satisfaction(conn, &x, Some(0.3))?;
            let detail = get(conn, &x)?;
            assert_eq!(detail.summary.satisfaction, Some(0.3));
            assert_eq!(detail.explicit_satisfaction, Some(0.3));
            set_satisfaction(conn, &x, None)?;
            assert_eq!(get(conn, &x)?.summary.satisfaction, Some(1.0));

            assert!(matches!(set_satisfaction(conn, &x, Some(1.5)), Err(Error::Invalid { .. })));
            assert!(matches!(set_thumbs(conn, "nope", Some(1)), Err(Error::NotFound { .. })));
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn an_invalid_value_stores_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path().join("db.sqlite3")).unwrap();
        db.with_conn(|conn| {
            let good = NewConversation {
                source_ref: "good".into(),
                title: String::new(),
                created_at: 1,
                messages: vec![message(Role::User, "hi", None)],
                satisfaction: None,
            };
            let bad = NewConversation { source_ref: "bad".into(), satisfaction: Some(2.0), ..good.clone() };
            let tx = conn.transaction()?;
            let err = store(&tx, "test", None, vec![good, bad]).unwrap_err();
            drop(tx);
            assert!(err.to_string().contains("conversation 'bad'"), "{err}");
            assert_eq!(count(conn)?, 0);
            Ok(())
        })
        .unwrap();
    }
}
