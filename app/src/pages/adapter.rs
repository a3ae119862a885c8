//! One adapter's page: its lineage (conversations, or the votes and thumbs its preference data
//! came from, → dataset → run → adapter, with what it taught) and metrics, deploying it to
//! Ollama with live steps, its deployments, the guide's default Modelfile and the "adapter not
//! loading" checks.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::adapters::{check_adapter, get_adapter, ActivateAdapter, DeleteAdapter, DeployAdapter};
use crate::components::ErrorBox;
use crate::format;
use garden_types::adapters::{self as model, AdapterView, LineageRun};

/// One adapter: lineage, metrics, activate, deploy to Ollama with live progress (and why it
/// failed), the guide's default Modelfile, and the "adapter not loading" checks.
#[component]
pub fn AdapterPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let activate = ServerAction::<ActivateAdapter>::new();
    let delete = ServerAction::<DeleteAdapter>::new();
    let deploy = ServerAction::<DeployAdapter>::new();
    // Bumped while a deployment runs (in the browser), so its steps appear as they happen.
    let tick = RwSignal::new(0u32);
    let adapter = Resource::new(
        move || (id(), activate.version().get(), deploy.version().get(), tick.get()),
        |(id, _, _, _)| get_adapter(id),
    );
    let checks = Resource::new(
        move || (id(), query.read().get("check").is_some()),
        |(id, wanted)| async move { if wanted { Some(check_adapter(id).await) } else { None } },
    );
    poll_while_running(adapter, tick);
    view! {
        <p><a href="/adapters">"← Adapters"</a></p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match adapter.await {
                    Ok(v) => view! { <Detail v activate delete deploy /> }.into_any(),
                    Err(error) => view! { <Title text="Adapter" /><ErrorBox error /> }.into_any(),
                }
            })}
        </Transition>
        <section class="card" id="troubleshoot">
            <div class="card-head">
                <h2>"Troubleshoot: adapter not loading?"</h2>
                <a class="button secondary" id="run-checks" href="?check=1">"Run the checks"</a>
            </div>
            <p class="muted">"Each part of a deployment on its own: the files, the base model, the architecture, the Modelfile, Ollama."</p>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match checks.await {
                        None => ().into_any(),
                        Some(Ok(list)) => view! {
                            <ul class="checks" id="checks">
                                {list.into_iter().map(|c| view! {
                                    <li class=if c.ok { "check ok" } else { "check missing" }>
                                        <span class="badge">{if c.ok { "✓" } else { "✗" }}</span>
                                        <span class="check-label">{c.label}</span>
                                        <span class="check-detail">{c.detail}</span>
                                        {c.fix.map(|f| view! { <span class="check-fix">{f}</span> })}
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Some(Err(error)) => view! { <ErrorBox error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Detail(v: AdapterView, activate: ServerAction<ActivateAdapter>, delete: ServerAction<DeleteAdapter>, deploy: ServerAction<DeployAdapter>) -> impl IntoView {
    let a = v.adapter.clone();
    let (id_activate, id_delete, id_deploy, id_download) = (a.id.clone(), a.id.clone(), a.id.clone(), a.id.clone());
    let title = format!("{} {}", a.name, a.version);
    let num = |x: Option<f64>, d: usize| x.map(|x| format!("{x:.d$}")).unwrap_or_else(|| "–".into());
    let running = v.deploying();
    let deploy_error = move || deploy.value().get().and_then(Result::err);
    let other_error = move || activate.value().get().and_then(Result::err).or_else(|| delete.value().get().and_then(Result::err));
    view! {
        <Title text=title.clone() />
        <div class="page-head">
            <h1 id="adapter-title">{title}
                {a.is_active.then(|| view! { <span class="badge active-badge" id="active-badge">"active"</span> })}
            </h1>
            <div class="inline-form">
                {(!a.is_active).then(move || view! {
                    <ActionForm action=activate>
                        <input type="hidden" name="id" value=id_activate />
                        <button type="submit" class="button" id="activate">"Activate this version"</button>
                    </ActionForm>
                    <ActionForm action=delete>
                        <input type="hidden" name="id" value=id_delete />
                        <button type="submit" class="button secondary" id="delete">"Remove from the registry"</button>
                    </ActionForm>
                })}
            </div>
        </div>
        {move || other_error().map(|error| view! { <ErrorBox error /> })}
        {(!a.description.is_empty()).then(|| view! { <p class="lede">{a.description.clone()}</p> })}
        <div class="grid-2">
            <section class="card" id="lineage">
                <h2>"Where it came from"</h2>
                <ol class="lineage">
                    {match &v.dataset {
                        Some(d) if d.format == "pairs" => view! {
                            <li id="lineage-judgements">{format!("{} side-by-side votes and {} rated answers, judged by you", d.votes, d.rated_answers)}</li>
                            <li>"Pairs dataset " <a href="/datasets">{d.name.clone()}</a>{format!(" · {} pairs", d.examples)}</li>
                        }.into_any(),
                        Some(d) if d.format == "kto" => view! {
                            <li id="lineage-judgements">{format!("{} conversations with answers rated up or down", d.conversations)}</li>
                            <li>"KTO dataset " <a href="/datasets">{d.name.clone()}</a>{format!(" · {} rated answers", d.examples)}</li>
                        }.into_any(),
                        Some(d) => view! {
                            <li>{format!("{} conversations passed the filter", d.conversations)}</li>
                            <li>"Dataset " <a href="/datasets">{d.name.clone()}</a>
                                {format!(" · {} examples · satisfaction {}", d.examples, num(d.avg_satisfaction, 2))}</li>
                        }.into_any(),
                        None => view! { <li class="muted">"No dataset recorded (registered by hand)"</li> }.into_any(),
                    }}
                    {v.run.clone().map(|r| view! {
                        <li>"Run " <a href=format!("/runs/{}", r.id)>{r.name}</a> {format!(" ({})", r.status)}</li>
                    })}
                    <li><strong>{format!("Adapter {}", a.version)}</strong>
                        <span class="muted" id="adapter-stage" data-stage=a.stage.as_str()>{format!(" · {}", a.stage.label())}</span>
                        {v.parent.clone().map(|p| view! { <span class="muted">{format!(" (after {})", p.version)}</span> })}</li>
                    <li>{format!("{} deployment(s)", v.deployments.len())}</li>
                </ol>
                {v.run.as_ref().and_then(LineageRun::base_precision_note).map(|note| view! { <p class="muted" id="base-precision">{note}</p> })}
                {(!v.activations.is_empty()).then(|| view! {
                    <h3>"Activations"</h3>
                    <ul class="plain" id="activations">
                        {v.activations.iter().map(|x| view! {
                            <li>{format!("{} · {}", format::datetime_utc(x.activation.at), x.describe(&a.id))}</li>
                        }).collect_view()}
                    </ul>
                })}
            </section>
            <section class="card" id="metrics">
                <h2>"Metrics"</h2>
                <dl class="paths">
                    <dt>"Training loss"</dt><dd>{num(a.metrics.training_loss, 4)}</dd>
                    <dt>"Eval loss"</dt><dd>{num(a.metrics.eval_loss, 4)}</dd>
                    <dt>"Perplexity"</dt><dd>{num(a.metrics.perplexity, 2)}</dd>
                    <dt>"Avg satisfaction"</dt><dd>{num(a.metrics.avg_satisfaction, 2)}</dd>
                    <dt>"Conversations"</dt><dd>{a.metrics.total_conversations.map(|n| n.to_string()).unwrap_or_else(|| "–".into())}</dd>
                    <dt>"Base model"</dt><dd>{a.base_model.clone()}</dd>
                    <dt>"LoRA"</dt><dd>{format!("rank {} · alpha {} · {}", a.rank, a.alpha, a.target_modules.join(", "))}</dd>
                    <dt>"Folder"</dt><dd class="path">{a.path.clone()}</dd>
                    <dt>"Checksum"</dt><dd class="path">{format!("sha256:{}", a.checksum)}</dd>
                </dl>
            </section>
        </div>
        <section class="card" id="deploy">
            <h2>"Deploy to Ollama"</h2>
            <p class="muted">{format!(
                "garden-eden asks Ollama at {} for its version: before 0.34.1 the adapter goes up as a GGUF LoRA layer on its base; \
                 0.34.1 and later refuse adapters, so the adapter is merged into its base and imported as one model. \
                 Then it sends the test prompt \u{201c}Hello, how are you?\u{201d}.", v.ollama_url)}</p>
            <ActionForm action=deploy attr:class="stack" attr:id="deploy-form">
                <input type="hidden" name="id" value=id_deploy />
                <div class="row">
                    <label>"Model name in Ollama" <input name="model_name" value=v.default_model_name.clone() /></label>
                    <label>"Route"
                        <select name="route">
                            <option value="auto" selected>"Auto (by Ollama's version)"</option>
                            <option value="merged">"Merged model"</option>
                            <option value="adapter">"Base + adapter layer (Ollama before 0.34.1)"</option>
                        </select>
                    </label>
                    <label>"Quantize (merged route)"
                        <select name="quantize">
                            <option value="" selected>"No (keep the base's precision)"</option>
                            <option value="q8_0">"q8_0"</option>
                            <option value="q4_K_M">"q4_K_M"</option>
                        </select>
                    </label>
                </div>
                <label>"System prompt" <textarea name="system" rows="3">{v.default_system.clone()}</textarea></label>
                <div><button type="submit" class="button" id="deploy-button" disabled=running>
                    {if running { "Deploying…" } else { "Deploy" }}</button></div>
            </ActionForm>
            {move || deploy_error().map(|error| view! { <ErrorBox error /> })}
            {running.then(|| view! { <noscript><meta http-equiv="refresh" content="2" /></noscript> })}
            <ol class="deployments plain" id="deployments">
                {v.deployments.into_iter().map(|d| view! { <Deployment d /> }).collect_view()}
            </ol>
        </section>
        <section class="card" id="modelfile">
            <div class="card-head">
                <h2>"Modelfile"</h2>
                <a class="button secondary" id="download-modelfile" href=format!("/adapters/{id_download}/Modelfile") download="Modelfile">"Download"</a>
            </div>
            <pre class="sample" tabindex="0" id="modelfile-text">{v.modelfile}</pre>
            <p class="muted">{v.modelfile_note}</p>
        </section>
    }
}

#[component]
fn Deployment(d: model::Deployment) -> impl IntoView {
    view! {
        <li class="deployment" data-status=d.status.as_str() data-strategy=d.strategy.as_str()>
            <div class="card-head">
                <strong>{d.model_name.clone()}</strong>
                <span class=format!("status {}", d.status)>{d.status.as_str()}</span>
            </div>
            <p class="summary">{format!(
                "{} · {} route{} · {}",
                d.target,
                d.strategy,
                d.ollama_version.as_ref().map(|v| format!(" · Ollama {v}")).unwrap_or_default(),
                format::datetime_utc(d.created_at)
            )}</p>
            <ol class="steps">
                {d.progress.iter().map(|p| view! { <li>{p.clone()}</li> }).collect_view()}
            </ol>
            {d.error.clone().map(|e| view! {
                <div class="error-box why" role="alert">
                    <strong>"Why it failed"</strong>
                    <p>{e}</p>
                    {d.hint.clone().map(|h| view! { <p class="hint"><strong>"What to do: "</strong>{h}</p> })}
                </div>
            })}
            {d.test_answer.clone().map(|ans| view! {
                <div class="test">
                    <p class="muted">{format!("Test prompt: {}", d.test_prompt.clone().unwrap_or_default())}</p>
                    <blockquote class="test-answer">{ans}</blockquote>
                </div>
            })}
        </li>
    }
}

/// In the browser: while a deployment runs, refetch the adapter every 700 ms.
#[allow(unused_variables)]
fn poll_while_running(adapter: Resource<Result<AdapterView, crate::error::AppError>>, tick: RwSignal<u32>) {
    #[cfg(feature = "hydrate")]
    {
        let handle = set_interval_with_handle(
            move || {
                let running = adapter.get_untracked().and_then(Result::ok).is_some_and(|v| v.deploying());
                if running {
                    tick.update(|t| *t += 1);
                }
            },
            std::time::Duration::from_millis(700),
        );
        if let Ok(h) = handle {
            on_cleanup(move || h.clear());
        }
    }
}
