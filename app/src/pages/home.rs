//! Home: the set-up checks and what to do next.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::health::{get_health, get_journey};
use crate::components::empty::EmptyNote;
use crate::components::ErrorBox;
use crate::format;
use crate::model::{CheckStatus, Health};

/// Home: what is set up, what is missing and what to do next.
#[component]
pub fn HomePage() -> impl IntoView {
    // Bumped by "Check again": the resource reruns the checks on the server.
    let round = RwSignal::new(0u32);
    let query = leptos_router::hooks::use_query_map();
    let health = Resource::new(
        move || (round.get(), query.read().get("recheck").is_some()),
        |(round, recheck)| get_health(round > 0 || recheck),
    );
    let journey = Resource::new(|| (), |_| get_journey());

    view! {
        <Title text="Home" />
        <section class="hero">
            <h1>"Your own assistant, tuned on your own conversations"</h1>
            <p class="lede">
                "garden-eden turns the conversations you had with your assistant, and the feedback you gave, "
                "into a personalised LoRA adapter: curate the data, train, compare, and deploy to Ollama, "
                "all on this machine."
            </p>
        </section>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                journey.await.ok().map(|j| {
                    let total = j.steps.len();
                    let next = j.next().map(|i| (i, j.steps[i].title.clone()));
                    view! {
                        <section class="card start-here" id="start-here" aria-labelledby="start-here-heading">
                            <h2 id="start-here-heading">{if next.is_some() { "Start here" } else { "The loop, done once" }}</h2>
                            {match next {
                                Some((i, title)) => view! {
                                    <p>
                                        {format!("The guided first run: seven steps from your history to an adapter compared blind with its base. Next: step {} of {total}, {title}. ", i + 1)}
                                        <a class="button" id="start-here-go" href="/start">{if i == 0 { "Start here" } else { "Continue" }}</a>
                                    </p>
                                }.into_any(),
                                None => view! {
                                    <p>
                                        "You have been through every step of the guided first run. "
                                        <a href="/start">"Look back at it"</a>
                                        ", or "
                                        <a href="/learn">"keep learning as new conversations arrive"</a>
                                        "."
                                    </p>
                                }.into_any(),
                            }}
                        </section>
                    }
                })
            })}
        </Transition>
        <section class="card" aria-labelledby="setup-heading">
            <div class="card-head">
                <h2 id="setup-heading">"Your set-up"</h2>
                // Without JavaScript this reloads the page, which runs the checks again; with it,
                // only the checks are fetched.
                <form
                    method="get"
                    action="/"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        round.update(|r| *r += 1);
                    }
                >
                    <input type="hidden" name="recheck" value="1" />
                    <button type="submit" id="recheck" class="button secondary">
                        "Check again"
                    </button>
                </form>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Checking your set-up…"</p> }>
                {move || Suspend::new(async move {
                    match health.await {
                        Ok(health) => view! { <HealthView health /> }.into_any(),
                        Err(error) => view! { <ErrorBox error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn HealthView(health: Health) -> impl IntoView {
    let ready = health.checks.iter().filter(|c| c.status == CheckStatus::Ok).count();
    let total = health.checks.len();
    // One step per distinct fix: several checks can share one (no venv → no LLaMA-Factory).
    let mut next: Vec<(String, String)> = Vec::new();
    for c in health.checks.iter().filter(|c| c.status != CheckStatus::Ok) {
        let Some(fix) = &c.fix else { continue };
        match next.iter_mut().find(|(_, f)| f == fix) {
            Some((labels, _)) => {
                labels.push_str(", ");
                labels.push_str(&c.label);
            }
            None => next.push((c.label.clone(), fix.clone())),
        }
    }
    let conversations = health.conversations;
    view! {
        <p class="summary" id="checked-at" data-checked-at=health.checked_at.to_string()>
            {format!("{ready} of {total} ready · checked at {}", format::time_utc(health.checked_at))}
        </p>
        <ul class="checks">
            {health
                .checks
                .into_iter()
                .map(|c| {
                    let status = c.status.as_str();
                    view! {
                        <li class=format!("check {status}") data-key=c.key.clone()>
                            <span class="badge">{status}</span>
                            <span class="check-label">{c.label}</span>
                            <span class="check-detail">{c.detail}</span>
                            {c.fix.map(|fix| view! { <span class="check-fix">{fix}</span> })}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
        <h3>"What to do next"</h3>
        <ol class="next-steps">
            {next
                .into_iter()
                .map(|(label, fix)| view! { <li><strong>{label}": "</strong>{fix}</li> })
                .collect_view()}
            <li>
                {if conversations == 0 {
                    view! {
                        <EmptyNote what="conversations">
                            "Your history is empty: garden-eden learns from your conversations. "
                            <a href="/import">"Import your history, or load the sample"</a>
                            ", then build a dataset from it."
                        </EmptyNote>
                    }
                    .into_any()
                } else {
                    view! {
                        {format!("{conversations} conversations are stored: look through them, then build a dataset. ")}
                        <a href="/conversations">"Open Conversations"</a>
                    }
                    .into_any()
                }}
            </li>
        </ol>
    }
}
