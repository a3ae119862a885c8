//! The training wizard: what to learn from (a stage offered only when its data exists) and the
//! dataset, base model, LoRA and precision, schedule (and a preference stage's loss and β), the
//! plan reviewed (the stage's counts, memory, time, the YAML), then Train.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::api::datasets::{list_datasets, ExportForStage};
use crate::api::health::get_health;
use crate::api::runs::{extra_installs, list_clusters, mlx_available, plan_run, stage_options, AddCluster, InstallExtra, StartRun};
use crate::components::empty::EmptyNote;
use crate::components::ErrorBox;
use crate::format::url_encode;
use crate::model::{DatasetView, ExtraStatus, TrainParams};
use garden_types::prefs::{PrefLoss, Stage, StageData};

/// Well-known Ollama tags and the Hugging Face models they correspond to.
const OLLAMA_TAGS: [(&str, &str); 5] = [
    ("qwen2.5:7b", "Qwen/Qwen2.5-7B-Instruct"),
    ("qwen2.5:14b", "Qwen/Qwen2.5-14B-Instruct"),
    ("qwen2.5:32b", "Qwen/Qwen2.5-32B-Instruct"),
    ("qwen2.5:3b", "Qwen/Qwen2.5-3B-Instruct"),
    ("qwen2.5:1.5b", "Qwen/Qwen2.5-1.5B-Instruct"),
];

/// The guide's base model: Ollama's qwen2.5:14b.
const DEFAULT_MODEL: &str = "Qwen/Qwen2.5-14B-Instruct";

/// The base model's precision, with what each means.
const PRECISIONS: [(&str, &str); 4] = [
    ("auto", "Choose for my GPU (recommended): full precision when it fits with margin, otherwise 4-bit"),
    ("none", "Full (bf16/fp16): the best quality and the most memory (a 14B model's weights alone are about 30 GB)"),
    ("8", "8-bit: about half the memory of full precision, slower to train"),
    ("4", "4-bit (QLoRA): about a quarter of the memory; how the guide fits 14B on a 16–24 GB GPU"),
];

/// GPUs to plan for besides this machine's own.
const TARGETS: [&str; 7] = ["8", "12", "16", "24", "48", "80", "141"];

/// `a=1&b=x%20y`: the wizard's address with some fields changed (a suggestion applied).
fn query_with(p: &TrainParams, changes: Vec<(&'static str, String)>, step: u32) -> String {
    let mut fields: Vec<(String, String)> = p.pairs().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    for (k, v) in changes {
        fields.retain(|(key, _)| key != k);
        fields.push((k.to_owned(), v));
    }
    fields.retain(|(k, _)| k != "adjust");
    fields.push(("step".into(), step.to_string()));
    fields.iter().map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v))).collect::<Vec<_>>().join("&")
}

const STEPS: [&str; 7] = ["Environment", "Data", "Base model", "LoRA", "Training", "Review", "Train"];

fn params_from_query() -> impl Fn() -> TrainParams + Copy {
    let query = use_query_map();
    move || {
        let q = query.read();
        TrainParams::from_pairs(TrainParams::FIELDS.into_iter().filter_map(|k| q.get(k).filter(|v| !v.is_empty()).map(|v| (k, v))))
    }
}

