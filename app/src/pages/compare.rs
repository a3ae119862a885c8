//! Side by side: one prompt, two models' answers streaming at once (blind or not), a vote, prompt
//! sets from a dataset's held-out split, and the tally of votes.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::chat::{load_compare, StartComparison, Vote};
use crate::components::live::LiveAnswer;
use crate::components::empty::EmptyNote;
use crate::components::ErrorBox;
use crate::model::{Arm, CompareView, ComparisonView, Winner};

/// One prompt, two models' answers side by side; blind mode shuffles the sides and hides the names
/// until the vote; prompt sets go one by one (typed, or held out from a dataset's validation split).
#[component]
pub fn ComparePage() -> impl IntoView {
    let q = use_query_map();
    let get = move |k: &str| q.read().get(k);
    let start = ServerAction::<StartComparison>::new();
    let vote = ServerAction::<Vote>::new();
    let refresh = RwSignal::new(0u32);
    let data = Resource::new(
        move || (get("c"), get("dataset"), vote.version().get(), refresh.get()),
        |(c, d, ..)| load_compare(c, d),
    );
    let errors = move || start.value().get().and_then(Result::err).or_else(|| vote.value().get().and_then(Result::err));
    view! {
        <Title text="Compare" />
        <div class="page-head"><h1>"Compare side by side"</h1></div>
        <p class="lede">"The same prompt to two models. In blind mode the sides are shuffled and the names hidden until you vote, so the vote is about the answers."</p>
        {move || errors().map(|error| view! { <ErrorBox error /> })}
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let (a, b) = (get("a").unwrap_or_default(), get("b").unwrap_or_default());
                let blind = get("blind").is_none_or(|x| x == "true");
                let dataset = get("dataset").unwrap_or_default();
                let typed = get("typed").unwrap_or_default();
                let index: usize = get("i").and_then(|i| i.parse().ok()).unwrap_or(0);
                match data.await {
                    Ok(v) => view! { <CompareBody v start vote refresh a b blind dataset typed index /> }.into_any(),
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn CompareBody(
    v: CompareView,
    start: ServerAction<StartComparison>,
    vote: ServerAction<Vote>,
    refresh: RwSignal<u32>,
    a: String,
    b: String,
    blind: bool,
    dataset: String,
    typed: String,
    index: usize,
) -> impl IntoView {
    use crate::format::url_encode as enc;
    // A prompt set: a dataset's held-out prompts, or prompts typed one per line.
    let prompts: Vec<String> = if dataset.is_empty() {
        typed.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect()
    } else {
        v.prompts.clone()
    };
    let prompt = prompts.get(index).cloned().unwrap_or_default();
    let in_set = !prompts.is_empty();
    let endpoints = v.endpoints.clone();
    let models = v.endpoints.len();
    let no_datasets = v.datasets.is_empty();
    let options = move |selected: &str| {
        endpoints
            .iter()
            .map(|e| view! { <option value=e.id.clone() selected=e.id == selected>{e.name.clone()}</option> })
            .collect_view()
    };
    let source = if dataset.is_empty() { format!("typed={}", enc(&typed)) } else { format!("dataset={}", enc(&dataset)) };
    let next = (in_set && index + 1 < prompts.len()).then(|| format!("/compare?a={}&b={}&blind={blind}&{source}&i={}", enc(&a), enc(&b), index + 1));
    view! {
        <section class="card">
            <form method="get" action="/compare" class="inline-form" id="prompt-set">
                <input type="hidden" name="a" value=a.clone() /><input type="hidden" name="b" value=b.clone() />
                <input type="hidden" name="blind" value=blind.to_string() />
                <label>"Prompts held out from a dataset (its validation split)"
                    <select name="dataset">
                        <option value="">"None: I type the prompt"</option>
                        {v.datasets.iter().map(|d| view! { <option value=d.id.clone() selected=d.id == dataset>{d.label.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <button type="submit" class="button secondary" disabled=no_datasets>"Use these prompts"</button>
            </form>
            {no_datasets.then(|| view! {
                <EmptyNote what="prompt-datasets">
                    "No dataset with held-out prompts yet: " <a href="/datasets/new">"build a dataset"</a>
                    " with a validation share above 0, and its validation prompts can be asked here one by one."
                </EmptyNote>
            })}
            <details>
                <summary>"Or type a set of prompts, one per line"</summary>
                <form method="get" action="/compare" class="stack" id="typed-set">
                    <input type="hidden" name="a" value=a.clone() /><input type="hidden" name="b" value=b.clone() />
                    <input type="hidden" name="blind" value=blind.to_string() />
                    <textarea name="typed" rows="4">{typed.clone()}</textarea>
                    <div><button type="submit" class="button secondary">"Go through them"</button></div>
                </form>
            </details>
            <ActionForm action=start attr:class="stack" attr:id="compare-form">
                <div class="row">
                    <label>"Model A" <select name="model_a" id="model-a">{options(&a)}</select></label>
                    <label>"Model B" <select name="model_b" id="model-b">{options(&b)}</select></label>
                </div>
                {match models {
                    0 => Some(view! {
                        <EmptyNote what="models">
                            "No models yet: " <a href="/chat#add-model">"add a model server in Chat"</a> ", or "
                            <a href="/adapters">"deploy an adapter"</a> "."
                        </EmptyNote>
                    }.into_any()),
                    1 => Some(view! {
                        <EmptyNote what="second-model">
                            "Only one model so far: " <a href="/chat#add-model">"add another model server in Chat"</a> ", or "
                            <a href="/adapters">"deploy an adapter"</a> ", to compare two."
                        </EmptyNote>
                    }.into_any()),
                    _ => None,
                }}
                <label class="check-row"><input type="checkbox" name="blind" checked=blind id="blind" />" Blind (shuffle the sides, hide the names until the vote)"</label>
                {in_set.then(|| view! {
                    <p class="muted" id="prompt-position">{format!("Prompt {} of {}", index + 1, prompts.len())}</p>
                    <input type="hidden" name="dataset" value=dataset.clone() />
                    <input type="hidden" name="typed" value=typed.clone() />
                    <input type="hidden" name="index" value=index.to_string() />
                })}
                <label>"Prompt" <textarea name="prompt" rows="3" required id="compare-prompt">{prompt}</textarea></label>
                <div><button type="submit" class="button" id="compare-go" disabled={models == 0}>"Ask both"</button></div>
            </ActionForm>
        </section>
        {v.comparison.clone().map(|c| view! { <Sides c vote refresh next=next.clone() /> })}
        {(!v.tally.is_empty()).then(|| view! {
            <section class="card" id="tally">
                <h2>"Votes so far"</h2>
                <table class="table">
                    <thead><tr><th>"A"</th><th>"B"</th><th class="num">"A better"</th><th class="num">"B better"</th><th class="num">"Ties"</th><th class="num">"Both bad"</th></tr></thead>
                    <tbody>{v.tally.iter().map(|t| view! {
                        <tr><td>{t.name_a.clone()}</td><td>{t.name_b.clone()}</td><td class="num">{t.a}</td><td class="num">{t.b}</td><td class="num">{t.ties}</td><td class="num">{t.both_bad}</td></tr>
                    }).collect_view()}</tbody>
                </table>
            </section>
        })}
    }
}

#[component]
fn Sides(c: ComparisonView, vote: ServerAction<Vote>, refresh: RwSignal<u32>, next: Option<String>) -> impl IntoView {
    let on_done = Callback::new(move |()| refresh.update(|n| *n += 1));
    let ComparisonView { comparison: c, turn_a, turn_b } = c;
    let revealed = c.winner.is_some() || !c.blind;
    let right_arm = c.left_arm.other();
    let side = |arm: Arm, position: &str| {
        let (name, answer, turn) = match arm {
            Arm::A => (c.endpoint_a.name.clone(), c.answer_a.clone(), turn_a.clone()),
            Arm::B => (c.endpoint_b.name.clone(), c.answer_b.clone(), turn_b.clone()),
        };
        let label = if revealed { format!("{position}: {name} (model {})", arm.upper()) } else { position.to_string() };
        let body = match (answer, turn) {
            (Some(text), _) => view! { <div class="message-body">{text}</div> }.into_any(),
            (None, Some(t)) => view! { <LiveAnswer turn=t on_done /> }.into_any(),
            (None, None) => view! { <p class="muted">"No answer was stored (the model failed)."</p> }.into_any(),
        };
        view! {
            <div class="side card" data-arm=if revealed { arm.as_str() } else { "" } data-position=position.to_lowercase()>
                <h3 class="side-label">{label}</h3>
                {body}
            </div>
        }
    };
    let both = c.answer_a.is_some() && c.answer_b.is_some();
    let id = c.id.clone();
    let button = move |winner: Winner, text: &'static str, key: &'static str| {
        let id = id.clone();
        view! {
            <ActionForm action=vote>
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="winner" value=winner.as_str() />
                <button type="submit" class="button secondary" data-vote=key disabled=!both>{text}</button>
            </ActionForm>
        }
    };
    let winner_text = c.winner.map(|w| match w {
        Winner::A => format!("You preferred model A: {}", c.endpoint_a.name),
        Winner::B => format!("You preferred model B: {}", c.endpoint_b.name),
        Winner::Tie => "A tie".to_string(),
        Winner::BothBad => "Both bad".to_string(),
    });
    view! {
        <section class="card" id="comparison" data-voted=c.winner.is_some().to_string()>
            <p class="summary">{c.prompt.clone()}</p>
            <div class="sides">{side(c.left_arm, "Left")}{side(right_arm, "Right")}</div>
            {match winner_text {
                Some(t) => view! { <p class="notice" id="vote-result">{t}</p> }.into_any(),
                None => view! {
                    <div class="inline-form" id="vote-buttons">
                        {button(Winner::of(c.left_arm), "Left is better", "left")}
                        {button(Winner::of(right_arm), "Right is better", "right")}
                        {button(Winner::Tie, "Tie", "tie")}
                        {button(Winner::BothBad, "Both bad", "both_bad")}
                    </div>
                }.into_any(),
            }}
            {next.map(|n| view! { <p><a class="button" href=n id="next-prompt">"Next prompt"</a></p> })}
        </section>
    }
}
