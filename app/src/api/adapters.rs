//! The adapter registry and deployment: thin shells over `garden_core::adapters`.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{AdapterRow, AdapterView, AdaptersOverview, DeployCheck, DeploymentRow};

/// Every version, succeeded runs not yet registered, and where rollback would go.
#[server(endpoint = "adapters/list")]
pub async fn list_adapters() -> Result<AdaptersOverview, AppError> {
    use garden_core::adapters;
    crate::state::studio()?
        .db()
        .call(|c| {
            let list = adapters::list(c)?;
            let runs = adapters::unregistered_runs(c)?;
            let rollback_to = adapters::rollback_target(c)?.map(|a| format!("{} {}", a.name, a.version));
            Ok(AdaptersOverview { adapters: list.into_iter().map(Into::into).collect(), unregistered_runs: runs, rollback_to })
        })
        .await
        .map_err(Into::into)
}

/// One adapter with its lineage, deployments and Modelfile.
#[server(endpoint = "adapters/get")]
pub async fn get_adapter(id: String) -> Result<AdapterView, AppError> {
    use garden_core::adapters::{self, deploy, modelfile};
    let studio = crate::state::studio()?;
    let l = studio.db().call(move |c| adapters::lineage(c, &id)).await?;
    let a = l.adapter.clone();
    let modelfile_text = deploy::modelfile_text(&studio, &a)?;
    let names: std::collections::HashMap<String, String> = {
        let ids: Vec<String> = l.activations.iter().flat_map(|x| [Some(x.adapter_id.clone()), x.previous_id.clone()]).flatten().collect();
        studio
            .db()
            .call(move |c| Ok(ids.into_iter().filter_map(|i| adapters::get(c, &i).ok().map(|a| (i, format!("{} {}", a.name, a.version)))).collect()))
            .await?
    };
    let name_of = |id: &str| names.get(id).cloned().unwrap_or_else(|| "a removed adapter".into());
    Ok(AdapterView {
        default_model_name: deploy::default_model_name(&a),
        default_system: modelfile::DEFAULT_SYSTEM.to_string(),
        ollama_url: studio.settings().ollama_url.clone(),
        modelfile: modelfile_text,
        modelfile_note: modelfile::NOTE.to_string(),
        base_precision_note: l.run.as_ref().and_then(garden_core::adapters::LineageRun::base_precision_note),
        run: l.run.map(|r| (r.id, r.name, r.status)),
        dataset: l.dataset.map(|d| crate::model::LineageDataset {
            id: d.id,
            name: d.name,
            examples: d.examples,
            conversations: d.conversations,
            avg_satisfaction: d.avg_satisfaction,
        }),
        parent: l.parent.map(Into::into),
        deployments: l.deployments.into_iter().map(Into::into).collect(),
        activations: l
            .activations
            .iter()
            .map(|x| {
                let what = if x.adapter_id == a.id {
                    match &x.previous_id {
                        Some(p) => format!("activated, replacing {} ({})", name_of(p), x.reason),
                        None => format!("activated ({})", x.reason),
                    }
                } else {
                    format!("replaced by {} ({})", name_of(&x.adapter_id), x.reason)
                };
                (x.at, what)
            })
            .collect(),
        adapter: a.into(),
    })
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
) -> Result<AdapterRow, AppError> {
    use crate::api::form::text;
    if adapter_path.trim().is_empty() {
        return Err(AppError::Invalid { field: "adapter path".into(), message: "give the folder that holds adapter_config.json".into() });
    }
    let new = garden_core::adapters::NewAdapter {
        name,
        version: text(&version).map(String::from),
        description: description.unwrap_or_default(),
        base_model: text(&base_model).map(String::from),
        base_path: text(&base_path).map(std::path::PathBuf::from),
        path: std::path::PathBuf::from(adapter_path.trim()),
        run_id: None,
        dataset_id: None,
    };
    let a = crate::state::studio()?.db().call(move |c| garden_core::adapters::register(c, new)).await?;
    leptos_axum::redirect(&format!("/adapters/{}", a.id));
    Ok(a.into())
}

/// Registers a succeeded run's adapter (when the automatic registration could not).
#[server(endpoint = "adapters/register_run")]
pub async fn register_run(run_id: String) -> Result<AdapterRow, AppError> {
    let a = crate::state::studio()?
        .db()
        .call(move |c| {
            let run = garden_core::train::runs::get(c, &run_id)?;
            garden_core::adapters::register_run(c, run.new_adapter()?)
        })
        .await?;
    Ok(a.into())
}

#[server(endpoint = "adapters/activate")]
pub async fn activate_adapter(id: String) -> Result<AdapterRow, AppError> {
    let a = crate::state::studio()?
        .db()
        .call(move |c| garden_core::adapters::activate(c, &id, "activated in the web app"))
        .await?;
    Ok(a.into())
}

/// Activates the version that was active before the current one.
#[server(endpoint = "adapters/rollback")]
pub async fn rollback_adapter() -> Result<AdapterRow, AppError> {
    let a = crate::state::studio()?.db().call(|c| garden_core::adapters::rollback(c)).await?;
    Ok(a.into())
}

#[server(endpoint = "adapters/delete")]
pub async fn delete_adapter(id: String) -> Result<AdapterRow, AppError> {
    let a = crate::state::studio()?.db().call(move |c| garden_core::adapters::delete(c, &id)).await?;
    leptos_axum::redirect("/adapters");
    Ok(a.into())
}

/// Starts a deployment to Ollama in the background; the page follows its steps.
#[server(endpoint = "adapters/deploy")]
pub async fn deploy_adapter(
    id: String,
    model_name: Option<String>,
    system: Option<String>,
    route: Option<String>,
    quantize: Option<String>,
) -> Result<DeploymentRow, AppError> {
    use crate::api::form::text;
    use garden_core::adapters::deploy;
    let opts = deploy::DeployOptions {
        model_name: text(&model_name).map(String::from),
        system: text(&system).map(String::from),
        quantize: text(&quantize).map(String::from),
        route: deploy::Route::parse(text(&route).unwrap_or("auto"))?,
        test_prompt: None,
    };
    let d = deploy::spawn(&crate::state::studio()?, &id, opts).await?;
    Ok(d.into())
}

#[server(endpoint = "adapters/deployment")]
pub async fn get_deployment(id: String) -> Result<DeploymentRow, AppError> {
    let d = crate::state::studio()?.db().call(move |c| garden_core::adapters::deployment(c, &id)).await?;
    Ok(d.into())
}

/// The seed's "adapter not loading" checks, done by the app.
#[server(endpoint = "adapters/check")]
pub async fn check_adapter(id: String) -> Result<Vec<DeployCheck>, AppError> {
    let studio = crate::state::studio()?;
    let a = studio.db().call(move |c| garden_core::adapters::find(c, &id)).await?;
    Ok(garden_core::adapters::deploy::troubleshoot(&studio, &a).await.into_iter().map(Into::into).collect())
}
