//! The import page: upload a history file, load the sample, import Garden of Eden V3's database,
//! and the imports so far.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::import::{goe_on_this_machine, list_imports, ImportGoeHere, ImportSample};
use crate::components::empty::EmptyNote;
use crate::components::ErrorBox;
use crate::error::AppError;
use crate::format;
use crate::model::{ImportReport, IMPORT_KINDS};

/// Bringing conversation history in: an upload, or the sample history.
#[component]
pub fn ImportPage() -> impl IntoView {
    let query = use_query_map();
    let done = move || query.read().get("done");
    let upload_error = move || query.read().get("error");
    let sample = ServerAction::<ImportSample>::new();
    let goe = ServerAction::<ImportGoeHere>::new();
    let goe_here = Resource::new(|| (), |_| goe_on_this_machine());
    let imports = Resource::new(move || (sample.version().get(), done()), |_| list_imports());

    view! {
        <Title text="Import" />
        <h1>"Import your history"</h1>
        <p class="lede">
            "Bring in the conversations you had with your assistant, with the feedback you gave. "
            "Importing the same file again adds nothing twice; a file with a problem imports nothing "
            "and says where the problem is."
        </p>
        {move || upload_error().map(|message| view! {
            <ErrorBox error=AppError::Invalid { field: "upload".into(), message } />
        })}
        {move || sample.value().get().and_then(Result::err).map(|error| view! { <ErrorBox error /> })}
        {move || goe.value().get().and_then(Result::err).map(|error| view! { <ErrorBox error /> })}
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                goe_here.await.ok().map(|here| match here.found {
                    Some(path) => view! {
                        <section class="card" id="goe-here">
                            <h2>"Garden of Eden V3 on this machine"</h2>
                            <p>{format!("Its database is at {path}. garden-eden reads it without changing it.")}</p>
                            <ActionForm action=goe>
                                <button type="submit" class="button" id="import-goe">"Import Garden of Eden V3's history"</button>
                            </ActionForm>
                        </section>
                    }.into_any(),
                    None => view! {
                        <p class="muted" id="goe-here">{format!(
                            "Garden of Eden V3's database is not on this machine (looked at {}): upload it below if it is elsewhere.",
                            here.looked.join(" and ")
                        )}</p>
                    }.into_any(),
                })
            })}
        </Transition>
        <div class="grid-2">
            <section class="card" id="from-file">
                <h2>"From a file"</h2>
                <form method="post" action="/import/upload" enctype="multipart/form-data" class="stack">
                    <label>
                        "What is it?"
                        <select name="kind" required>
                            {IMPORT_KINDS
                                .into_iter()
                                .map(|(value, label)| view! { <option value=value>{label}</option> })
                                .collect_view()}
                        </select>
                    </label>
                    <label>
                        "File"
                        <input type="file" name="file" required />
                    </label>
                    <label class="check-row">
                        <input type="checkbox" name="keep" value="on" />
                        "Keep a copy of the file in garden-eden's data folder (otherwise it is deleted once imported; the import keeps its checksum)"
                    </label>
                    <button type="submit" class="button">"Import"</button>
                </form>
            </section>
            <section class="card" id="sample">
                <h2>"No history yet?"</h2>
                <p>
                    "Load a small synthetic history, clearly marked “[sample]”, with thumbs and "
                    "satisfaction already given, and try the whole loop with it."
                </p>
                <ActionForm action=sample>
                    <button type="submit" class="button secondary" id="load-sample">
                        "Load the sample history"
                    </button>
                </ActionForm>
            </section>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let done = done().or_else(|| sample.value().get().and_then(Result::ok).map(|r| r.id));
                match imports.await {
                    Ok(rows) => view! { <ImportList rows done /> }.into_any(),
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ImportList(rows: Vec<ImportReport>, done: Option<String>) -> impl IntoView {
    let latest = done.and_then(|id| rows.iter().find(|r| r.id == id).cloned());
    view! {
        {latest.map(|r| {
            let (stored, skipped) = (r.stored, r.skipped);
            view! {
                <div class="notice" id="import-result" role="status">
                    <strong>{format!(
                        "Imported {} conversation{} ({} messages, {} ratings)",
                        stored.conversations, if stored.conversations == 1 { "" } else { "s" }, stored.messages, stored.ratings
                    )}</strong>
                    {(stored.already > 0).then(|| format!("; {} were already here", stored.already))}
                    {(!skipped.is_empty()).then(|| view! {
                        <details>
                            <summary>{format!("{} rows skipped", skipped.len())}</summary>
                            <ul>{skipped.into_iter().map(|s| view! { <li><code>{s.place}</code>": "{s.reason}</li> }).collect_view()}</ul>
                        </details>
                    })}
                    <p><a href="/conversations">"See the conversations"</a>" · "<a href="/datasets/new">"Build a dataset"</a></p>
                </div>
            }
        })}
        <h2>"Past imports"</h2>
        {if rows.is_empty() {
            view! {
                <EmptyNote what="imports">
                    "Nothing imported yet: " <a href="#from-file">"upload a history file"</a> " or "
                    <a href="#sample">"load the sample history"</a> " above."
                </EmptyNote>
            }.into_any()
        } else {
            view! {
                <table class="table" id="imports">
                    <thead><tr><th>"When"</th><th>"Kind"</th><th>"From"</th><th class="num">"Added"</th><th class="num">"Already here"</th><th class="num">"Skipped"</th></tr></thead>
                    <tbody>
                        {rows.into_iter().map(|r| view! {
                            <tr>
                                <td>{format::datetime_utc(r.created_at)}</td>
                                <td><span class="tag">{r.kind}</span></td>
                                <td class="path">{r.path}</td>
                                <td class="num">{r.stored.conversations}</td>
                                <td class="num">{r.stored.already}</td>
                                <td class="num">{r.skipped.len()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
    }
}
