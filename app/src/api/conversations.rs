use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{ConversationPage, ConversationView};

/// A page of the conversation history, newest first.
#[server(endpoint = "conversations/list")]
pub async fn list_conversations(
    search: Option<String>,
    source: Option<String>,
    rating: Option<String>,
    offset: Option<u32>,
) -> Result<ConversationPage, AppError> {
    use garden_core::conversations::{self, ListQuery, RatingFilter, DEFAULT_PAGE};
    let rating = match rating.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        None => None,
        Some(r) => Some(r.parse::<RatingFilter>()?),
    };
    let query = ListQuery {
        search,
        source: source.filter(|s| !s.trim().is_empty()),
        rating,
        limit: Some(DEFAULT_PAGE),
        offset,
    };
    let offset = query.offset.unwrap_or(0);
    let page = crate::state::studio()?
        .db()
        .call(move |conn| conversations::list(conn, &query))
        .await?;
    Ok(ConversationPage {
        items: page.items.into_iter().map(Into::into).collect(),
        total: page.total,
        offset,
        limit: DEFAULT_PAGE,
        sources: page.sources,
    })
}

/// One conversation with its messages and feedback.
#[server(endpoint = "conversations/get")]
pub async fn get_conversation(id: String) -> Result<ConversationView, AppError> {
    let detail = crate::state::studio()?
        .db()
        .call(move |conn| garden_core::conversations::get(conn, &id))
        .await?;
    Ok(detail.into())
}

/// Thumbs up / down / clear on one answer.
#[server(endpoint = "conversations/thumbs")]
pub async fn set_message_thumbs(message_id: String, thumbs: String) -> Result<(), AppError> {
    let value = match thumbs.as_str() {
        "up" => Some(1),
        "down" => Some(-1),
        "clear" => None,
        other => {
            return Err(AppError::Invalid {
                field: "thumbs".into(),
                message: format!("'{other}' is not up, down or clear"),
            })
        }
    };
    crate::state::studio()?
        .db()
        .call(move |conn| garden_core::conversations::set_thumbs(conn, &message_id, value))
        .await?;
    Ok(())
}

/// The conversation's satisfaction, 0..1 (empty clears it).
#[server(endpoint = "conversations/satisfaction")]
pub async fn set_conversation_satisfaction(
    conversation_id: String,
    satisfaction: String,
) -> Result<(), AppError> {
    let value = match satisfaction.trim() {
        "" => None,
        s => Some(s.parse::<f64>().ok().filter(|v| (0.0..=1.0).contains(v)).ok_or_else(|| {
            AppError::Invalid {
                field: "satisfaction".into(),
                message: format!("'{s}' is not a number from 0 to 1"),
            }
        })?),
    };
    crate::state::studio()?
        .db()
        .call(move |conn| garden_core::conversations::set_satisfaction(conn, &conversation_id, value))
        .await?;
    Ok(())
}
