//! Server functions for the conversation history: the searchable list, one conversation, and its
//! ratings. Each calls `garden_core::conversations`.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{ConversationDetail, ConversationPage};

/// A page of the conversation history, newest first.
#[server(endpoint = "conversations/list")]
pub async fn list_conversations(
    search: Option<String>,
    source: Option<String>,
    rating: Option<String>,
    offset: Option<u32>,
) -> Result<ConversationPage, AppError> {
    let studio = crate::state::studio()?;
    Ok(garden_core::conversations::page(&studio, search, source, rating.as_deref(), offset).await?)
}

/// One conversation with its messages and feedback.
#[server(endpoint = "conversations/get")]
pub async fn get_conversation(id: String) -> Result<ConversationDetail, AppError> {
    Ok(garden_core::conversations::view(&crate::state::studio()?, id).await?)
}

/// Thumbs up / down / clear on one answer.
#[server(endpoint = "conversations/thumbs")]
pub async fn set_message_thumbs(message_id: String, thumbs: String) -> Result<(), AppError> {
    Ok(garden_core::conversations::rate_message(&crate::state::studio()?, message_id, &thumbs).await?)
}

/// The conversation's satisfaction, 0..1 (empty clears it).
#[server(endpoint = "conversations/satisfaction")]
pub async fn set_conversation_satisfaction(conversation_id: String, satisfaction: String) -> Result<(), AppError> {
    Ok(garden_core::conversations::rate_conversation(&crate::state::studio()?, conversation_id, &satisfaction).await?)
}
