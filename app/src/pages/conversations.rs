use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::conversations::list_conversations;
use crate::components::ErrorBox;
use crate::format;
use crate::model::ConversationPage;

/// The conversation history the database holds.
#[component]
pub fn ConversationsPage() -> impl IntoView {
    let query = use_query_map();
    let search = move || query.read().get("q").filter(|q| !q.trim().is_empty());
    let offset = move || query.read().get("offset").and_then(|o| o.parse::<u32>().ok());
    let page = Resource::new(move || (search(), offset()), |(s, o)| list_conversations(s, o));

    view! {
        <Title text="Conversations" />
        <h1>"Conversations"</h1>
        <p class="lede">
            "Everything garden-eden learns from: your conversations with your assistant and the "
            "feedback you gave on them."
        </p>
        <form method="get" action="/conversations">
            <div class="toolbar">
                <input
                    type="search"
                    name="q"
                    aria-label="Search conversations"
                    placeholder="Search titles and messages"
                    prop:value=move || search().unwrap_or_default()
                />
                <button type="submit" class="button">"Search"</button>
            </div>
        </form>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let searched = search();
                match page.await {
                    Ok(page) => view! { <ConversationTable page searched /> }.into_any(),
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ConversationTable(page: ConversationPage, searched: Option<String>) -> impl IntoView {
    if page.total == 0 {
        return match searched {
            Some(q) => view! {
                <div class="empty" id="empty-state">
                    <h2>"Nothing matches “"{q}"”"</h2>
                    <p>"No title or message contains that text. " <a href="/conversations">"Show all"</a></p>
                </div>
            }
            .into_any(),
            None => view! {
                <div class="empty" id="empty-state">
                    <h2>"No conversations yet"</h2>
                    <p>
                        "This list shows the conversations garden-eden can learn from. They come from "
                        "your assistant's history (Garden of Eden V3, Open WebUI, ChatGPT exports) once "
                        "imported, and from chats held here. Each keeps the thumbs and satisfaction you "
                        "gave, which decide what goes into training."
                    </p>
                </div>
            }
            .into_any(),
        };
    }
    let first = page.offset as i64 + 1;
    let last = page.offset as i64 + page.items.len() as i64;
    let q = searched.map(|q| format!("&q={}", encode_query(&q))).unwrap_or_default();
    let prev = (page.offset > 0)
        .then(|| format!("?offset={}{q}", page.offset.saturating_sub(page.limit)));
    let next = (last < page.total).then(|| format!("?offset={}{q}", page.offset + page.limit));
    view! {
        <p class="summary" id="conversation-count">
            {format!("{first}–{last} of {}", page.total)}
        </p>
        <table class="table">
            <thead>
                <tr>
                    <th>"Title"</th>
                    <th>"Source"</th>
                    <th class="num">"Messages"</th>
                    <th class="num">"Satisfaction"</th>
                    <th>"Started"</th>
                </tr>
            </thead>
            <tbody>
                {page
                    .items
                    .into_iter()
                    .map(|c| {
                        let title = if c.title.trim().is_empty() { "(untitled)".to_owned() } else { c.title };
                        view! {
                            <tr data-id=c.id>
                                <td>{title}</td>
                                <td><span class="tag">{c.source}</span></td>
                                <td class="num">{c.message_count}</td>
                                <td class="num">{format::satisfaction(c.satisfaction)}</td>
                                <td>{format::datetime_utc(c.created_at)}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        <nav class="pager" aria-label="Pages">
            {prev.map(|href| view! { <a href=href rel="prev">"← Newer"</a> })}
            {next.map(|href| view! { <a href=href rel="next">"Older →"</a> })}
        </nav>
    }
    .into_any()
}

/// Percent-encodes a query value.
fn encode_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
