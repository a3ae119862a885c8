//! Chat, side-by-side comparison and A/B experiments: thin shells over `garden_core::chat`,
//! `garden_core::infer` and `garden_core::experiments`.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{ChatView, CompareView, ComparisonRow, EndpointRow, ExperimentsView};
#[cfg(feature = "ssr")]
use crate::model::ExperimentView;

/// The chat page's data: models, the open conversation and its answer in flight.
#[server(endpoint = "chat/view")]
pub async fn load_chat(conversation: Option<String>) -> Result<ChatView, AppError> {
    use garden_core::{adapters, conversations, experiments, infer};
    let studio = crate::state::studio()?;
    let hub = crate::state::hub()?;
    let conv = conversation.clone().filter(|c| !c.is_empty());
    let (endpoints, default_target, experiment, detail, meta, recent, adapters) = studio
        .db()
        .call(move |c| {
            let endpoints = infer::endpoints(c)?;
            let experiment = experiments::running(c)?;
            let default_target = match (&experiment, adapters::active(c)?) {
                (Some(e), _) => format!("the running experiment \u{201c}{}\u{201d} picks the model", e.name),
                (None, Some(a)) => match infer::find_endpoint_for_adapter(c, &a.id).and_then(|e| e.ok_or_else(|| garden_core::Error::invalid("adapter", "not deployed"))) {
                    Ok(e) => format!("the active adapter, {} {} ({})", a.name, a.version, e.name),
                    Err(_) => format!("the active adapter {} {} is not deployed: the first model below answers", a.name, a.version),
                },
                (None, None) => "the first model below (no adapter is active)".to_string(),
            };
            let (detail, meta) = match &conv {
                Some(id) => (Some(conversations::get(c, id)?), garden_core::chat::conversation_model(c, id)?),
                None => (None, (None, None)),
            };
            let recent = garden_core::chat::recent(c, 20)?;
            let adapters: Vec<(String, String)> = adapters::list(c)?.into_iter().map(|a| (a.id, format!("{} {}", a.name, a.version))).collect();
            Ok((endpoints, default_target, experiment.map(|e| e.name), detail, meta, recent, adapters))
        })
        .await?;
    let pending = conversation.as_deref().and_then(|c| hub.pending(c)).map(Into::into);
    Ok(ChatView {
        endpoints: endpoints.into_iter().map(Into::into).collect(),
        default_target,
        experiment,
        conversation: detail.map(Into::into),
        conversation_endpoint: meta.0,
        arm: meta.1,
        pending,
        recent,
        adapters,
    })
}

/// Sends a chat message; the answer streams in the background (`/turns/{id}/events`).
#[server(endpoint = "chat/send")]
pub async fn send_chat(conversation_id: Option<String>, endpoint_id: Option<String>, text: String) -> Result<String, AppError> {
    use crate::api::form::text as t;
    let sent = garden_core::chat::send(
        &crate::state::studio()?,
        &crate::state::hub()?,
        garden_core::chat::SendRequest {
            conversation_id: t(&conversation_id).map(String::from),
            endpoint_id: t(&endpoint_id).map(String::from),
            text,
            ..Default::default()
        },
    )
    .await?;
    leptos_axum::redirect(&format!("/chat?c={}", sent.conversation_id));
    Ok(sent.conversation_id)
}

/// Adds a model server (Ollama or OpenAI-compatible).
#[server(endpoint = "chat/add_model")]
pub async fn add_model(name: String, kind: String, url: String, model: String, adapter_id: Option<String>) -> Result<EndpointRow, AppError> {
    use crate::api::form::text;
    let new = garden_core::infer::NewEndpoint { name, kind, url, model, adapter_id: text(&adapter_id).map(String::from) };
    let e = crate::state::studio()?.db().call(move |c| garden_core::infer::add_endpoint(c, new)).await?;
    Ok(e.into())
}

#[server(endpoint = "chat/remove_model")]
pub async fn remove_model(id: String) -> Result<(), AppError> {
    crate::state::studio()?.db().call(move |c| garden_core::infer::remove_endpoint(c, &id)).await?;
    Ok(())
}

#[cfg(feature = "ssr")]
fn comparison_row(c: garden_core::compare::Comparison, hub: &garden_core::chat::Hub) -> ComparisonRow {
    ComparisonRow {
        turn_a: c.turn_a.as_deref().and_then(|t| hub.snapshot(t)).map(Into::into),
        turn_b: c.turn_b.as_deref().and_then(|t| hub.snapshot(t)).map(Into::into),
        id: c.id,
        prompt: c.prompt,
        name_a: c.endpoint_a.name,
        name_b: c.endpoint_b.name,
        answer_a: c.answer_a,
        answer_b: c.answer_b,
        left_arm: c.left_arm,
        blind: c.blind,
        winner: c.winner,
    }
}

