//! Live training progress as Server-Sent Events: `GET /runs/{id}/events` sends a snapshot from the
//! database first (so a reload or a reconnect loses nothing), then every new point and status
//! change as the supervisor stores it.

use std::convert::Infallible;
use std::time::Duration;

use app::state::AppState;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use garden_core::train::runs;
use garden_core::train::RunEvent;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

pub async fn run_events(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    // Subscribe before reading the snapshot: a point stored in between is sent twice (harmless,
    // points are keyed by step) rather than lost.
    let receiver = state.supervisor.subscribe();
    let db = state.studio.db().clone();
    let snapshot = match snapshot(&db, &id).await {
        Ok(s) => s,
        Err(e) => return (axum::http::StatusCode::NOT_FOUND, e.to_string()).into_response(),
    };
    Sse::new(events(db, id, snapshot, receiver))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

async fn snapshot(db: &garden_core::db::Db, id: &str) -> garden_core::Result<Event> {
    let id = id.to_owned();
    let snapshot = db.call(move |c| runs::snapshot(c, &id)).await?;
    Ok(Event::default().event("snapshot").data(serde_json::to_string(&snapshot).unwrap_or_default()))
}

fn events(
    db: garden_core::db::Db,
    id: String,
    first: Event,
    receiver: tokio::sync::broadcast::Receiver<RunEvent>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold((Some(first), receiver, db, id), |(pending, mut rx, db, id)| async move {
        if let Some(event) = pending {
            return Some((Ok(event), (None, rx, db, id)));
        }
        loop {
            match rx.recv().await {
                Ok(RunEvent::Points { run_id, points }) if run_id == id => {
                    let event = Event::default().event("points").data(json!({ "points": points }).to_string());
                    return Some((Ok(event), (None, rx, db, id)));
                }
                Ok(RunEvent::Model { run_id, progress }) if run_id == id => {
                    let event = Event::default().event("model").data(json!({ "progress": progress }).to_string());
                    return Some((Ok(event), (None, rx, db, id)));
                }
                Ok(RunEvent::Status { run_id, status }) if run_id == id => {
                    let event = Event::default().event("status").data(json!({ "status": status }).to_string());
                    return Some((Ok(event), (None, rx, db, id)));
                }
                Ok(_) => continue,
                // Too slow a reader: send the whole state again instead of a gap, and skip the
                // backlog the state already holds.
                Err(RecvError::Lagged(_)) => {
                    rx = rx.resubscribe();
                    let event = snapshot(&db, &id).await.ok()?;
                    return Some((Ok(event), (None, rx, db, id)));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    })
}

/// `GET /adapters/{id}/Modelfile`: the guide's default Modelfile for an adapter, as a download.
pub async fn modelfile(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let studio = state.studio.clone();
    let found = studio.db().call(move |c| garden_core::adapters::find(c, &id)).await;
    let adapter = match found {
        Ok(a) => a,
        Err(e) => return (axum::http::StatusCode::NOT_FOUND, e.to_string()).into_response(),
    };
    let text = match garden_core::adapters::deploy::modelfile_text(&studio, &adapter) {
        Ok(t) => t,
        Err(e) => return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/plain; charset=utf-8".to_string()),
            (axum::http::header::CONTENT_DISPOSITION, "attachment; filename=\"Modelfile\"".to_string()),
        ],
        text,
    )
        .into_response()
}

/// `GET /runs/{id}/loss.svg?smooth=&log=`: the run's loss chart as a standalone SVG file (the
/// run page's download), drawn from the stored points with the page's smoothing and scale.
pub async fn loss_svg(
    State(state): State<AppState>,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    use app::components::charts::{loss_spec, parse_flag, parse_smoothing, plot};
    let id2 = id.clone();
    let points = state
        .studio
        .db()
        .call(move |c| {
            garden_core::train::runs::get(c, &id2)?;
            garden_core::train::runs::metrics(c, &id2)
        })
        .await;
    let points = match points {
        Ok(p) => p,
        Err(e) => return (axum::http::StatusCode::NOT_FOUND, e.to_string()).into_response(),
    };
    let spec = loss_spec(&points, parse_smoothing(q.get("smooth").map(String::as_str)), parse_flag(q.get("log").map(String::as_str)));
    let svg = plot::to_svg(&plot::Layout::of(&spec));
    let name: String = id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
    (
        [
            (axum::http::header::CONTENT_TYPE, "image/svg+xml".to_string()),
            (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"loss-{name}.svg\"")),
        ],
        svg,
    )
        .into_response()
}

/// `GET /turns/{id}/events`: an answer as it is generated. `snapshot` first (the text so far),
/// then `delta` events, and `done` or `error` at the end. A listener too slow to keep up gets a
/// fresh `snapshot` (the page replaces its text) instead of a gap: see [`garden_core::chat::Follower`].
pub async fn turn_events(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    use garden_core::chat::{TurnEvent, TurnUpdate};
    let Some(follower) = state.hub.follow(&id) else {
        return (axum::http::StatusCode::NOT_FOUND, "no such answer (it finished a while ago: reload the page)").into_response();
    };
    let updates = stream::unfold(follower, |mut follower| async move {
        let event = match follower.next().await? {
            TurnUpdate::Snapshot(s) => Event::default().event("snapshot").data(serde_json::to_string(&s).unwrap_or_default()),
            TurnUpdate::Event(ev) => {
                let name = match &ev {
                    TurnEvent::Delta { .. } => "delta",
                    TurnEvent::Done { .. } => "done",
                    TurnEvent::Error { .. } => "error",
                };
                Event::default().event(name).data(serde_json::to_string(&ev).unwrap_or_default())
            }
        };
        Some((Ok::<Event, Infallible>(event), follower))
    });
    Sse::new(updates).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response()
}
