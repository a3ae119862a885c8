//! The adapter registry and deployment: thin shells over `garden_core::adapters`.

use garden_types::adapters::{Adapter, AdapterView, AdaptersOverview, Check, Deployment};
use leptos::prelude::*;

use crate::error::AppError;

/// Every version, succeeded runs not yet registered, and where rollback would go.
#[server(endpoint = "adapters/list")]
pub async fn list_adapters() -> Result<AdaptersOverview, AppError> {
    Ok(crate::state::studio()?.db().call(|c| garden_core::adapters::overview(c)).await?)
}

/// One adapter with its lineage, deployments and Modelfile.
#[server(endpoint = "adapters/get")]
pub async fn get_adapter(id: String) -> Result<AdapterView, AppError> {
    Ok(garden_core::adapters::view(&crate::state::studio()?, &id).await?)
}

/// Registers an adapter folder, then shows it.
#[server(endpoint = "adapters/register")]
pub async fn register_adapter(
    name: String,
    adapter_path: String,
    base_model: Option<String>,
    version: Option<String>,
    base_path: Option<String>,
    description: Option<String>,
) -> Result<Adapter, AppError> {
    let new = garden_core::adapters::NewAdapter::from_form(name, &adapter_path, base_model, version, base_path, description);
    let a = crate::state::studio()?.db().call(move |c| garden_core::adapters::register(c, new)).await?;
    leptos_axum::redirect(&format!("/adapters/{}", a.id));
    Ok(a)
}

/// Registers a succeeded run's adapter (when the automatic registration could not).
#[server(endpoint = "adapters/register_run")]
pub async fn register_run(run_id: String) -> Result<Adapter, AppError> {
    Ok(crate::state::studio()?.db().call(move |c| garden_core::adapters::register_from_run(c, &run_id)).await?)
}

#[server(endpoint = "adapters/activate")]
pub async fn activate_adapter(id: String) -> Result<Adapter, AppError> {
    let studio = crate::state::studio()?;
    Ok(studio.db().call(move |c| garden_core::adapters::activate(c, &id, "activated in the web app")).await?)
}

/// Activates the version that was active before the current one.
#[server(endpoint = "adapters/rollback")]
pub async fn rollback_adapter() -> Result<Adapter, AppError> {
    Ok(crate::state::studio()?.db().call(|c| garden_core::adapters::rollback(c)).await?)
}

#[server(endpoint = "adapters/delete")]
pub async fn delete_adapter(id: String) -> Result<Adapter, AppError> {
    let a = crate::state::studio()?.db().call(move |c| garden_core::adapters::delete(c, &id)).await?;
    leptos_axum::redirect("/adapters");
    Ok(a)
}

/// Starts a deployment to Ollama in the background; the page follows its steps.
#[server(endpoint = "adapters/deploy")]
pub async fn deploy_adapter(
    id: String,
    model_name: Option<String>,
    system: Option<String>,
    route: Option<String>,
    quantize: Option<String>,
) -> Result<Deployment, AppError> {
    use crate::api::form::text;
    use garden_core::adapters::deploy;
    let opts = deploy::DeployOptions {
        model_name: text(&model_name).map(String::from),
        system: text(&system).map(String::from),
        quantize: text(&quantize).map(String::from),
        route: deploy::Route::parse(text(&route).unwrap_or("auto"))?,
        test_prompt: None,
    };
    Ok(deploy::spawn(&crate::state::studio()?, &id, opts).await?)
}

#[server(endpoint = "adapters/deployment")]
pub async fn get_deployment(id: String) -> Result<Deployment, AppError> {
    Ok(crate::state::studio()?.db().call(move |c| garden_core::adapters::deployment(c, &id)).await?)
}

/// The guide's "adapter not loading" checks, done by the app.
#[server(endpoint = "adapters/check")]
pub async fn check_adapter(id: String) -> Result<Vec<Check>, AppError> {
    Ok(garden_core::adapters::deploy::checks(&crate::state::studio()?, &id).await?)
}
