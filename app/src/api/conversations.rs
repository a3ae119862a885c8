use leptos::prelude::*;

use crate::error::AppError;
use crate::model::ConversationPage;

/// A page of the conversation history, newest first.
#[server(endpoint = "conversations/list")]
pub async fn list_conversations(
    search: Option<String>,
    offset: Option<u32>,
) -> Result<ConversationPage, AppError> {
    use garden_core::conversations::{self, ListQuery, DEFAULT_PAGE};
    let studio = crate::state::studio()?;
    let query = ListQuery {
        search,
        limit: Some(DEFAULT_PAGE),
        offset,
    };
    let offset = query.offset.unwrap_or(0);
    let page = studio
        .db()
        .call(move |conn| conversations::list(conn, &query))
        .await?;
    Ok(ConversationPage {
        items: page.items.into_iter().map(Into::into).collect(),
        total: page.total,
        offset,
        limit: DEFAULT_PAGE,
    })
}
