//! The datasets page: every export with its counts, format, files and lineage.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::datasets::list_datasets;
use crate::components::empty::EmptyNote;
use crate::components::ErrorBox;
use crate::format;
use crate::model::DatasetView;

/// Every exported dataset with its metadata.
#[component]
pub fn DatasetsPage() -> impl IntoView {
    let query = use_query_map();
    let created = move || query.read().get("created");
    let datasets = Resource::new(created, |_| list_datasets());
    view! {
        <Title text="Datasets" />
        <div class="page-head">
            <h1>"Datasets"</h1>
            <a class="button" href="/datasets/new">"New dataset"</a>
        </div>
        <p class="lede">
            "Training data exported from your conversations. Each folder holds the data, a "
            "dataset_info.json that LLaMA-Factory reads, and a .meta.json with what is below."
        </p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let created = created();
                match datasets.await {
                    Ok(rows) if rows.is_empty() => view! {
                        <div class="empty" id="empty-state">
                            <h2>"No datasets yet"</h2>
                            <EmptyNote what="datasets">
                                "A dataset is the training data built from your conversations: "
                                <a href="/datasets/new">"choose which conversations to train on, check a preview, and export"</a>
                                ". No conversations yet? " <a href="/import">"Import your history first"</a>"."
                            </EmptyNote>
                            <p><a class="button" href="/datasets/new">"Build your first dataset"</a></p>
                        </div>
                    }.into_any(),
                    Ok(rows) => rows.into_iter().map(|d| {
                        let fresh = created.as_deref() == Some(d.id.as_str());
                        view! { <DatasetCard d fresh /> }
                    }).collect_view().into_any(),
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn DatasetCard(d: DatasetView, fresh: bool) -> impl IntoView {
    let class = if fresh { "card dataset fresh" } else { "card dataset" };
    view! {
        <section class=class data-id=d.id.clone() data-name=d.name.clone()>
            <div class="card-head">
                <h2>{d.name.clone()}</h2>
                <span class="tag">{d.format.clone()}</span>
            </div>
            {fresh.then(|| view! { <p class="notice" role="status">"Exported."</p> })}
            <p class="summary">
                {format!(
                    "{} examples ({} train, {} validation) · average satisfaction {} · {}",
                    d.examples, d.examples - d.validation, d.validation,
                    format::satisfaction(d.avg_satisfaction), format::datetime_utc(d.created_at)
                )}
            </p>
            <p class="muted">
                {if d.filter.is_empty() { "No filter.".to_owned() } else { format!("Filter: {}.", d.filter.join(", ")) }}
            </p>
            <ol class="steps">
                {d.steps.into_iter().map(|(label, n)| view! { <li><span class="num">{n}</span>" "{label}</li> }).collect_view()}
            </ol>
            <dl class="paths">
                <dt>"Data"</dt><dd class="path">{d.path}</dd>
                {d.validation_path.map(|p| view! { <dt>"Validation"</dt><dd class="path">{p}</dd> })}
                <dt>"dataset_info.json"</dt><dd class="path">{d.dataset_info}</dd>
                <dt>"sha256"</dt><dd class="path">{d.sha256}</dd>
            </dl>
        </section>
    }
}
