//! A/B experiments: two models, a traffic split, each chat conversation assigned to an arm, and a
//! report that names a winner only when the evidence does.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::chat::{list_experiments, PromoteWinner, StartExperiment, StopExperiment};
use crate::components::charts::{arms_spec, Chart};
use crate::components::empty::EmptyNote;
use crate::components::ErrorBox;
use crate::format;
use crate::model::{ArmReport, ExperimentStatus, Interval, Report};

fn ci(c: Option<Interval>, pct: bool) -> String {
    c.map(|c| if pct { format!("{:.0}–{:.0}%", c.low * 100.0, c.high * 100.0) } else { format!("{:.2}–{:.2}", c.low, c.high) })
        .unwrap_or_else(|| "–".into())
}

/// A/B experiments: two models, a traffic split, sticky assignment of each chat conversation, and
/// a report that says which is better only when the evidence does.
#[component]
pub fn ExperimentsPage() -> impl IntoView {
    let start = ServerAction::<StartExperiment>::new();
    let stop = ServerAction::<StopExperiment>::new();
    let promote = ServerAction::<PromoteWinner>::new();
    let data = Resource::new(move || (start.version().get(), stop.version().get(), promote.version().get()), |_| list_experiments());
    let errors = move || {
        [start.value().get().and_then(Result::err), stop.value().get().and_then(Result::err), promote.value().get().and_then(Result::err)]
            .into_iter()
            .flatten()
            .next()
    };
    view! {
        <Title text="Experiments" />
        <div class="page-head"><h1>"A/B experiments"</h1></div>
        <p class="lede">"While an experiment runs, each new chat conversation goes to arm A or B by a stable hash of the conversation and stays there. "
            "Rate answers (thumbs) and conversations (satisfaction) as usual; the report below turns them into a verdict."</p>
        {move || errors().map(|error| view! { <ErrorBox error /> })}
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                        Ok(v) => { let models = v.endpoints.len(); let none_yet = v.experiments.is_empty(); view! {
                        <details class="card" id="new-experiment" open=v.experiments.iter().all(|r| r.experiment.status != ExperimentStatus::Running)>
                            <summary>"Start an experiment"</summary>
                            <ActionForm action=start attr:class="stack">
                                <label>"Name" <input name="name" required placeholder="v1.1 vs v1.0" /></label>
                                <div class="row">
                                    <label>"Arm A (usually the active adapter)" <select name="arm_a" id="arm-a">
                                        {v.endpoints.iter().map(|e| view! { <option value=e.id.clone()>{e.name.clone()}</option> }).collect_view()}</select></label>
                                    <label>"Arm B (the challenger)" <select name="arm_b" id="arm-b">
                                        {v.endpoints.iter().rev().map(|e| view! { <option value=e.id.clone()>{e.name.clone()}</option> }).collect_view()}</select></label>
                                    <label>"Share of conversations to B" <input name="split_b" type="number" min="0.05" max="0.95" step="0.05" value="0.5" /></label>
                                </div>
                                {(models < 2).then(|| view! {
                                    <EmptyNote what="models">
                                        {if models == 0 { "No models yet: an experiment needs two. " } else { "Only one model so far: an experiment needs two. " }}
                                        <a href="/chat#add-model">"Add a model server in Chat"</a> ", or "
                                        <a href="/adapters">"deploy an adapter"</a> "."
                                    </EmptyNote>
                                })}
                                <div><button type="submit" class="button" id="start-experiment" disabled={models < 2}>"Start"</button></div>
                            </ActionForm>
                        </details>
                        {none_yet.then(|| view! {
                            <EmptyNote what="experiments">
                                "No experiments yet: start one above. While it runs, each new conversation in "
                                <a href="/chat">"Chat"</a> " goes to one of its two models, and your ratings build the evidence here."
                            </EmptyNote>
                        })}
                        {v.experiments.into_iter().map(|r| view! { <ExperimentCard r stop promote /> }).collect_view()}
                    }.into_any() }
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ExperimentCard(r: Report, stop: ServerAction<StopExperiment>, promote: ServerAction<PromoteWinner>) -> impl IntoView {
    let arm_row = |a: &ArmReport| {
        view! {
            <tr data-arm=a.arm.as_str()>
                <td><strong>{a.arm.upper()}</strong>" "{a.endpoint.clone()}</td>
                <td class="num">{a.conversations}</td>
                <td class="num">{a.rated}</td>
                <td class="num">{format::satisfaction(a.mean_satisfaction)}</td>
                <td class="num">
                    {ci(a.satisfaction_interval, false)}
                    {a.satisfaction_interval_clipped.then(|| view! {
                        " " <abbr class="clipped" title="With so few ratings the 95% interval reached past 0–1; it is cut to the range a satisfaction can take, so read it as “not known yet”.">"(clipped)"</abbr>
                    })}
                </td>
                <td class="num">{format!("{}/{}", a.thumbs_up, a.thumbs_total)}</td>
                <td class="num">{a.thumbs_up_rate.map(|r| format!("{:.0}%", r * 100.0)).unwrap_or_else(|| "–".into())}</td>
                <td class="num">{ci(a.thumbs_interval, true)}</td>
            </tr>
        }
    };
    let chart = arms_spec(&r.a.running_mean, &r.b.running_mean);
    let (e, j, v) = (&r.experiment, &r.judgement, &r.votes);
    let running = e.status == ExperimentStatus::Running;
    let (id_stop, id_promote) = (e.id.clone(), e.id.clone());
    let can_promote = j.better.is_some() && e.winner.is_none();
    let no_winner_yet = j.better.is_none() && e.winner.is_none();
    let better = j.better.map(|b| b.upper()).unwrap_or_default();
    let (va, vb, vt, vbb, elo_a, elo_b, pa) = (v.a, v.b, v.ties, v.both_bad, v.elo_a, v.elo_b, v.p_a_preferred);
    view! {
        <section class="card experiment" data-status=e.status.as_str() data-name=e.name.clone() data-better=j.better.map(|b| b.as_str()).unwrap_or_default()>
            <div class="card-head">
                <h2>{e.name.clone()}</h2>
                <span class=format!("status {}", if running { "running" } else { "succeeded" })>
                    {match e.winner { Some(w) => format!("winner: {}", w.upper()), None => e.status.as_str().to_string() }}</span>
            </div>
            <p class="verdict" id="verdict"><strong>{j.verdict.clone()}</strong></p>
            <table class="table">
                <thead><tr><th>"Arm"</th><th class="num">"Conversations"</th><th class="num">"Rated"</th><th class="num">"Satisfaction"</th>
                    <th class="num">"95% CI"</th><th class="num">"Thumbs up"</th><th class="num">"Rate"</th><th class="num">"95% CI"</th></tr></thead>
                <tbody>{arm_row(&r.a)}{arm_row(&r.b)}</tbody>
            </table>
            <ul class="stats" id="stats">
                {j.thumbs_test.clone().map(|t| view! { <li>{format!("Thumbs-up rate, B − A: {:+.1} points (95% CI {:+.1} to {:+.1}); two-proportion z = {:.2}, p = {:.4}", t.diff * 100.0, t.diff_interval.low * 100.0, t.diff_interval.high * 100.0, t.z, t.p_value)}</li> })}
                {j.satisfaction_test.clone().map(|t| view! { <li>{format!("Satisfaction, B − A: {:+.3} (95% CI {:+.3} to {:+.3}); Welch's t = {:.2}, df = {:.1}, p = {:.4}", t.diff, t.diff_interval.low, t.diff_interval.high, t.t, t.df, t.p_value)}</li> })}
                <li>{format!("Probability B is better: {:.0}% by thumbs (Beta posterior){}", j.prob_b_better_thumbs * 100.0,
                    j.prob_b_better_satisfaction.map(|p| format!(", {:.0}% by satisfaction (normal approximation)", p * 100.0)).unwrap_or_default())}</li>
                {j.needed_per_arm.map(|n| view! { <li>{format!("To detect the difference seen so far (α 0.05, power 0.8): {n} conversations per arm")}</li> })}
                <li>{format!("Side-by-side votes: A {va}, B {vb}, ties {vt}, both bad {vbb}; Elo A {elo_a:.0} / B {elo_b:.0}; Bradley–Terry P(A preferred) {:.0}%", pa * 100.0)}</li>
                <li class="muted">{format!("{:.0}% of conversations go to B · started {}", e.split_b * 100.0, format::datetime_utc(e.created_at))}</li>
            </ul>
            <div class="chart arms-chart"><Chart spec=Signal::stored(chart) /></div>
            <div class="inline-form">
                {running.then(|| view! {
                    <ActionForm action=stop><input type="hidden" name="id" value=id_stop />
                        <button type="submit" class="button secondary" id="stop-experiment">"Stop"</button></ActionForm>
                })}
                {can_promote.then(|| view! {
                    <ActionForm action=promote><input type="hidden" name="id" value=id_promote />
                        <button type="submit" class="button" id="promote">{format!("Promote {better} (activate its adapter)")}</button></ActionForm>
                })}
                {no_winner_yet.then(|| view! { <span class="muted">"Promotion unlocks when the evidence names a better arm."</span> })}
            </div>
        </section>
    }
}