/// The compare page: models, prompt sets, the comparison open, and the tally of votes.
#[server(endpoint = "compare/view")]
pub async fn load_compare(comparison: Option<String>, dataset: Option<String>) -> Result<CompareView, AppError> {
    use garden_core::{compare, export, infer};
    let studio = crate::state::studio()?;
    let hub = crate::state::hub()?;
    let turns = comparison.as_deref().and_then(|c| hub_turns(&hub, c));
    let (endpoints, datasets, prompts, comparison, tally) = studio
        .db()
        .call(move |c| {
            let endpoints = infer::endpoints(c)?;
            let datasets: Vec<(String, String)> =
                export::list(c)?.into_iter().filter(|d| d.validation_path.is_some()).map(|d| (d.id, d.name)).collect();
            let prompts = match dataset.as_deref().filter(|d| !d.is_empty()) {
                Some(d) => compare::held_out_prompts(c, d, 50)?,
                None => Vec::new(),
            };
            let comparison = match comparison.as_deref().filter(|x| !x.is_empty()) {
                Some(id) => Some(compare::get_comparison(c, id)?),
                None => None,
            };
            let tally = compare::tally(c)?;
            Ok((endpoints, datasets, prompts, comparison, tally))
        })
        .await?;
    Ok(CompareView {
        endpoints: endpoints.into_iter().map(Into::into).collect(),
        datasets,
        prompts,
        comparison: comparison.map(|mut c| {
            if let Some((a, b)) = turns {
                c.turn_a = Some(a);
                c.turn_b = Some(b);
            }
            comparison_row(c, &hub)
        }),
        tally,
    })
}

/// The turn ids of a comparison still in the hub (its answers in flight).
#[cfg(feature = "ssr")]
fn hub_turns(hub: &garden_core::chat::Hub, comparison: &str) -> Option<(String, String)> {
    hub.comparison_turns(comparison)
}

/// Starts a comparison: both answers stream side by side.
#[server(endpoint = "compare/start")]
pub async fn start_comparison(
    prompt: String,
    model_a: String,
    model_b: String,
    blind: Option<String>,
    dataset: Option<String>,
    typed: Option<String>,
    index: Option<String>,
) -> Result<String, AppError> {
    use crate::api::form::text;
    let blind = blind.as_deref().is_some_and(|b| b == "on" || b == "true");
    let c = garden_core::compare::compare(
        &crate::state::studio()?,
        &crate::state::hub()?,
        &prompt,
        &model_a,
        &model_b,
        blind,
        text(&dataset).map(String::from).or(Some("typed".into())),
    )
    .await?;
    let enc = crate::format::url_encode;
    let mut url = format!("/compare?c={}&a={}&b={}&blind={blind}", enc(&c.id), enc(&model_a), enc(&model_b));
    if let Some(i) = text(&index) {
        if let Some(d) = text(&dataset) {
            url.push_str(&format!("&dataset={}&i={}", enc(d), enc(i)));
        } else if let Some(t) = text(&typed) {
            url.push_str(&format!("&typed={}&i={}", enc(t), enc(i)));
        }
    }
    leptos_axum::redirect(&url);
    Ok(c.id)
}

/// Records a vote: a, b, tie or both_bad (then the names are revealed).
#[server(endpoint = "compare/vote")]
pub async fn vote(id: String, winner: String) -> Result<ComparisonRow, AppError> {
    let hub = crate::state::hub()?;
    let c = crate::state::studio()?.db().call(move |c| garden_core::compare::vote(c, &id, &winner)).await?;
    Ok(comparison_row(c, &hub))
}

#[cfg(feature = "ssr")]
fn experiment_view(r: garden_core::experiments::Report) -> ExperimentView {
    let chart_svg = crate::components::charts::arms_svg(&r.a.running_mean, &r.b.running_mean);
    ExperimentView {
        id: r.experiment.id,
        name: r.experiment.name,
        status: r.experiment.status,
        split_b: r.experiment.split_b,
        winner: r.experiment.winner,
        created_at: r.experiment.created_at,
        a: r.a.into(),
        b: r.b.into(),
        thumbs_test: r.judgement.thumbs_test.map(|t| (t.diff, t.diff_interval.into(), t.z, t.p_value)),
        satisfaction_test: r.judgement.satisfaction_test.map(|t| (t.diff, t.diff_interval.into(), t.t, t.df, t.p_value)),
        prob_b_better_thumbs: r.judgement.prob_b_better_thumbs,
        prob_b_better_satisfaction: r.judgement.prob_b_better_satisfaction,
        needed_per_arm: r.judgement.needed_per_arm,
        votes: (r.votes.a, r.votes.b, r.votes.ties, r.votes.both_bad, r.votes.elo_a, r.votes.elo_b, r.votes.p_a_preferred),
        better: r.judgement.better,
        verdict: r.judgement.verdict,
        chart_svg,
    }
}

