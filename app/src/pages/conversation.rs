//! One conversation: its messages with thumbs on each answer, and its satisfaction.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::conversations::{
    get_conversation, SetConversationSatisfaction, SetMessageThumbs,
};
use crate::components::empty::EmptyNote;
use crate::components::ErrorBox;
use crate::format;
use crate::model::{ConversationDetail, Role};

/// One conversation: its messages, thumbs on each answer, and the conversation's satisfaction.
#[component]
pub fn ConversationPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let thumbs = ServerAction::<SetMessageThumbs>::new();
    let satisfaction = ServerAction::<SetConversationSatisfaction>::new();
    let conversation = Resource::new(
        move || (id(), thumbs.version().get(), satisfaction.version().get()),
        |(id, _, _)| get_conversation(id),
    );
    let action_error = move || {
        thumbs
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| satisfaction.value().get().and_then(Result::err))
    };

    view! {
        <p><a href="/conversations">"← Conversations"</a></p>
        {move || action_error().map(|error| view! { <ErrorBox error /> })}
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match conversation.await {
                    Ok(c) => view! { <ConversationBody c thumbs satisfaction /> }.into_any(),
                    Err(error) => view! { <Title text="Conversation" /><ErrorBox error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn ConversationBody(
    c: ConversationDetail,
    thumbs: ServerAction<SetMessageThumbs>,
    satisfaction: ServerAction<SetConversationSatisfaction>,
) -> impl IntoView {
    let title = if c.summary.title.trim().is_empty() { "(untitled)".to_owned() } else { c.summary.title.clone() };
    let (id_for_save, id_for_clear) = (c.summary.id.clone(), c.summary.id.clone());
    let explicit = c.explicit_satisfaction.map(|s| format!("{s}")).unwrap_or_default();
    let derived = match (c.explicit_satisfaction, c.summary.satisfaction) {
        (Some(_), _) => "set by you (or imported)".to_owned(),
        (None, Some(_)) => "from the thumbs on its answers".to_owned(),
        (None, None) => "not rated yet".to_owned(),
    };
    view! {
        <Title text=title.clone() />
        <h1>{title}</h1>
        <p class="summary">
            <span class="tag">{c.summary.source.clone()}</span>
            {format!(" · {} messages · started {}", c.summary.message_count, format::datetime_utc(c.summary.created_at))}
        </p>
        <section class="card satisfaction-card" aria-label="Satisfaction">
            <div class="card-head">
                <h2>
                    "Satisfaction: "
                    <span id="satisfaction">{format::satisfaction(c.summary.satisfaction)}</span>
                </h2>
                <span class="muted">{derived}</span>
            </div>
            <ActionForm action=satisfaction attr:class="inline-form">
                <input type="hidden" name="conversation_id" value=id_for_save.clone() />
                <label>
                    "Your rating (0 = bad, 1 = great) "
                    <input type="number" name="satisfaction" min="0" max="1" step="0.05" value=explicit />
                </label>
                <button type="submit" class="button">"Save"</button>
            </ActionForm>
            <ActionForm action=satisfaction attr:class="inline-form">
                <input type="hidden" name="conversation_id" value=id_for_clear.clone() />
                <input type="hidden" name="satisfaction" value="" />
                <button type="submit" class="button secondary">"Clear"</button>
            </ActionForm>
        </section>
        {c.messages.is_empty().then(|| view! {
            <EmptyNote what="messages">
                "This conversation has no messages (its source stored none). New conversations are held in "
                <a href="/chat">"Chat"</a> "."
            </EmptyNote>
        })}
        <ol class="messages">
            {c.messages
                .into_iter()
                .map(|m| {
                    let is_answer = m.role == Role::Assistant;
                    let thumbs_class = match m.thumbs {
                        Some(1) => "up",
                        Some(-1) => "down",
                        _ => "none",
                    };
                    let id = m.id.clone();
                    view! {
                        <li class=format!("message {}", m.role.as_str()) data-id=m.id.clone() data-thumbs=thumbs_class>
                            <div class="message-head">
                                <strong>{m.role.as_str()}</strong>
                                <span class="muted">{format::datetime_utc(m.created_at)}</span>
                                {m.model.map(|model| view! { <span class="tag">{model}</span> })}
                            </div>
                            <div class="message-body">{m.content}</div>
                            {is_answer.then(|| view! { <ThumbButtons id thumbs current=m.thumbs /> })}
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}

#[component]
fn ThumbButtons(id: String, thumbs: ServerAction<SetMessageThumbs>, current: Option<i8>) -> impl IntoView {
    view! {
        <div class="thumbs">
            {thumb_button(id.clone(), thumbs, "up", current == Some(1))}
            {thumb_button(id, thumbs, "down", current == Some(-1))}
        </div>
    }
}

fn thumb_button(id: String, thumbs: ServerAction<SetMessageThumbs>, value: &'static str, pressed: bool) -> impl IntoView {
    // Pressing the active thumb again clears it.
    let send = if pressed { "clear" } else { value };
    let label = if value == "up" { "Thumbs up" } else { "Thumbs down" };
    view! {
        <ActionForm action=thumbs attr:class="thumb-form">
            <input type="hidden" name="message_id" value=id.clone() />
            <input type="hidden" name="thumbs" value=send />
            <button type="submit" class=format!("thumb {value}") aria-pressed=pressed.to_string() aria-label=label>
                {if value == "up" { "👍" } else { "👎" }}
            </button>
        </ActionForm>
    }
}
