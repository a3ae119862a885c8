//! The export form: filters, curation and format, with a live preview of what would be exported
//! and why each conversation is left out.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::api::datasets::{preview_dataset, ExportDataset};
use crate::components::empty::EmptyNote;
use crate::components::ErrorBox;
use crate::format;
use crate::model::{ExportParams, PreviewView, FORMATS};

/// The settings in the address bar (so a reload, a link or a form without JavaScript all agree).
fn params_from_query() -> impl Fn() -> ExportParams + Copy {
    let query = use_query_map();
    move || {
        let q = query.read();
        let get = |k: &str| q.get(k).filter(|v| !v.is_empty());
        ExportParams {
            format: get("format"),
            min_satisfaction: get("min_satisfaction"),
            min_message_length: get("min_message_length"),
            max_message_length: get("max_message_length"),
            positive_only: get("positive_only"),
            exclude_negative: get("exclude_negative"),
            min_turns: get("min_turns"),
            since: get("since"),
            until: get("until"),
            limit: get("limit"),
            dedupe: get("dedupe"),
            scrub_pii: get("scrub_pii"),
            validation_ratio: get("validation_ratio"),
            seed: get("seed"),
            name: get("name"),
            submitted: get("submitted"),
        }
    }
}

/// The dataset step: choose conversations, curate, see exactly what will be written, export.
#[component]
pub fn NewDatasetPage() -> impl IntoView {
    let params = params_from_query();
    let preview = Resource::new(params, preview_dataset);
    let export = ServerAction::<ExportDataset>::new();
    // With JavaScript, every change submits the form, which updates the address (and so the
    // count) without a page load.
    let changed = move |ev: leptos::ev::Event| {
        use leptos::wasm_bindgen::JsCast;
        let form = ev
            .target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
            .and_then(|el| el.closest("form").ok().flatten())
            .and_then(|f| f.dyn_into::<leptos::web_sys::HtmlFormElement>().ok());
        if let Some(form) = form {
            let _ = form.request_submit();
        }
    };
    let p = params();
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let format_now = p.format.clone().unwrap_or_else(|| "alpaca".into());

    view! {
        <Title text="New dataset" />
        <p><a href="/datasets">"← Datasets"</a></p>
        <h1>"Build a dataset"</h1>
        <p class="lede">
            "Choose which conversations to learn from. The count and the preview follow your choices; "
            "the preview shows the first examples exactly as they will be written."
        </p>
        <div class="dataset-step">
            <Form method="get" action="/datasets/new">
                <div class="card stack filter-form" on:change=changed>
                <h2>"Which conversations"</h2>
                <label>"Minimum satisfaction (0–1)"
                    <input type="number" name="min_satisfaction" min="0" max="1" step="0.05" value=value(&p.min_satisfaction) />
                    <small>"Unrated conversations are left out when this is set."</small>
                </label>
                <label class="check-row"><input type="checkbox" name="positive_only" checked=p.checked(&p.positive_only, false) />
                    "Positive only (satisfaction above 0.5)"</label>
                <label class="check-row"><input type="checkbox" name="exclude_negative" checked=p.checked(&p.exclude_negative, false) />
                    "Leave out negative ones (below 0.5)"</label>
                <label>"At least this many exchanges"
                    <input type="number" name="min_turns" min="1" step="1" value=value(&p.min_turns) /></label>
                <div class="row">
                    <label>"Messages at least (characters)"
                        <input type="number" name="min_message_length" min="0" step="1" value=value(&p.min_message_length) /></label>
                    <label>"at most"
                        <input type="number" name="max_message_length" min="1" step="1" value=value(&p.max_message_length) /></label>
                </div>
                <div class="row">
                    <label>"Since" <input type="date" name="since" value=value(&p.since) /></label>
                    <label>"Until (exclusive)" <input type="date" name="until" value=value(&p.until) /></label>
                </div>
                <label>"At most this many examples"
                    <input type="number" name="limit" min="1" step="1" value=value(&p.limit) /></label>
                <h2>"Curation"</h2>
                <label class="check-row"><input type="checkbox" name="dedupe" checked=p.checked(&p.dedupe, true) />
                    "Remove exact and near duplicates"</label>
                <label class="check-row"><input type="checkbox" name="scrub_pii" checked=p.checked(&p.scrub_pii, true) />
                    "Replace emails, phone numbers, IPs, keys and card numbers"</label>
                <div class="row">
                    <label>"Validation share"
                        <input type="number" name="validation_ratio" min="0" max="0.5" step="0.05" value=p.validation_ratio.clone().unwrap_or_else(|| "0.1".into()) /></label>
                    <label>"Split seed"
                        <input type="number" name="seed" min="0" step="1" value=p.seed.clone().unwrap_or_else(|| "42".into()) /></label>
                </div>
                <h2>"Format"</h2>
                <select name="format" aria-label="Format">
                    {FORMATS.into_iter().map(|(v, label)| {
                        let selected = format_now == v;
                        view! { <option value=v selected=selected>{label}</option> }
                    }).collect_view()}
                </select>
                // Marks a submitted form: from then on an unticked box means "off".
                <input type="hidden" name="submitted" value="1" />
                <button type="submit" class="button secondary" id="update">"Update the count"</button>
                </div>
            </Form>
            <div class="preview">
                <Transition fallback=|| view! { <p class="muted">"Counting…"</p> }>
                    {move || Suspend::new(async move {
                        match preview.await {
                            Ok(v) => view! { <PreviewPane v params=params() export /> }.into_any(),
                            Err(error) => view! { <ErrorBox error /> }.into_any(),
                        }
                    })}
                </Transition>
            </div>
        </div>
    }
}