/// Training, step by step. Every choice lives in the address, so a reload keeps it.
#[component]
pub fn TrainPage() -> impl IntoView {
    let params = params_from_query();
    // A dataset exported from the data step (a preference stage's judgements) is listed at once.
    let export = ServerAction::<ExportForStage>::new();
    let datasets = Resource::new(move || export.version().get(), |_| list_datasets());
    let options = Resource::new(move || export.version().get(), |_| stage_options());
    let plan = Resource::new(params, |p| async move {
        if p.dataset_id.is_none() && p.stage.is_none() { None } else { Some(plan_run(p).await) }
    });
    let start = ServerAction::<StartRun>::new();
    let query = use_query_map();
    let step = move || query.read().get("step").and_then(|s| s.parse::<usize>().ok()).unwrap_or(1).clamp(1, 6);
    let health = Resource::new(|| (), |_| get_health(false));
    let add_cluster = ServerAction::<AddCluster>::new();
    let clusters = Resource::new(move || add_cluster.version().get(), |_| list_clusters());
    let mlx = Resource::new(|| (), |_| mlx_available());
    let p = params();
    let value = |v: &Option<String>, d: &str| v.clone().unwrap_or_else(|| d.to_owned());
    // The guide's scenario by default: Qwen 2.5 14B (Ollama's qwen2.5:14b).
    let tiny = p.model_kind.as_deref() == Some("tiny");
    view! {
        <Title text="Train" />
        <h1>"Train an adapter"</h1>
        <p class="lede">
            "Seven steps from your data to a LoRA adapter. Each choice stays in the address, so a "
            "reload or a shared link keeps it. Training needs LLaMA-Factory, and a GPU for real models."
        </p>
        <ol class="wizard-steps">
            {STEPS.into_iter().enumerate().map(|(i, label)| {
                let n = i + 1;
                let class = move || match step().cmp(&n) { std::cmp::Ordering::Equal => "current", std::cmp::Ordering::Greater => "done", std::cmp::Ordering::Less => "" };
                view! { <li class=class>{format!("{n} · {label}")}</li> }
            }).collect_view()}
        </ol>
        <Form method="get" action="/train">
            <div class="card stack filter-form wizard">
                <section class="wizard-step" hidden=move || step() != 1>
                    <h2>"1 · Environment"</h2>
                    <Transition fallback=|| view! { <p class="muted">"Checking…"</p> }>
                        {move || Suspend::new(async move {
                            match health.await {
                                Ok(h) => view! {
                                    <ul class="checks">
                                        {h.checks.into_iter().filter(|c| matches!(c.key.as_str(), "python" | "llamafactory" | "gpu" | "extras" | "disk")).map(|c| {
                                            let status = c.status.as_str();
                                            view! {
                                                <li class=format!("check {status}") data-key=c.key.clone()>
                                                    <span class="badge">{status}</span>
                                                    <span class="check-label">{c.label}</span>
                                                    <span class="check-detail">{c.detail}</span>
                                                    {c.fix.map(|fix| view! { <span class="check-fix">{fix}</span> })}
                                                </li>
                                            }
                                        }).collect_view()}
                                    </ul>
                                }.into_any(),
                                Err(error) => view! { <ErrorBox error /> }.into_any(),
                            }
                        })}
                    </Transition>
                </section>
                <section class="wizard-step" hidden=move || step() != 2>
                <h2>"2 · Data"</h2>
                <Transition fallback=|| view! { <p class="muted">"Loading datasets…"</p> }>
                    {move || Suspend::new(async move {
                        let current = params();
                        match (options.await, datasets.await) {
                            (Ok(options), Ok(list)) => view! { <DataStep options list current /> }.into_any(),
                            (Err(error), _) | (_, Err(error)) => view! { <ErrorBox error /> }.into_any(),
                        }
                    })}
                </Transition>
                </section>
                <section class="wizard-step" hidden=move || step() != 3>
                <h2>"3 · Base model"</h2>
                <label class="check-row"><input type="radio" name="model_kind" value="path" checked=!tiny />
                    "A real model: a local folder or a Hugging Face id"</label>
                <label>"Local folder or Hugging Face id (downloaded before training when it is not on this machine)"
                    <input type="text" name="model" list="ollama-models" placeholder=DEFAULT_MODEL
                        value=if tiny { String::new() } else { p.model.clone().unwrap_or_else(|| DEFAULT_MODEL.to_owned()) } />
                </label>
                <label class="check-row"><input type="radio" name="model_kind" value="tiny" checked=tiny />
                    "Tiny demo model (CPU, seconds): made on this machine, no download"</label>
                <label class="check-row danger"><input type="checkbox" name="trust_remote_code" value="on" checked=p.trust_remote_code.is_some() />
                    "Run this model's own code (trust_remote_code): only for a model whose code you trust; it runs with your rights"</label>
                <datalist id="ollama-models">
                    {OLLAMA_TAGS.into_iter().map(|(tag, hf)| view! { <option value=hf>{format!("Ollama {tag}")}</option> }).collect_view()}
                </datalist>
                <small>{OLLAMA_TAGS.iter().map(|(t, h)| format!("{t} ↔ {h}")).collect::<Vec<_>>().join(" · ")}</small>
                </section>
                <section class="wizard-step" hidden=move || step() != 4>
                <h2>"4 · LoRA"</h2>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let chosen = params().backend.unwrap_or_default();
                        let here = mlx.await.unwrap_or(false);
                        view! {
                            <fieldset class="precision" id="backend-choice">
                                <legend>"Trainer"</legend>
                                <label class="check-row"><input type="radio" name="backend" value="llamafactory" checked=chosen != "mlx" />
                                    "LLaMA-Factory: NVIDIA GPUs, or the CPU for the tiny model"</label>
                                {here.then(|| view! {
                                    <label class="check-row"><input type="radio" name="backend" value="mlx" checked=chosen == "mlx" />
                                        "MLX (mlx-lm): Apple silicon's GPU through Metal; the CPU elsewhere. No gradient accumulation, no bitsandbytes (use an MLX 4-bit model), no DeepSpeed."</label>
                                })}
                                {(!here).then(|| view! { <small>"MLX is offered where it runs: on a Mac with Apple silicon (or wherever the trainer's Python can import mlx)."</small> })}
                            </fieldset>
                        }
                    })}
                </Transition>
                <div class="row">
                    <label>"Rank" <input type="number" name="lora_rank" min="1" value=value(&p.lora_rank, "") placeholder="8 (tiny) / 16" />
                        <small>"How much the adapter can learn; 8–32 is usual."</small></label>
                    <label>"Alpha" <input type="number" name="lora_alpha" min="1" value=value(&p.lora_alpha, "") placeholder="2 × rank" />
                        <small>"Strength of the adapter; usually twice the rank."</small></label>
                </div>
                <div class="row">
                    <label>"Dropout" <input type="number" name="lora_dropout" min="0" max="0.9" step="0.01" value=value(&p.lora_dropout, "") placeholder="0.05" />
                        <small>"Raise it (0.1) if it overfits."</small></label>
                    <label>"Target modules" <input type="text" name="lora_target" value=value(&p.lora_target, "") placeholder="all" />
                        <small>"all, or e.g. q_proj,v_proj."</small></label>
                </div>
                <fieldset class="precision" id="precision-choice">
                    <legend>"Base model precision"</legend>
                    {PRECISIONS.into_iter().map(|(v, label)| {
                        let checked = p.quantization_bit.as_deref().unwrap_or("auto") == v;
                        view! { <label class="check-row"><input type="radio" name="quantization_bit" value=v checked=checked />{label}</label> }
                    }).collect_view()}
                    <small>"4-bit and 8-bit load the base model with bitsandbytes (an NVIDIA GPU extra); the adapter itself always trains in full precision, and is merged into the full-precision base."</small>
                </fieldset>
                </section>
                <section class="wizard-step" hidden=move || step() != 5>
                <h2>"5 · Training"</h2>
                <div class="row">
                    <label>"Epochs" <input type="number" name="num_train_epochs" min="0.1" step="0.1" value=value(&p.num_train_epochs, "") placeholder="3" /></label>
                    <label>"Max steps" <input type="number" name="max_steps" min="1" value=value(&p.max_steps, "") placeholder="from epochs" /></label>
                </div>
                <div class="row">
                    <label>"Learning rate" <input type="text" name="learning_rate" value=value(&p.learning_rate, "") placeholder="2e-4" /></label>
                    <label>"Cut-off (tokens)" <input type="number" name="cutoff_len" min="16" value=value(&p.cutoff_len, "") placeholder="2048" /></label>
                </div>
                <div class="row">
                    <label>"Batch size" <input type="number" name="per_device_train_batch_size" min="1" value=value(&p.per_device_train_batch_size, "") placeholder="4" /></label>
                    <label>"Gradient accumulation" <input type="number" name="gradient_accumulation_steps" min="1" value=value(&p.gradient_accumulation_steps, "") placeholder="4" /></label>
                </div>
                <div class="row">
                    <label>"Plan for"
                        <select name="target_gpu">
                            <option value="" selected=p.target_gpu.is_none()>"This machine's GPU"</option>
                            {TARGETS.into_iter().map(|gb| {
                                let sel = p.target_gpu.as_deref() == Some(gb);
                                view! { <option value=gb selected=sel>{format!("A {gb} GB GPU (another machine)")}</option> }
                            }).collect_view()}
                        </select>
                        <small>"The memory estimate and the precision are worked out for this GPU."</small>
                    </label>
                    <label>"GPUs" <input type="number" name="gpus" min="1" max="64" value=value(&p.gpus, "") placeholder="1" />
                        <small>"With DeepSpeed ZeRO-3 the model is shared among them."</small></label>
                </div>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let chosen = params().cluster.unwrap_or_default();
                        let list = clusters.await.unwrap_or_default();
                        view! {
                            <label>"Where it trains"
                                <select name="cluster" id="cluster-choice">
                                    <option value="" selected=chosen.is_empty()>"This machine"</option>
                                    {list.into_iter().map(|v| {
                                        let what = match &v.resources { Ok(r) => r.summary(), Err(_) => "not answering now".to_owned() };
                                        let sel = chosen == v.cluster.name;
                                        view! { <option value=v.cluster.name.clone() selected=sel>{format!("Ray cluster {} ({what})", v.cluster.name)}</option> }
                                    }).collect_view()}
                                </select>
                                <small>"A Ray cluster trains on its own GPUs; the live charts and the adapter come back here. The GPUs field is then what the run asks of it."</small>
                            </label>
                        }
                    })}
                </Transition>
                <label>"Several GPUs"
                    <select name="deepspeed">
                        {[("", "One GPU (or CPU)"), ("z2", "DeepSpeed ZeRO-2"), ("z3", "DeepSpeed ZeRO-3 (largest models)")]
                            .into_iter()
                            .map(|(v, l)| { let sel = p.deepspeed.as_deref().unwrap_or("") == v; view! { <option value=v selected=sel>{l}</option> } })
                            .collect_view()}
                    </select>
                    <small>"LLaMA-Factory's own launcher runs it: start garden-eden with FORCE_TORCHRUN=1 NPROC_PER_NODE=<GPUs> (and NNODES, NODE_RANK, MASTER_ADDR for several machines); garden-eden passes them to the trainer."</small>
                </label>
                {move || {
                    let p = params();
                    let stage = p.stage.clone().unwrap_or_default();
                    (stage == "dpo" || stage == "kto").then(|| view! { <PreferenceSettings p /> })
                }}
                <label>"Troubleshooting"
                    <select name="adjust">
                        <option value="">"No adjustment"</option>
                        {[("out_of_memory", "Out of memory: halve the batch, double accumulation"), ("too_generic", "Answers too generic: rank 32, 5 epochs"), ("overfitting", "Overfitting: dropout 0.1, 2 epochs")]
                            .into_iter()
                            .map(|(v, l)| { let sel = p.adjust.as_deref() == Some(v); view! { <option value=v selected=sel>{l}</option> } })
                            .collect_view()}
                    </select>
                </label>
                </section>
                <div class="wizard-nav">
                    {move || (step() > 1).then(|| view! { <button type="submit" name="step" value=(step() - 1).to_string() class="button secondary" id="back">"Back"</button> })}
                    {move || (step() < 6).then(|| view! { <button type="submit" name="step" value=(step() + 1).to_string() class="button" id="next">{if step() == 5 { "Review" } else { "Next" }}</button> })}
                </div>
            </div>
        </Form>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let current = params();
                let offered: Vec<StageData> = options.await.unwrap_or_default().into_iter().filter(|o| o.stage.is_preference() && o.refusal.is_none()).collect();
                (!offered.is_empty()).then(|| view! {
                    <section class="card" id="stage-exports" hidden=move || step() != 2>
                        <h2>"Export your judgements for training"</h2>
                        <p class="muted">"The wizard exports them from your whole history (duplicates and personal data removed, a tenth held out for validation) and chooses the new dataset here. To choose the filter yourself, build it on "<a href="/datasets/new">"Datasets"</a>"."</p>
                        {offered.into_iter().map(|o| {
                            let hidden: Vec<(String, String)> = current.pairs().into_iter().filter(|(k, _)| *k != "stage" && *k != "dataset_id").map(|(k, v)| (format!("params[{k}]"), v)).collect();
                            let (what, id) = match o.stage {
                                Stage::Kto => ("Export your thumbs up and down (KTO) and use them", "export-kto"),
                                _ => ("Export your side-by-side choices as pairs (DPO) and use them", "export-dpo"),
                            };
                            view! {
                                <ActionForm action=export attr:class="inline-form">
                                    {hidden.into_iter().map(|(k, v)| view! { <input type="hidden" name=k value=v /> }).collect_view()}
                                    <input type="hidden" name="stage" value=o.stage.as_str() />
                                    <button type="submit" class="button secondary" id=id>{what}</button>
                                    <span class="muted">{counts_sentence(&o)}</span>
                                </ActionForm>
                            }
                        }).collect_view()}
                        {move || export.value().get().and_then(Result::err).map(|error| view! { <ErrorBox error /> })}
                    </section>
                })
            })}
        </Transition>
        <details class="card" id="add-cluster" hidden=move || step() != 5>
            <summary>"Train on another machine: add a Ray cluster"</summary>
            <p class="muted">"On the GPU machine: "<code>"pip install \"ray[default]\" llamafactory==0.9.5"</code>", then "
                <code>"ray start --head --dashboard-host 0.0.0.0"</code>". Its dashboard port (8265) must be reachable only from machines you trust: anyone who reaches it can run code there."</p>
            <ActionForm action=add_cluster attr:class="stack">
                <div class="row">
                    <label>"Name" <input type="text" name="name" required placeholder="gpu-box" /></label>
                    <label>"Dashboard URL" <input type="text" name="url" required placeholder="http://gpu-box:8265" /></label>
                </div>
                <div><button type="submit" class="button secondary" id="add-cluster-button">"Add the cluster"</button></div>
            </ActionForm>
            {move || add_cluster.value().get().map(|r| match r {
                Ok(v) => view! {
                    <p class="summary" id="cluster-added">{match &v.resources {
                        Ok(r) => format!("Added {}: {}", v.cluster.name, r.summary()),
                        Err(e) => format!("Added {}, but it does not answer now: {e}", v.cluster.name),
                    }}</p>
                }.into_any(),
                Err(error) => view! { <ErrorBox error /> }.into_any(),
            })}
        </details>
        <Transition fallback=|| view! { <p class="muted">"Preparing the review…"</p> }>
            {move || Suspend::new(async move {
                let current = params();
                if step() < 6 {
                    return ().into_any();
                }
                match plan.await {
                    None => view! { <p class="muted">"Choose what to learn from and a dataset (step 2), then review."</p> }.into_any(),
                    Some(Err(error)) => view! { <ErrorBox error /> }.into_any(),
                    Some(Ok(plan)) => {
                        let hidden: Vec<(String, String)> = current.pairs().into_iter().map(|(k, v)| (format!("params[{k}]"), v)).collect();
                        view! {
                            <section class="card" id="plan">
                                <h2>"6 · Review"</h2>
                                <p class="summary">{format!("{} training examples · {} steps per epoch · {} steps in all", plan.examples, plan.steps_per_epoch, plan.total_steps)}</p>
                                <p class="summary" id="time-estimate">{format!("Time: {}", plan.time_estimate.clone().unwrap_or_default())}</p>
                                <p class="summary" id="device">{format!("GPU: {}", plan.device)}</p>
                                {plan.cluster.clone().map(|c| view! {
                                    <div class="summary" id="target" data-cluster=c.name.clone()>
                                        <p>{format!("Where: the Ray cluster {} at {}", c.name, c.url)}</p>
                                        <p id="target-resources">{match &c.resources {
                                            Ok(r) => format!("It has {}; this run asks for {}.", r.summary(), match c.gpus { Some(0) | None => "its CPUs".to_owned(), Some(1) => "1 GPU".to_owned(), Some(n) => format!("{n} GPUs, one Ray worker each") }),
                                            Err(e) => format!("It does not answer now: {e}"),
                                        }}</p>
                                        {c.problem.map(|p| view! { <p class="error-box" id="target-problem">{p}</p> })}
                                    </div>
                                })}
                                <p class="summary" id="backend">{format!("Trainer: {}", plan.backend)}</p>
                                {(!plan.backend_notes.is_empty()).then(|| view! {
                                    <ul class="steps" id="backend-notes">{plan.backend_notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}</ul>
                                })}
                                <p class="summary" id="precision">{plan.precision.clone()}</p>
                                {plan.stage.clone().map(|stage| view! {
                                    <StageReview stage starting=plan.starting_adapter.clone() loss=plan.pref_loss beta=plan.pref_beta />
                                })}
                                {plan.trust_remote_code.then(|| view! {
                                    <p class="error-box" id="remote-code">"This run executes Python code that comes with the model (trust_remote_code: true). Go on only if you trust where the model comes from."</p>
                                })}
                                <MissingExtras missing=plan.missing_extras.clone() />
                                <pre class="sample" tabindex="0" id="yaml">{plan.yaml}</pre>
                                {match plan.memory {
                                    Ok(m) => view! {
                                        <div class=format!("memory {}", m.fit) id="memory" data-fit=m.fit.as_str()>
                                            <h3>{format!("GPU memory: about {}", m.total)}{m.gpu.map(|g| format!(" on {g}"))}</h3>
                                            <p>{m.message}</p>
                                            <ul class="steps">{m.parts.into_iter().map(|(k, v)| view! { <li><span class="num">{v}</span>" "{k}</li> }).collect_view()}</ul>
                                            <p class="muted path">{m.formula}</p>
                                            {(!m.suggestions.is_empty()).then(|| view! {
                                                <ul class="suggestions">{m.suggestions.into_iter().map(|s| {
                                                    let href = format!("/train?{}", query_with(&current, s.change.params(), 6));
                                                    view! { <li>{s.text}" "<a class="button secondary apply" href=href>"Apply"</a></li> }
                                                }).collect_view()}</ul>
                                            })}
                                        </div>
                                    }.into_any(),
                                    Err(e) => view! { <p class="muted" id="memory">{format!("No memory estimate: {e}")}</p> }.into_any(),
                                }}
                                <details class="backends">
                                    <summary>"Other trainers (files and command; garden-eden does not run or chart these)"</summary>
                                    {plan.other_backends.into_iter().map(|b| view! {
                                        <h3>{b.label}</h3>
                                        {b.error.map(|e| view! { <p class="muted">{e}</p> })}
                                        {(!b.command.is_empty()).then(|| view! { <p><code>{b.command.clone()}</code></p> })}
                                        {b.files.into_iter().map(|(name, content)| view! { <p class="muted">{name}</p><pre class="sample" tabindex="0">{content}</pre> }).collect_view()}
                                        <ul>{b.notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
                                    }).collect_view()}
                                </details>
                                <ActionForm action=start attr:class="inline-form">
                                    {hidden.into_iter().map(|(k, v)| view! { <input type="hidden" name=k value=v /> }).collect_view()}
                                    <button type="submit" class="button" id="start">"7 · Train"</button>
                                </ActionForm>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Transition>
        {move || start.value().get().and_then(Result::err).map(|error| view! { <ErrorBox error /> })}
    }
}

/// The trainer packages these settings need and the environment lacks: what each is for, the
/// exact command, and a button that installs it (pip, in the background, followed here).
#[component]
fn MissingExtras(missing: Vec<ExtraStatus>) -> impl IntoView {
    let install = ServerAction::<InstallExtra>::new();
    let installs = Resource::new(move || install.version().get(), |_| extra_installs());
    // While an install runs, look again every second (with JavaScript; without it, reload).
    #[cfg(feature = "hydrate")]
    {
        let handle = leptos::prelude::set_interval_with_handle(
            move || {
                let running = installs.get().and_then(Result::ok).is_some_and(|l| l.iter().any(|i| i.state == crate::model::InstallState::Running));
                if running {
                    installs.refetch();
                }
            },
            std::time::Duration::from_secs(1),
        );
        if let Ok(handle) = handle {
            on_cleanup(move || handle.clear());
        }
    }
    (!missing.is_empty()).then(|| view! {
        <div class="memory will_not_fit" id="extras">
            <h3>"A trainer package is missing"</h3>
            {missing.into_iter().map(|m| {
                let package = m.package.clone();
                view! {
                    <p>{format!("These settings need {} ({}), which the trainer's environment does not have: the run would be refused.", m.package, m.purpose)}</p>
                    <p class="muted">"To install it yourself: "<code>{m.command}</code></p>
                    <ActionForm action=install attr:class="inline-form">
                        <input type="hidden" name="package" value=package.clone() />
                        <button type="submit" class="button secondary" data-package=package.clone()>{format!("Install {package} now")}</button>
                    </ActionForm>
                }
            }).collect_view()}
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    installs.await.ok().filter(|l| !l.is_empty()).map(|list| view! {
                        <ul class="steps" id="installs">
                            {list.into_iter().map(|i| {
                                let bytes = match (i.done_bytes, i.total_bytes) {
                                    (Some(d), Some(t)) if t > 0 => format!(" ({:.0}%)", d as f64 / t as f64 * 100.0),
                                    _ => String::new(),
                                };
                                view! { <li class=format!("install {}", i.state) data-state=i.state.as_str()>
                                    {format!("{}: {}{bytes}", i.extra.package(), i.line)}
                                    {i.error.map(|e| view! { <pre class="sample" tabindex="0">{e}</pre> })}
                                </li> }
                            }).collect_view()}
                        </ul>
                        <p class="muted">"The review updates once it is installed; reload to check again."</p>
                    })
                })}
            </Transition>
        </div>
    })
}

/// The stage a dataset of this export format trains (the core's `stage_for`, by format name).
fn stage_of_format(format: &str) -> Stage {
    match format {
        "kto" => Stage::Kto,
        "pairs" => Stage::Dpo,
        _ => Stage::Sft,
    }
}

/// What a stage has to learn from, in words.
pub(crate) fn counts_sentence(o: &StageData) -> String {
    match (o.stage, &o.kto, &o.pairs) {
        (Stage::Kto, Some(b), _) => format!("{} rated answers: {} up, {} down", o.examples, b.desirable, b.undesirable),
        (Stage::Dpo, _, Some(p)) => format!("{} pairs: {} from side-by-side votes, {} from thumbs", o.examples, p.from_votes, p.from_thumbs),
        _ => format!("{} conversations", o.examples),
    }
}

/// Step 2: what to learn from (each stage whose data exists, with its sentence and counts; the
/// others say what they lack) and the dataset, grouped by the stage it trains.
#[component]
fn DataStep(options: Vec<StageData>, list: Vec<DatasetView>, current: TrainParams) -> impl IntoView {
    let offered: Vec<Stage> = options.iter().filter(|o| o.refusal.is_none()).map(|o| o.stage).collect();
    // The stage asked for, else the chosen dataset's, else the first offered.
    let chosen_dataset = list.iter().find(|d| current.dataset_id.as_deref() == Some(d.id.as_str()));
    let chosen = current
        .stage
        .as_deref()
        .and_then(|s| s.parse::<Stage>().ok())
        .or_else(|| chosen_dataset.map(|d| stage_of_format(&d.format)))
        .filter(|s| offered.contains(s))
        .or_else(|| offered.first().copied());
    let selected = current.dataset_id.clone();
    view! {
        <fieldset class="precision" id="stage-choice">
            <legend>"What to learn from"</legend>
            {options.iter().filter(|o| o.refusal.is_none()).map(|o| view! {
                <label class="check-row" data-stage=o.stage.as_str()>
                    <input type="radio" name="stage" value=o.stage.as_str() checked=chosen == Some(o.stage) />
                    <span><strong>{o.label.clone()}</strong>{format!(" · {}", counts_sentence(o))}<br /><small>{o.explanation.clone()}</small></span>
                </label>
            }).collect_view()}
            {options.iter().filter_map(|o| o.refusal.clone().map(|r| (o.label.clone(), o.stage, r))).map(|(label, stage, refusal)| view! {
                <p class="muted" data-unavailable=stage.as_str()>{format!("Not offered yet: {label}. {refusal}.")}</p>
            }).collect_view()}
        </fieldset>
        {if list.is_empty() {
            view! {
                <EmptyNote what="datasets">"No dataset yet: " <a href="/datasets/new">"build one from your conversations"</a>
                    ", or export your judgements below when a preference stage is offered."</EmptyNote>
            }.into_any()
        } else {
            view! {
                <label>"Dataset"
                    <select name="dataset_id">
                        <option value="">"The newest dataset for what you chose to learn from"</option>
                        {Stage::ALL.into_iter().map(|stage| {
                            let group: Vec<&DatasetView> = list.iter().filter(|d| stage_of_format(&d.format) == stage).collect();
                            (!group.is_empty()).then(|| view! {
                                <optgroup label=format!("For {}", stage.label())>
                                    {group.into_iter().map(|d| {
                                        let label = format!("{} · {} · {} examples", d.name, d.format, d.examples);
                                        view! { <option value=d.id.clone() selected=selected.as_deref() == Some(d.id.as_str())>{label}</option> }
                                    }).collect_view()}
                                </optgroup>
                            })
                        }).collect_view()}
                    </select>
                    <small>"A dataset trains the stage it was exported for: conversations SFT, a KTO export KTO, preference pairs DPO."</small>
                </label>
            }.into_any()
        }}
    }
}

/// The preference losses, with what each means.
const PREF_LOSSES: [(PrefLoss, &str); 3] = [
    (PrefLoss::Sigmoid, "Sigmoid (DPO): the classic loss; compares with a reference model (the adapter training starts from, or the base), so it needs both in memory"),
    (PrefLoss::Orpo, "ORPO: also learns the chosen answers themselves; no reference model (less memory, faster)"),
    (PrefLoss::Simpo, "SimPO: length-normalised, with a target margin; no reference model"),
];

/// Step 5, for KTO and DPO: the loss (DPO) and β.
#[component]
fn PreferenceSettings(p: TrainParams) -> impl IntoView {
    let dpo = p.stage.as_deref() == Some("dpo");
    let loss = p.pref_loss.unwrap_or_else(|| PrefLoss::default().as_str().to_owned());
    let beta = p.pref_beta.unwrap_or_default();
    view! {
        <fieldset class="precision" id="pref-choice">
            <legend>{if dpo { "Preference loss" } else { "KTO" }}</legend>
            {dpo.then(|| PREF_LOSSES.into_iter().map(|(l, label)| view! {
                <label class="check-row"><input type="radio" name="pref_loss" value=l.as_str() checked=loss == l.as_str() />{label}</label>
            }).collect_view())}
            <label>"β" <input type="number" name="pref_beta" min="0.001" step="0.001" value=beta placeholder="0.1" />
                <small>"How far the model may move away from where it started: lower lets it move further. 0.1 is usual."</small></label>
        </fieldset>
    }
}

/// The review's stage: what it learns from, the counts, KTO's class weights, DPO's pairs by
/// source and loss, and the adapter it starts from.
#[component]
fn StageReview(stage: StageData, starting: Option<String>, loss: Option<PrefLoss>, beta: Option<f64>) -> impl IntoView {
    let preference = stage.stage.is_preference();
    view! {
        <div id="stage-review" data-stage=stage.stage.as_str()>
            <p class="summary" id="stage">{format!("Stage: {} · {}", stage.label, counts_sentence(&stage))}</p>
            {stage.kto.map(|b| view! {
                <p class="summary" id="kto-balance">{format!(
                    "Class weights, so both weigh the same in total: kto_chosen_weight {} (×{} up) · kto_rejected_weight {} (×{} down)",
                    b.chosen_weight, b.desirable, b.rejected_weight, b.undesirable
                )}</p>
            })}
            {stage.pairs.map(|p| view! {
                <p class="summary" id="pairs-sources">{format!(
                    "Pairs by source: {} from side-by-side votes, {} from thumbs (answers to the same prompt rated up and down). \
                     Of {} votes, {} were ties and {} \u{201c}both bad\u{201d} (no pair); {} had the same answer on both sides.",
                    p.from_votes, p.from_thumbs, p.votes, p.ties, p.both_bad, p.same_answers
                )}</p>
            })}
            {(loss.is_some() || beta.is_some()).then(|| view! {
                <p class="summary" id="pref-loss">{format!(
                    "{}β {}{}",
                    loss.map(|l| format!("Loss: {} · ", l.as_str())).unwrap_or_default(),
                    beta.map(|b| b.to_string()).unwrap_or_default(),
                    if loss.is_some_and(PrefLoss::reference_free) { " · no reference model" } else { "" }
                )}</p>
            })}
            {(preference || starting.is_some()).then(|| view! {
                <p class="summary" id="starting-adapter">{match &starting {
                    Some(a) => format!("Starts from the adapter {a}"),
                    None => "Starts from the base model: no active adapter was trained on it (the usual recipe trains SFT first, then preferences on top)".to_owned(),
                }}</p>
            })}
        </div>
    }
}
