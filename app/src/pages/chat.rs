//! The chat page: talk to a model (the experiment's pick, the active adapter's model, or one you
//! choose), answers streaming in, thumbs on each answer and a satisfaction for the conversation.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::chat::{load_chat, AddModel, RemoveModel, SendChat};
use crate::api::conversations::{SetConversationSatisfaction, SetMessageThumbs};
use crate::components::live::LiveAnswer;
use crate::components::empty::EmptyNote;
use crate::components::ErrorBox;
use crate::format;
use crate::model::ChatView;
use crate::pages::conversation::ConversationBody;

/// Talk to the active adapter's model (or any configured one), streamed; thumbs on each answer
/// and a satisfaction for the conversation. Every conversation is stored with the model that
/// answered: new training data and A/B evidence.
#[component]
pub fn ChatPage() -> impl IntoView {
    let query = use_query_map();
    let conversation = move || query.read().get("c");
    let send = ServerAction::<SendChat>::new();
    let thumbs = ServerAction::<SetMessageThumbs>::new();
    let satisfaction = ServerAction::<SetConversationSatisfaction>::new();
    let add = ServerAction::<AddModel>::new();
    let remove = ServerAction::<RemoveModel>::new();
    let refresh = RwSignal::new(0u32);
    let data = Resource::new(
        move || (conversation(), send.version().get(), thumbs.version().get(), satisfaction.version().get(), add.version().get(), remove.version().get(), refresh.get()),
        |(c, ..)| load_chat(c),
    );
    let errors = move || {
        [send.value().get().and_then(Result::err), add.value().get().and_then(Result::err), remove.value().get().and_then(Result::err)]
            .into_iter()
            .flatten()
            .next()
    };
    view! {
        <Title text="Chat" />
        <div class="page-head">
            <h1>"Chat"</h1>
            <a class="button secondary" href="/chat" id="new-chat">"New conversation"</a>
        </div>
        {move || errors().map(|error| view! { <ErrorBox error /> })}
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(v) => view! { <ChatBody v send thumbs satisfaction add remove refresh /> }.into_any(),
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ChatBody(
    v: ChatView,
    send: ServerAction<SendChat>,
    thumbs: ServerAction<SetMessageThumbs>,
    satisfaction: ServerAction<SetConversationSatisfaction>,
    add: ServerAction<AddModel>,
    remove: ServerAction<RemoveModel>,
    refresh: RwSignal<u32>,
) -> impl IntoView {
    let conversation_id = v.conversation.as_ref().map(|c| c.summary.id.clone());
    let busy = v.pending.as_ref().is_some_and(|p| !p.done);
    let on_done = Callback::new(move |()| refresh.update(|n| *n += 1));
    let endpoints = v.endpoints.clone();
    let table = v.endpoints.clone();
    let adapters = v.adapters.clone();
    let recent = v.recent.clone();
    let count = v.endpoints.len();
    let no_adapters = v.adapters.is_empty();
    let layout = view! {
        <div class="chat-layout">
            <aside class="card chat-side">
                <h2>"Recent"</h2>
                {recent.is_empty().then(|| view! {
                    <EmptyNote what="chats">"No chats yet: " <a href="#chat-input">"send a message"</a> " and the conversation appears here, ready to rate."</EmptyNote>
                })}
                <ul class="plain" id="recent-chats">
                    {recent.into_iter().map(|r| view! {
                        <li><a href=format!("/chat?c={}", r.id)>{if r.title.is_empty() { "(untitled)".to_string() } else { r.title }}</a>
                            <span class="muted">{format!(" {}", format::satisfaction(r.satisfaction))}</span></li>
                    }).collect_view()}
                </ul>
            </aside>
            <section class="chat-main">
                {match (&v.conversation, &v.experiment) {
                    (None, Some(e)) => view! { <p class="notice" id="chat-target">{format!("A/B experiment \u{201c}{e}\u{201d} is running: each new conversation goes to one of its two models, chosen at random and kept for the whole conversation.")}</p> }.into_any(),
                    (None, None) => view! { <p class="notice" id="chat-target">{format!("New conversations talk to {}.", v.default_target)}</p> }.into_any(),
                    (Some(_), _) => view! {
                        <p class="summary" id="chat-model" data-arm=v.arm.map(|a| a.as_str()).unwrap_or_default()>
                            {if v.arm.is_some() { "Answered by one of the experiment's models (hidden until the experiment ends)".to_string() }
                             else { format!("Answered by {}", v.conversation_endpoint.clone().unwrap_or_else(|| "a removed model".into())) }}
                        </p>
                    }.into_any(),
                }}
                {v.conversation.clone().map(|mut c| {
                    // Blind while its experiment runs: which model answered is not shown.
                    if v.arm.is_some() {
                        c.messages.iter_mut().for_each(|m| m.model = None);
                    }
                    view! { <ConversationBody c thumbs satisfaction /> }.into_any()
                })}
                {v.pending.clone().map(|turn| view! {
                    <div class="message assistant pending" id="pending"><LiveAnswer turn on_done /></div>
                }.into_any())}
                <ActionForm action=send attr:class="stack chat-form" attr:id="chat-form">
                    <input type="hidden" name="conversation_id" value=conversation_id.clone().unwrap_or_default() />
                    {conversation_id.is_none().then(|| view! {
                        <label>"Model"
                            <select name="endpoint_id" id="endpoint-select">
                                <option value="" selected>"Default (see above)"</option>
                                {endpoints.iter().map(|e| view! { <option value=e.id.clone()>{format!("{} · {} at {}", e.name, e.model, e.url)}</option> }).collect_view()}
                            </select>
                        </label>
                        {endpoints.is_empty().then(|| view! {
                            <EmptyNote what="models">
                                "No models yet: " <a href="#add-model">"add a model server"</a> " (Ollama, llama.cpp or any OpenAI-compatible one), or "
                                <a href="/adapters">"deploy an adapter"</a> " to Ollama."
                            </EmptyNote>
                        })}
                    })}
                    <label>"Message" <textarea name="text" rows="3" required placeholder="Say something…" id="chat-input"></textarea></label>
                    <div><button type="submit" class="button" id="chat-send" disabled=busy>{if busy { "Answering…" } else { "Send" }}</button></div>
                </ActionForm>
            </section>
        </div>
    }
    .into_any();
    let models = view! {
        <details class="card" id="models">
            <summary>{format!("Models to talk to ({count})")}</summary>
            {(count == 0).then(|| view! {
                <EmptyNote what="model-servers">"No model servers yet: add one below, or " <a href="/adapters">"deploy an adapter"</a> " to Ollama and add it here."</EmptyNote>
            })}
            <table class="table" hidden={count == 0}>
                <thead><tr><th>"Name"</th><th>"Server"</th><th>"Model"</th><th></th></tr></thead>
                <tbody>
                    {table.into_iter().map(|e| view! {
                        <tr data-name=e.name.clone()>
                            <td>{e.name.clone()}</td>
                            <td class="path">{format!("{} ({})", e.url, e.kind)}</td>
                            <td>{e.model.clone()}</td>
                            <td><ActionForm action=remove><input type="hidden" name="id" value=e.id />
                                <button type="submit" class="button secondary">"Remove"</button></ActionForm></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <h3>"Add a model server"</h3>
            <p class="muted">"Ollama (http://127.0.0.1:11434, a model name from `ollama list`) or any OpenAI-compatible server: llama.cpp's (python -m llama_cpp.server), vLLM, LM Studio."</p>
            <ActionForm action=add attr:class="stack" attr:id="add-model">
                <div class="row">
                    <label>"Name" <input name="name" required placeholder="tiny + adapter" /></label>
                    <label>"Kind" <select name="kind"><option value="openai">"OpenAI-compatible"</option><option value="ollama">"Ollama"</option></select></label>
                </div>
                <div class="row">
                    <label>"URL" <input name="url" required placeholder="http://127.0.0.1:8080" /></label>
                    <label>"Model" <input name="model" required placeholder="the model name the server knows" /></label>
                </div>
                <label>"Serves adapter (for lineage and experiments)"
                    <select name="adapter_id"><option value="">"None (a base model)"</option>
                        {adapters.into_iter().map(|a| view! { <option value=a.id>{a.label}</option> }).collect_view()}
                    </select>
                </label>
                {no_adapters.then(|| view! {
                    <EmptyNote what="adapters">
                        "No adapters registered yet: " <a href="/train">"train one"</a> ", or "
                        <a href="/adapters#register">"register an adapter folder"</a> "."
                    </EmptyNote>
                })}
                <div><button type="submit" class="button">"Add"</button></div>
            </ActionForm>
        </details>
    }
    .into_any();
    view! { {layout} {models} }
}
