//! Chat, side-by-side comparison, A/B experiments and continual learning: thin shells over
//! `garden_core::chat`, `compare`, `infer`, `experiments` and `learn`.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{ChatView, CompareView, ComparisonView, Endpoint, ExperimentsView, LearnView};

/// The chat page's data: models, the open conversation and its answer in flight.
#[server(endpoint = "chat/view")]
pub async fn load_chat(conversation: Option<String>) -> Result<ChatView, AppError> {
    Ok(garden_core::chat::page(&crate::state::studio()?, &crate::state::hub()?, conversation).await?)
}

/// Sends a chat message; the answer streams in the background (`/turns/{id}/events`).
#[server(endpoint = "chat/send")]
pub async fn send_chat(conversation_id: Option<String>, endpoint_id: Option<String>, text: String) -> Result<String, AppError> {
    let request = garden_core::chat::SendRequest::from_form(conversation_id, endpoint_id, text);
    let sent = garden_core::chat::send(&crate::state::studio()?, &crate::state::hub()?, request).await?;
    leptos_axum::redirect(&format!("/chat?c={}", sent.conversation_id));
    Ok(sent.conversation_id)
}

/// Adds a model server (Ollama or OpenAI-compatible).
#[server(endpoint = "chat/add_model")]
pub async fn add_model(name: String, kind: String, url: String, model: String, adapter_id: Option<String>) -> Result<Endpoint, AppError> {
    use crate::api::form::text;
    let new = garden_core::infer::NewEndpoint { name, kind, url, model, adapter_id: text(&adapter_id).map(String::from) };
    Ok(crate::state::studio()?.db().call(move |c| garden_core::infer::add_endpoint(c, new)).await?)
}

#[server(endpoint = "chat/remove_model")]
pub async fn remove_model(id: String) -> Result<(), AppError> {
    crate::state::studio()?.db().call(move |c| garden_core::infer::remove_endpoint(c, &id)).await?;
    Ok(())
}

/// The compare page: models, prompt sets, the comparison open, and the tally of votes.
#[server(endpoint = "compare/view")]
pub async fn load_compare(comparison: Option<String>, dataset: Option<String>) -> Result<CompareView, AppError> {
    Ok(garden_core::compare::page(&crate::state::studio()?, &crate::state::hub()?, comparison, dataset).await?)
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
    let set = text(&dataset).map(String::from).or(Some("typed".into()));
    let c = garden_core::compare::compare(&crate::state::studio()?, &crate::state::hub()?, &prompt, &model_a, &model_b, blind, set).await?;
    leptos_axum::redirect(&compare_url(&c.id, &model_a, &model_b, blind, text(&dataset), text(&typed), text(&index)));
    Ok(c.id)
}

/// The compare page showing a comparison, with its place in the prompt set (a dataset's, or
/// typed prompts) when it came from one.
#[cfg(feature = "ssr")]
fn compare_url(id: &str, a: &str, b: &str, blind: bool, dataset: Option<&str>, typed: Option<&str>, index: Option<&str>) -> String {
    let enc = crate::format::url_encode;
    let mut url = format!("/compare?c={}&a={}&b={}&blind={blind}", enc(id), enc(a), enc(b));
    match (index, dataset, typed) {
        (Some(i), Some(d), _) => url.push_str(&format!("&dataset={}&i={}", enc(d), enc(i))),
        (Some(i), None, Some(t)) => url.push_str(&format!("&typed={}&i={}", enc(t), enc(i))),
        _ => {}
    }
    url
}

/// Records a vote: a, b, tie or both_bad (then the names are revealed).
#[server(endpoint = "compare/vote")]
pub async fn vote(id: String, winner: String) -> Result<ComparisonView, AppError> {
    let winner: garden_core::compare::Winner = winner.parse().map_err(garden_core::Error::from)?;
    let c = crate::state::studio()?.db().call(move |c| garden_core::compare::vote(c, &id, winner)).await?;
    Ok(garden_core::compare::view(&crate::state::hub()?, c))
}

/// Every experiment with its report.
#[server(endpoint = "experiments/list")]
pub async fn list_experiments() -> Result<ExperimentsView, AppError> {
    Ok(crate::state::studio()?.db().call(|c| garden_core::experiments::overview(c)).await?)
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
pub async fn learn_plan() -> Result<LearnView, AppError> {
    Ok(crate::state::studio()?.db().call(|c| garden_core::learn::status(c)).await?)
}

/// Steps 1–3: export what is new, merge it with the previous dataset, train version N+1; or,
/// with a preference `stage` (kto, dpo), export the new judgements and train N+1 on them on top
/// of the active adapter.
#[server(endpoint = "learn/start")]
pub async fn start_learning(
    from_current: Option<String>,
    max_steps: Option<String>,
    stage: Option<String>,
    pref_loss: Option<String>,
    pref_beta: Option<String>,
) -> Result<String, AppError> {
    use crate::api::form::{number, text};
    use garden_core::train::{config::Stage, prefs::PrefLoss};
    let stage = text(&stage).map(str::parse::<Stage>).transpose().map_err(garden_core::Error::from)?.unwrap_or_default();
    let opts = garden_core::learn::CycleOptions {
        since: None,
        // A preference cycle always starts from the active adapter (its form has no such box).
        from_current_adapter: stage.is_preference()
            || from_current.as_deref().is_some_and(|v| v == "on" || v == "true"),
        max_steps: number::<u64>("max steps", &max_steps)?,
        stage,
        pref_loss: text(&pref_loss).map(str::parse::<PrefLoss>).transpose().map_err(garden_core::Error::from)?,
        pref_beta: number::<f64>("pref_beta", &pref_beta)?,
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
