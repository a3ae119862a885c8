//! The adapters page: every version as a timeline, the active one, rollback, runs waiting to be
//! registered, and registering an adapter folder by path.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::adapters::{list_adapters, ActivateAdapter, RegisterAdapter, RegisterRun, RollbackAdapter};
use crate::components::empty::EmptyNote;
use crate::components::ErrorBox;
use crate::format;
use garden_types::adapters::Adapter;

fn num(v: Option<f64>, digits: usize) -> String {
    v.map(|v| format!("{v:.digits$}")).unwrap_or_else(|| "–".into())
}

/// The registry: every version as a timeline with its metrics and lineage, the active badge,
/// activate and rollback, and registering an adapter folder by hand.
#[component]
pub fn AdaptersPage() -> impl IntoView {
    let activate = ServerAction::<ActivateAdapter>::new();
    let rollback = ServerAction::<RollbackAdapter>::new();
    let register_run = ServerAction::<RegisterRun>::new();
    let register = ServerAction::<RegisterAdapter>::new();
    let overview = Resource::new(
        move || (activate.version().get(), rollback.version().get(), register_run.version().get()),
        |_| list_adapters(),
    );
    let action_error = move || {
        [activate.value().get().and_then(Result::err), rollback.value().get().and_then(Result::err), register_run.value().get().and_then(Result::err)]
            .into_iter()
            .flatten()
            .next()
    };
    view! {
        <Title text="Adapters" />
        <div class="page-head">
            <h1>"Adapters"</h1>
            <a class="button secondary" href="/train">"Train a new version"</a>
        </div>
        <p class="lede">
            "Every adapter you trained or brought, versioned. Exactly one is active: it is the one your assistant uses. "
            "Open a version to deploy it to Ollama, see where it came from, or get its Modelfile."
        </p>
        {move || action_error().map(|error| view! { <ErrorBox error /> })}
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(o) => { let runs = o.unregistered_runs.clone(); view! {
                        {o.rollback_to.as_ref().map(Adapter::label).map(|to| view! {
                            <div class="notice">
                                <ActionForm action=rollback>
                                    <button type="submit" class="button secondary" id="rollback">{format!("Roll back to {to}")}</button>
                                </ActionForm>
                            </div>
                        })}
                        {(!runs.is_empty()).then(move || view! {
                            <section class="card" id="unregistered">
                                <h2>"Finished runs not in the registry"</h2>
                                <ul class="plain">
                                    {runs.into_iter().map(|(id, name)| view! {
                                        <li>
                                            <ActionForm action=register_run attr:class="inline-form">
                                                <input type="hidden" name="run_id" value=id />
                                                <span>{name}</span>
                                                <button type="submit" class="button secondary">"Register its adapter"</button>
                                            </ActionForm>
                                        </li>
                                    }).collect_view()}
                                </ul>
                            </section>
                        })}
                        {if o.adapters.is_empty() {
                            view! {
                                <div class="empty" id="empty-state">
                                    <h2>"No adapters yet"</h2>
                                    <EmptyNote what="adapters">
                                        "A " <a href="/train">"training run"</a> " that succeeds registers its adapter here automatically. "
                                        "You can also " <a href="#register">"register an adapter folder"</a> " you trained elsewhere, below."
                                    </EmptyNote>
                                    <p><a class="button" href="/train">"Train an adapter"</a></p>
                                </div>
                            }.into_any()
                        } else {
                            view! {
                                <ol class="timeline" id="adapters">
                                    {o.adapters.into_iter().map(|a| view! { <Version a activate /> }).collect_view()}
                                </ol>
                            }.into_any()
                        }}
                    }.into_any() }
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                }
            })}
        </Transition>
        <details class="card" id="register">
            <summary>"Register an adapter folder"</summary>
            <ActionForm action=register attr:class="stack">
                <label>"Name" <input name="name" required placeholder="eden-personal" /></label>
                <label>"Adapter folder (holds adapter_config.json and adapter_model.safetensors)"
                    <input name="adapter_path" required class="path" placeholder="/home/me/adapters/eden-v1" /></label>
                <div class="row">
                    <label>"Base model (default: the one the adapter names)" <input name="base_model" placeholder="qwen2.5:14b" /></label>
                    <label>"Version (default: next)" <input name="version" placeholder="1.0.0" /></label>
                </div>
                <label>"Base model folder on this machine (for conversion and merging, when the base is an Ollama name)"
                    <input name="base_path" class="path" /></label>
                <label>"Description" <input name="description" /></label>
                <div><button type="submit" class="button">"Check and register"</button></div>
                {move || register.value().get().and_then(Result::err).map(|error| view! { <ErrorBox error /> })}
            </ActionForm>
        </details>
    }
}

#[component]
fn Version(a: Adapter, activate: ServerAction<ActivateAdapter>) -> impl IntoView {
    let href = format!("/adapters/{}", a.id);
    let lineage = match (&a.dataset_id, &a.run_id) {
        (Some(_), Some(run)) => view! { <span>"dataset → " <a href=format!("/runs/{run}")>"run"</a> " → this adapter"</span> }.into_any(),
        (None, Some(run)) => view! { <span><a href=format!("/runs/{run}")>"run"</a> " → this adapter"</span> }.into_any(),
        _ => view! { <span>"registered by hand"</span> }.into_any(),
    };
    view! {
        <li class=if a.is_active { "version card active" } else { "version card" } data-version=a.version.clone() data-name=a.name.clone()
            data-active=a.is_active.to_string() data-format=a.format.as_str()>
            <div class="card-head">
                <h2><a href=href.clone()>{format!("{} {}", a.name, a.version)}</a>
                    {a.is_active.then(|| view! { <span class="badge active-badge">"active"</span> })}
                </h2>
                <span class="muted">{format::datetime_utc(a.created_at)}</span>
            </div>
            <p class="summary">{format!("base {} · rank {} · alpha {} · {} · {}", a.base_model, a.rank, a.alpha, a.target_modules.join(", "), a.format)}</p>
            <dl class="metrics">
                <dt>"Training loss"</dt><dd>{num(a.metrics.training_loss, 4)}</dd>
                <dt>"Eval loss"</dt><dd>{num(a.metrics.eval_loss, 4)}</dd>
                <dt>"Perplexity"</dt><dd>{num(a.metrics.perplexity, 2)}</dd>
                <dt>"Satisfaction"</dt><dd>{num(a.metrics.avg_satisfaction, 2)}</dd>
                <dt>"Conversations"</dt><dd>{a.metrics.total_conversations.map(|n| n.to_string()).unwrap_or_else(|| "–".into())}</dd>
            </dl>
            <div class="inline-form">
                <span class="muted">{lineage}</span>
                {(!a.is_active).then(|| view! {
                    <ActionForm action=activate>
                        <input type="hidden" name="id" value=a.id.clone() />
                        <button type="submit" class="button secondary activate">"Activate"</button>
                    </ActionForm>
                })}
                <a class="button" href=href>"Deploy & details"</a>
            </div>
        </li>
    }
}