#[component]
fn PreviewPane(v: PreviewView, params: ExportParams, export: ServerAction<ExportDataset>) -> impl IntoView {
    let pii_total: u64 = v.pii.iter().map(|(_, n)| n).sum();
    let pii_words = v
        .pii
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| format!("{n} {}", k.replace('_', " ")))
        .collect::<Vec<_>>()
        .join(", ");
    let hidden: Vec<(String, String)> = params
        .pairs()
        .into_iter()
        .filter(|(k, _)| *k != "name")
        .map(|(k, v)| (format!("params[{k}]"), v))
        .collect();
    let has_examples = v.written > 0;
    let no_conversations = v.conversations == 0;
    view! {
        <section class="card count-card">
            {no_conversations.then(|| view! {
                <EmptyNote what="conversations">
                    "No conversations to build from yet: " <a href="/import">"import your history, or load the sample history"</a>
                    ", and they appear here."
                </EmptyNote>
            })}
            <p class="big-count">
                <span id="passed-count">{v.passed_filter}</span>
                {format!(" of {} conversations pass", v.conversations)}
            </p>
            <ul class="steps">
                <li><span class="num">{v.examples}</span>" examples built"</li>
                <li><span class="num">{v.exact_duplicates}</span>" exact and "<span class="num">{v.near_duplicates}</span>" near duplicates removed"</li>
                <li><span class="num">{pii_total}</span>" PII replacements"{(!pii_words.is_empty()).then(|| format!(" ({pii_words})"))}</li>
                <li>
                    <strong><span class="num" id="written-count">{v.written}</span>" examples will be written"</strong>
                    {format!(" ({} train, {} validation)", v.train, v.validation)}
                    {v.limited.then_some(" — the limit stopped it")}
                </li>
                <li>{format!("Average satisfaction {}", format::satisfaction(v.avg_satisfaction))}</li>
                <li>{format!(
                    "Length per example: {} to {} characters, {:.0} on average (≈ {:.0} tokens; estimate, 4 characters a token)",
                    v.chars_min, v.chars_max, v.chars_mean, v.chars_mean / 4.0
                )}</li>
            </ul>
            <ActionForm action=export attr:class="inline-form export-form">
                {hidden.into_iter().map(|(k, v)| view! { <input type="hidden" name=k value=v /> }).collect_view()}
                <label>"Name " <input type="text" name="params[name]" placeholder="my-dataset" pattern="[A-Za-z0-9_\\-]+" value=params.name.clone().unwrap_or_default() /></label>
                <button type="submit" class="button" id="export" disabled=!has_examples>"Export"</button>
            </ActionForm>
            {move || export.value().get().and_then(Result::err).map(|error| view! { <ErrorBox error /> })}
        </section>
        <section class="card">
            <h2>{format!("Preview ({})", v.format)}</h2>
            {if v.samples.is_empty() {
                if no_conversations {
                    view! { <p class="muted">"Nothing to preview yet."</p> }.into_any()
                } else {
                    view! { <p class="muted">"No example passes these settings."</p> }.into_any()
                }
            } else {
                v.samples.into_iter().map(|s| view! { <pre class="sample" tabindex="0">{s}</pre> }).collect_view().into_any()
            }}
        </section>
    }
}