/// Every experiment with its report.
#[server(endpoint = "experiments/list")]
pub async fn list_experiments() -> Result<ExperimentsView, AppError> {
    use garden_core::{experiments, infer};
    let (endpoints, reports) = crate::state::studio()?
        .db()
        .call(|c| {
            let reports = experiments::list(c)?.into_iter().map(|e| experiments::report(c, &e.id)).collect::<garden_core::Result<Vec<_>>>()?;
            Ok((infer::endpoints(c)?, reports))
        })
        .await?;
    Ok(ExperimentsView { endpoints: endpoints.into_iter().map(Into::into).collect(), experiments: reports.into_iter().map(experiment_view).collect() })
}

#[server(endpoint = "experiments/start")]
pub async fn start_experiment(name: String, arm_a: String, arm_b: String, split_b: Option<String>) -> Result<String, AppError> {
    let split = crate::api::form::number::<f64>("split", &split_b)?.unwrap_or(0.5);
    let e = crate::state::studio()?.db().call(move |c| garden_core::experiments::start(c, &name, &arm_a, &arm_b, split)).await?;
    Ok(e.id)
}

#[server(endpoint = "experiments/stop")]
pub async fn stop_experiment(id: String) -> Result<(), AppError> {
    crate::state::studio()?.db().call(move |c| garden_core::experiments::stop(c, &id)).await?;
    Ok(())
}

/// Declares the arm the evidence names as the winner: its adapter is activated and gets the
/// arm's metrics. Refused when the evidence names no winner.
#[server(endpoint = "experiments/promote")]
pub async fn promote_winner(id: String) -> Result<(), AppError> {
    crate::state::studio()?.db().call(move |c| garden_core::experiments::promote(c, &id, None, false)).await?;
    Ok(())
}

/// Where the continual-learning loop stands.
#[server(endpoint = "learn/plan")]
pub async fn learn_plan() -> Result<crate::model::LearnView, AppError> {
    use garden_core::{adapters, experiments, infer, learn};
    crate::state::studio()?
        .db()
        .call(|c| {
            let p = learn::plan(c)?;
            let run = learn::latest_cycle_run(c)?;
            let new_adapter = match &run {
                Some(r) if r.status == garden_core::train::RunStatus::Succeeded => adapters::list(c)?
                    .into_iter()
                    .find(|a| a.run_id.as_deref() == Some(r.id.as_str()))
                    .map(|a| (a.id.clone(), format!("{} {}", a.name, a.version), infer::find_endpoint_for_adapter(c, &a.id).is_ok_and(|e| e.is_some()))),
                _ => None,
            };
            Ok(crate::model::LearnView {
                active_deployed: p.active.as_ref().is_some_and(|a| infer::find_endpoint_for_adapter(c, &a.id).is_ok_and(|e| e.is_some())),
                active: p.active.map(|a| format!("{} {}", a.name, a.version)),
                previous_dataset: p.previous_dataset.map(|d| d.name),
                since: p.since,
                new_conversations: p.new_conversations,
                next_version: p.next_version,
                run: run.map(|r| (r.id, r.name, r.status.as_str().to_string())),
                new_adapter,
                experiment: experiments::running(c)?.map(|e| e.name),
            })
        })
        .await
        .map_err(Into::into)
}

/// Steps 1–3: export what is new, merge it with the previous dataset, train version N+1.
#[server(endpoint = "learn/start")]
pub async fn start_learning(from_current: Option<String>, max_steps: Option<String>) -> Result<String, AppError> {
    let opts = garden_core::learn::CycleOptions {
        since: None,
        from_current_adapter: from_current.as_deref().is_some_and(|v| v == "on" || v == "true"),
        max_steps: crate::api::form::number::<u64>("max steps", &max_steps)?,
    };
    let cycle = garden_core::learn::start(&crate::state::studio()?, &crate::state::supervisor()?, &opts).await?;
    leptos_axum::redirect(&format!("/runs/{}", cycle.run.id));
    Ok(cycle.run.id)
}

/// Step 5: the A/B experiment between the active adapter and version N+1.
#[server(endpoint = "learn/experiment")]
pub async fn start_learning_experiment(run_id: String) -> Result<String, AppError> {
    let e = garden_core::learn::start_experiment(&crate::state::studio()?, &run_id, 0.5).await?;
    leptos_axum::redirect("/experiments");
    Ok(e.id)
}
