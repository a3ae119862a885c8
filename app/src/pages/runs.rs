//! The runs page: every training run with what it taught (its stage), status, progress and final loss.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::runs::list_runs;
use crate::components::ErrorBox;
use crate::format;

/// Every training run with its status and final losses.
#[component]
pub fn RunsPage() -> impl IntoView {
    let runs = Resource::new(|| (), |_| list_runs());
    view! {
        <Title text="Runs" />
        <div class="page-head">
            <h1>"Training runs"</h1>
            <a class="button" href="/train">"Train an adapter"</a>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match runs.await {
                    Ok(rows) if rows.is_empty() => view! {
                        <div class="empty" id="empty-state">
                            <h2>"No runs yet"</h2>
                            <p>"Train a LoRA adapter on one of your datasets; the tiny demo model trains in seconds on a CPU."</p>
                            <p><a class="button" href="/train">"Train an adapter"</a></p>
                        </div>
                    }.into_any(),
                    Ok(rows) => view! {
                        <table class="table" id="runs">
                            <thead><tr><th>"Run"</th><th>"Stage"</th><th>"Status"</th><th class="num">"Steps"</th><th class="num">"Loss"</th><th class="num">"Eval loss"</th><th>"Started"</th></tr></thead>
                            <tbody>
                                {rows.into_iter().map(|r| view! {
                                    <tr data-id=r.id.clone()>
                                        <td><a href=format!("/runs/{}", r.id)>{r.name}</a></td>
                                        <td class="stage" data-stage=r.stage.as_str() title=r.stage.label()>{r.stage.as_str().to_uppercase()}</td>
                                        <td><span class=format!("status {}", r.status)>{r.status.as_str()}</span></td>
                                        <td class="num">{r.total_steps.map(|s| s.to_string()).unwrap_or_default()}</td>
                                        <td class="num">{r.final_loss.map(|l| format!("{l:.4}")).unwrap_or_default()}</td>
                                        <td class="num">{r.final_eval_loss.map(|l| format!("{l:.4}")).unwrap_or_default()}</td>
                                        <td>{format::datetime_utc(r.created_at)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                }
            })}
        </Transition>
    }
}
