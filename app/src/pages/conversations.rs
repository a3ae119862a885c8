//! The conversation history: search, filter by source and rating, and page through it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::conversations::list_conversations;
use crate::components::empty::EmptyNote;
use crate::components::ErrorBox;
use crate::format;
use crate::model::ConversationPage;

/// The conversation history the database holds.
#[component]
pub fn ConversationsPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.read().get(k).filter(|v| !v.trim().is_empty());
    let search = move || param("q");
    let source = move || param("source");
    let rating = move || param("rating");
    let offset = move || query.read().get("offset").and_then(|o| o.parse::<u32>().ok());
    let page = Resource::new(
        move || (search(), source(), rating(), offset()),
        |(q, s, r, o)| list_conversations(q, s, r, o),
    );

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
                <select name="rating" aria-label="Rating">
                    {[("", "Any rating"), ("rated", "Rated"), ("unrated", "Unrated"), ("positive", "Positive (> 0.5)"), ("negative", "Negative (< 0.5)")]
                        .into_iter()
                        .map(|(v, label)| view! { <option value=v selected=move || rating().as_deref().unwrap_or("") == v>{label}</option> })
                        .collect_view()}
                </select>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let sources = page.await.map(|p| p.sources).unwrap_or_default();
                        view! {
                            <select name="source" aria-label="Source">
                                <option value="">"Any source"</option>
                                {sources.into_iter().map(|s| {
                                    let selected = source().as_deref() == Some(s.as_str());
                                    view! { <option value=s.clone() selected=selected>{s.clone()}</option> }
                                }).collect_view()}
                            </select>
                        }
                    })}
                </Transition>
                <button type="submit" class="button">"Search"</button>
            </div>
        </form>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let searched = search().or(source()).or(rating());
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
                    <p>"No conversation matches the search and filters. " <a href="/conversations">"Show all"</a></p>
                </div>
            }
            .into_any(),
            None => view! {
                <div class="empty" id="empty-state">
                    <h2>"No conversations yet"</h2>
                    <EmptyNote what="conversations">
                        "This list shows the conversations garden-eden can learn from. They come from "
                        "your assistant's history (Garden of Eden V3, Open WebUI, ChatGPT exports) once "
                        <a href="/import">"imported"</a>
                        ", and from chats held in "<a href="/chat">"Chat"</a>". Each keeps the thumbs and "
                        "satisfaction you gave, which decide what goes into training."
                    </EmptyNote>
                    <p><a class="button" href="/import">"Import your history"</a></p>
                </div>
            }
            .into_any(),
        };
    }
    let first = page.offset as i64 + 1;
    let last = page.offset as i64 + page.items.len() as i64;
    let q = page_query();
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
                            <tr data-id=c.id.clone()>
                                <td><a href=format!("/conversations/{}", c.id)>{title}</a></td>
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

/// The current search and filters as `&k=v…`, for the pager links.
fn page_query() -> String {
    let query = use_query_map();
    let q = query.read();
    ["q", "source", "rating"]
        .into_iter()
        .filter_map(|k| q.get(k).filter(|v| !v.is_empty()).map(|v| format!("&{k}={}", format::url_encode(&v))))
        .collect()
}
