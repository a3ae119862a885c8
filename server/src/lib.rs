//! The garden-eden host: the axum router around the Leptos app, the request guard, and
//! `serve(config, listener, shutdown)` so that tests can run the real server in-process on port 0.

// The pages' view types are deep; release builds (no `erase_components`) need the room.
#![recursion_limit = "256"]

mod events;
pub mod hub_stand_in;
pub mod ollama_stand_in;
pub mod security;
mod upload;

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use app::state::AppState;
use app::{shell, App, OUTPUT_NAME};
use axum::Router;
use garden_core::Studio;
use leptos::config::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};

pub use security::HostGuard;

/// Errors starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "refusing to listen on {addr}: it is reachable from other machines, and garden-eden can run \
         training processes and write files for whoever reaches it. Use 127.0.0.1, or pass \
         --allow-remote if you really mean it (and put it behind a firewall)"
    )]
    NotLoopback { addr: SocketAddr },
    #[error("the web assets were not found in {0}: build them with `cargo leptos build` (./scripts/start does), or pass --site-root")]
    NoSite(PathBuf),
    #[error("starting the training supervisor: {0}")]
    Trainer(#[source] garden_core::Error),
    #[error("listening on {addr}: {source}")]
    Io {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}

/// What `serve` needs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub studio: Studio,
    /// Folder with `pkg/garden-eden.{js,wasm,css}`.
    pub site_root: PathBuf,
    /// Host names allowed besides loopback ones.
    pub allowed_hosts: Vec<String>,
}

/// Checks the listening address: loopback unless the person explicitly allowed otherwise.
pub fn check_bind_addr(addr: SocketAddr, allow_remote: bool) -> Result<(), ServeError> {
    if addr.ip().is_loopback() || allow_remote {
        Ok(())
    } else {
        Err(ServeError::NotLoopback { addr })
    }
}

/// Where the built site is: `$LEPTOS_SITE_ROOT`, else `site/` beside the binary's target folder
/// (`target/debug/garden-eden` → `target/site`), else `target/site` under the current directory.
pub fn default_site_root() -> PathBuf {
    if let Some(root) = std::env::var_os("LEPTOS_SITE_ROOT") {
        return PathBuf::from(root);
    }
    if let Ok(exe) = std::env::current_exe() {
        if let Some(target) = exe.parent().and_then(Path::parent) {
            let site = target.join("site");
            if site.join("pkg").exists() {
                return site;
            }
        }
    }
    PathBuf::from("target/site")
}

/// The Leptos options for a site root and address.
pub fn leptos_options(site_root: &Path, addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build()
}

/// The whole HTTP surface: pages, server functions, static files, behind the guard.
pub fn router(state: AppState, guard: HostGuard) -> Router {
    let routes = generate_route_list(App);
    let pkg = Path::new(state.leptos_options.site_root.as_ref()).join(state.leptos_options.site_pkg_dir.as_ref());
    Router::new()
        // The bundle: a release build ships `.br` and `.gz` twins of each file (`cargo leptos
        // build --release --precompress`), sent as they are to a browser that accepts them (the
        // compression layer leaves an encoded response alone), and conditional requests are
        // answered (304), which the pages' own file handler does not do. The names carry no hash,
        // so the browser keeps a copy but asks again each time (`no-cache`: a 304 while it is
        // unchanged), and an upgraded garden-eden is never served from a stale cache.
        .nest_service(
            "/pkg",
            tower_http::set_header::SetResponseHeader::if_not_present(
                tower_http::services::ServeDir::new(pkg).precompressed_br().precompressed_gzip(),
                http::header::CACHE_CONTROL,
                http::HeaderValue::from_static("no-cache"),
            ),
        )
        .route(
            "/import/upload",
            axum::routing::post(upload::upload).layer(axum::extract::DefaultBodyLimit::max(upload::MAX_UPLOAD)),
        )
        .route("/runs/{id}/events", axum::routing::get(events::run_events))
        .route("/runs/{id}/loss.svg", axum::routing::get(events::loss_svg))
        .route("/adapters/{id}/Modelfile", axum::routing::get(events::modelfile))
        .route("/turns/{id}/events", axum::routing::get(events::turn_events))
        .leptos_routes(&state, routes, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn_with_state(Arc::new(guard), security::guard))
        // br or gzip, as the browser asks; event streams (text/event-stream) are never compressed,
        // so live charts and answers arrive as they are sent.
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(state)
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    config: ServeConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let addr = listener.local_addr().map_err(|source| ServeError::Io {
        addr: "the listener".into(),
        source,
    })?;
    if !config.site_root.join("pkg").exists() {
        return Err(ServeError::NoSite(config.site_root));
    }
    let mut guard = HostGuard::new(config.allowed_hosts);
    if !addr.ip().is_loopback() && !addr.ip().is_unspecified() {
        guard.allow(&addr.ip().to_string());
    }
    // What interrupted writes (an export, merge, conversion or upload killed mid-way) left behind:
    // temporary files older than this start and untouched for two minutes.
    let data_dir = config.studio.settings().data_dir.clone();
    let started = std::time::SystemTime::now();
    let swept = tokio::task::spawn_blocking(move || {
        garden_core::fsutil::sweep_temporaries(&data_dir, started, std::time::Duration::from_secs(120))
    })
    .await
    .unwrap_or_default();
    if !swept.is_empty() {
        tracing::info!(count = swept.len(), "removed leftovers of interrupted writes");
    }
    let supervisor = garden_core::train::Supervisor::start(config.studio.clone())
        .await
        .map_err(ServeError::Trainer)?;
    let stale = config
        .studio
        .db()
        .call(|c| garden_core::adapters::deploy::reconcile(c))
        .await
        .map_err(ServeError::Trainer)?;
    if stale > 0 {
        tracing::warn!(stale, "deployments interrupted by the last shutdown were marked failed");
    }
    let state = AppState {
        leptos_options: leptos_options(&config.site_root, addr),
        studio: config.studio,
        supervisor,
        hub: garden_core::chat::Hub::new(),
    };
    let app = router(state, guard);
    tracing::info!("garden-eden is listening on http://{addr}");
    // Graceful: once `shutdown` resolves, open requests get a few seconds to finish; a client that
    // holds its connection open (a stalled upload, a forgotten keep-alive) cannot keep the server
    // from stopping.
    let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stopping.send(());
        })
        .into_future();
    let grace = async {
        if stopped.await.is_ok() {
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        served = server => served.map_err(|source| ServeError::Io { addr: addr.to_string(), source }),
        () = grace => {
            tracing::warn!("connections still open {}s after the stop: closing them", SHUTDOWN_GRACE.as_secs());
            Ok(())
        }
    }
}

/// How long open requests may take to finish once the server is told to stop.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);
