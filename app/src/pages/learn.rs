//! Keep learning: the guide's five steps (new data, merged dataset, next version trained,
//! registered, A/B tested) as one guided flow; the new data is conversations (SFT) or the
//! judgements since the last export (KTO from thumbs, DPO from side-by-side votes).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::chat::{learn_plan, StartLearning, StartLearningExperiment};
use crate::components::ErrorBox;
use crate::format;
use crate::model::LearnView;
use crate::pages::train::counts_sentence;
use garden_types::prefs::{PrefLoss, Stage};

/// The guide's five steps of continual learning as one guided flow.
#[component]
pub fn LearnPage() -> impl IntoView {
    let start = ServerAction::<StartLearning>::new();
    let experiment = ServerAction::<StartLearningExperiment>::new();
    let data = Resource::new(move || (start.version().get(), experiment.version().get()), |_| learn_plan());
    let errors = move || start.value().get().and_then(Result::err).or_else(|| experiment.value().get().and_then(Result::err));
    view! {
        <Title text="Keep learning" />
        <div class="page-head"><h1>"Keep learning"</h1></div>
        <p class="lede">"As new conversations arrive: export what is new, merge it with the last dataset without duplicates, "
            "train the next version (starting from the current adapter), register it, and let an A/B experiment decide. "
            "As judgements arrive (thumbs, side-by-side votes), a cycle can learn from them instead: KTO or DPO on top of the active adapter. "
            "The new version is promoted only when the experiment says it is better; rollback stays one click away."</p>
        {move || errors().map(|error| view! { <ErrorBox error /> })}
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(v) => view! { <Steps v start experiment /> }.into_any(),
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Steps(v: LearnView, start: ServerAction<StartLearning>, experiment: ServerAction<StartLearningExperiment>) -> impl IntoView {
    let Some(active) = v.active.clone() else {
        return view! {
            <div class="empty" id="empty-state"><h2>"No active adapter yet"</h2>
                <p>"Train a first version and activate it on the Adapters page; this flow builds the next versions from it."</p>
                <p><a class="button" href="/train">"Train an adapter"</a></p></div>
        }
        .into_any();
    };
    let since = v.since.map(format::datetime_utc).unwrap_or_else(|| "the beginning".into());
    let next = v.next_version.clone().unwrap_or_default();
    view! {
        <ol class="learn-steps" id="learn-steps">
            <li class="card">
                <h2>"1–2 · New data, merged"</h2>
                <p>{format!("Active: {active}. Previous dataset: {}. Conversations since {since}: {}.",
                    v.previous_dataset.clone().unwrap_or_else(|| "none".into()), v.new_conversations)}</p>
            </li>
            <li class="card">
                <h2>{format!("3–4 · Train and register version {next}")}</h2>
                <ActionForm action=start attr:class="stack" attr:id="learn-start">
                    <fieldset class="precision" id="learn-stage">
                        <legend>{format!("What version {next} learns from")}</legend>
                        <label class="check-row" data-stage="sft"><input type="radio" name="stage" value="sft" checked=true />
                            <span><strong>{Stage::Sft.label()}</strong>{format!(" · {} new conversations, merged with the previous dataset", v.new_conversations)}</span></label>
                        {v.preference.iter().filter(|o| o.refusal.is_none()).map(|o| view! {
                            <label class="check-row" data-stage=o.stage.as_str()><input type="radio" name="stage" value=o.stage.as_str() />
                                <span><strong>{o.label.clone()}</strong>{format!(" · new since the last export: {}", counts_sentence(o))}<br />
                                <small>{o.explanation.clone()}" It trains on top of the active adapter."</small></span></label>
                        }).collect_view()}
                        {v.preference.iter().filter_map(|o| o.refusal.clone().map(|r| (o.label.clone(), o.stage, r))).map(|(label, stage, refusal)| view! {
                            <p class="muted" data-unavailable=stage.as_str()>{format!("Not offered yet: {label}. {refusal}.")}</p>
                        }).collect_view()}
                    </fieldset>
                    <div class="row">
                        <label class="check-row"><input type="checkbox" name="from_current" checked=true />" Start from the current adapter (a preference stage always does)"</label>
                        <label>"Loss (DPO)"
                            <select name="pref_loss">
                                <option value="">"As last time (sigmoid at first)"</option>
                                {PrefLoss::ALL.into_iter().map(|l| view! { <option value=l.as_str()>{l.as_str()}</option> }).collect_view()}
                            </select>
                        </label>
                        <label>"Max steps (blank: as last time)" <input type="number" name="max_steps" min="1" /></label>
                    </div>
                    <div><button type="submit" class="button" id="learn-go">{format!("Export and train {next}")}</button></div>
                </ActionForm>
                {v.run.clone().map(|r| view! {
                    <p id="learn-run">"Latest: " <a href=format!("/runs/{}", r.id)>{r.name}</a> {format!(" ({})", r.status)}</p>
                })}
            </li>
            <li class="card">
                <h2>"5 · A/B against the active version, then promote on evidence"</h2>
                {match (&v.new_adapter, &v.run, &v.experiment) {
                    (_, _, Some(e)) => view! { <p>{format!("Experiment \u{201c}{e}\u{201d} is running: ")}<a href="/experiments">"see its report"</a></p> }.into_any(),
                    (Some(new), Some(run), None) => {
                        let ready = new.deployed && v.active_deployed;
                        let (id, run_id) = (new.id.clone(), run.id.clone());
                        view! {
                            <p>{format!("{} is registered.", new.label)}
                                {(!ready).then(|| view! { " Deploy it (and the active version) first: " <a href=format!("/adapters/{id}")>"deploy"</a> })}</p>
                            <ActionForm action=experiment>
                                <input type="hidden" name="run_id" value=run_id />
                                <button type="submit" class="button" disabled=!ready id="learn-experiment">"Start the A/B experiment"</button>
                            </ActionForm>
                        }.into_any()
                    }
                    _ => view! { <p class="muted">"After the new version has trained."</p> }.into_any(),
                }}
            </li>
        </ol>
    }
    .into_any()
}
