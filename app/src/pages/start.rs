//! Start here: the guided first run, one step at a time, resumable from the address
//! (`/start?step=train`; without a step, the first one not done). Each step says what is done and
//! what is next, and hands off to the real page for the work.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::health::get_journey;
use crate::components::ErrorBox;
use crate::model::Journey;

/// The guided first run.
#[component]
pub fn StartPage() -> impl IntoView {
    let query = use_query_map();
    let journey = Resource::new(|| (), |_| get_journey());
    view! {
        <Title text="Start here" />
        <h1>"Start here"</h1>
        <p class="lede">
            "Seven steps from your history to an adapter you have compared with its base, without knowing which answer was which. "
            "Each step opens the page that does the work; come back here (or to this address) to see what is next. "
            "garden-eden keeps your place from what you have done."
        </p>
        <Transition fallback=|| view! { <p class="muted">"Looking at what you have done…"</p> }>
            {move || Suspend::new(async move {
                match journey.await {
                    Ok(journey) => {
                        let chosen = query.read().get("step");
                        view! { <JourneyView journey chosen /> }.into_any()
                    }
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn JourneyView(journey: Journey, chosen: Option<String>) -> impl IntoView {
    let total = journey.steps.len();
    let done = journey.steps.iter().filter(|s| s.done).count();
    let next = journey.next();
    // The step in the address, else the first not done, else the last.
    let current = chosen.as_deref().and_then(|k| journey.position(k)).or(next).unwrap_or(total.saturating_sub(1));
    let step = journey.steps[current].clone();
    let link = |i: usize| format!("/start?step={}", journey.steps[i].key);
    let previous = (current > 0).then(|| link(current - 1));
    let following = (current + 1 < total).then(|| link(current + 1));
    let state = |i: usize, done: bool| {
        if done {
            "done"
        } else if Some(i) == next {
            "next"
        } else {
            "todo"
        }
    };
    let status = if step.done {
        "Done".to_owned()
    } else if Some(current) == next {
        "Your next step".to_owned()
    } else {
        format!("Not done yet: step {} comes first", next.map(|n| n + 1).unwrap_or(1))
    };
    view! {
        <p class="summary" id="journey-progress" data-done=done.to_string()>
            {if done == total {
                "All seven steps are done: your adapter has been trained, served and judged blind.".to_owned()
            } else {
                format!("{done} of {total} steps done.")
            }}
        </p>
        <ol class="journey" id="journey" aria-label="The steps">
            {journey
                .steps
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let class = state(i, s.done);
                    let mark = match class {
                        "done" => "✓ done",
                        "next" => "next",
                        _ => "",
                    };
                    view! {
                        <li class=format!("journey-step {class}") data-step=s.key.clone() data-state=class>
                            <a href=link(i) aria-current=(i == current).then_some("step")>
                                <span class="journey-number">{format!("{}.", i + 1)}</span>
                                " "
                                <span class="journey-title">{s.title.clone()}</span>
                            </a>
                            {(!mark.is_empty()).then(|| view! { <span class="journey-mark">{mark}</span> })}
                        </li>
                    }
                })
                .collect_view()}
        </ol>
        <section class="card journey-current" id="journey-step" data-step=step.key.clone() data-done=step.done.to_string() aria-labelledby="journey-step-heading">
            <h2 id="journey-step-heading">{format!("Step {} of {total}: {}", current + 1, step.title)}</h2>
            <p class="journey-status"><strong>{status}</strong></p>
            <p id="journey-detail">{step.detail}</p>
            <p><a class="button" id="journey-go" href=step.href>{step.action}</a></p>
            <p class="journey-moves">
                {previous.map(|href| view! { <a href=href id="journey-previous" rel="prev">"← Previous step"</a> })}
                {following.map(|href| view! { <a href=href id="journey-following" rel="next">"Next step →"</a> })}
                {(done == total).then(|| view! { <a href="/learn" id="journey-learn">"Keep learning as new conversations arrive →"</a> })}
            </p>
        </section>
    }
}
