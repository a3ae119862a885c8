//! One training run: its status and phase, the live loss and learning-rate charts from the run's
//! event stream (and, for a preference stage, the rewards with their margin, and DPO's accuracy
//! or KTO's KL), the trainer's log, and cancel or resume.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::runs::{get_run, CancelRun, ResumeRun};
#[cfg(feature = "hydrate")]
use crate::components::charts::merge;
use crate::components::charts::plot::{ChartSpec, Mark, Series};
use crate::components::charts::{lr_spec, Chart, LossChart};
use crate::components::ErrorBox;
use crate::model::{MetricPoint, ModelProgress, Phase, RunStatus, RunView};
use garden_types::prefs::Stage;

/// One run, live: loss and eval loss, learning rate, progress with ETA. The browser listens to
/// `/runs/{id}/events` (a snapshot first, then each point as it is logged).
#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let cancel = ServerAction::<CancelRun>::new();
    let resume = ServerAction::<ResumeRun>::new();
    let run = Resource::new(move || (id(), cancel.version().get(), resume.version().get()), |(id, _, _)| get_run(id));
    view! {
        <p><a href="/runs">"← Runs"</a></p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match run.await {
                    Ok(view) => view! { <LiveRun view cancel resume /> }.into_any(),
                    Err(error) => view! { <Title text="Run" /><ErrorBox error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn LiveRun(view: RunView, cancel: ServerAction<CancelRun>, resume: ServerAction<ResumeRun>) -> impl IntoView {
    let run = view.run;
    let points = RwSignal::new(view.points);
    let status = RwSignal::new(run.status);
    let error = RwSignal::new(run.error.clone());
    let received = RwSignal::new(0u64);
    let phase = RwSignal::new(run.phase);
    let model = RwSignal::new(run.model_progress.clone());
    listen(run.id.clone(), Live { points, status, error, received, phase, model });

    let last = move || points.with(|p| p.last().cloned());
    let progress = move || {
        let p = last();
        let pct = p.as_ref().and_then(|p| p.percentage).unwrap_or(0.0);
        let step = p.as_ref().map(|p| p.step).unwrap_or(0);
        let total = p.as_ref().and_then(|p| p.total_steps).or(run.total_steps).unwrap_or(0);
        let eta = p.as_ref().and_then(|p| p.remaining_s).map(secs).unwrap_or_else(|| "–".into());
        let elapsed = p.as_ref().and_then(|p| p.elapsed_s).map(secs).unwrap_or_else(|| "–".into());
        let speed = p.as_ref().and_then(|p| p.throughput).map(|t| format!(" · {t:.0} tokens/s")).unwrap_or_default();
        (pct, format!("step {step} of {total} · {pct:.1}% · elapsed {elapsed} · ETA {eta}{speed}"))
    };
    let stage = run.stage;
    let id_cancel = run.id.clone();
    let id_resume = run.id.clone();
    view! {
        <Title text=run.name.clone() />
        <div class="page-head">
            <h1>{run.name.clone()}</h1>
            <span id="run-status" class=move || format!("status {}", status.get())>{move || status.get().as_str()}</span>
        </div>
        <p class="muted" id="run-stage" data-stage=stage.as_str()>{stage.label()}</p>
        {run.cluster.clone().map(|c| view! {
            <p class="muted" id="run-cluster" data-cluster=c.clone()>
                {format!("On the Ray cluster {c}{}: its points arrive through the job's log, and the adapter comes back here when it ends.", run.job_id.as_ref().map(|j| format!(" (job {j})")).unwrap_or_default())}
            </p>
        })}
        {move || model.get().map(|m| view! { <ModelPhase m active=phase.get() == Some(Phase::Model) && status.get() == RunStatus::Running /> })}
        <section class="card">
            <div class="progress"><div class="progress-bar" style=move || format!("width: {:.1}%", progress().0)></div></div>
            <p class="summary" id="progress-text">{move || progress().1}</p>
            {move || error.get().map(|e| view! { <pre class="error-box" id="run-error" tabindex="0">{e}</pre> })}
            <div class="inline-form">
                {move || (!status.get().is_finished()).then(|| {
                    let id = id_cancel.clone();
                    view! {
                        <ActionForm action=cancel>
                            <input type="hidden" name="id" value=id />
                            <button type="submit" class="button secondary" id="cancel">"Stop (saves the adapter)"</button>
                        </ActionForm>
                    }
                })}
                {move || status.get().is_resumable().then(|| {
                    let id = id_resume.clone();
                    view! {
                        <ActionForm action=resume>
                            <input type="hidden" name="id" value=id />
                            <button type="submit" class="button" id="resume">"Resume from the last checkpoint"</button>
                        </ActionForm>
                    }
                })}
            </div>
        </section>
        <section class="card charts">
            <div class="chart" id="loss-chart" data-points=move || points.with(|p| p.iter().filter(|p| p.loss.is_some()).count().to_string())
                data-eval-points=move || points.with(|p| p.iter().filter(|p| p.eval_loss.is_some()).count().to_string())>
                <h2>"Loss"</h2>
                <LossChart points action=format!("/runs/{}", run.id) download=format!("/runs/{}/loss.svg", run.id) />
            </div>
            <div class="chart" id="lr-chart">
                <h2>"Learning rate"</h2>
                <Chart spec=Signal::derive(move || points.with(|p| lr_spec(p))) />
            </div>
            {stage.is_preference().then(|| view! {
                <div class="chart" id="rewards-chart" data-points=move || points.with(|p| p.iter().filter(|p| p.rewards_margins.is_some()).count().to_string())>
                    <h2>"Rewards"</h2>
                    <p class="muted">"The implicit reward of the chosen and of the rejected answers, and their margin: a margin that grows means the model learns to prefer what you preferred."</p>
                    <Chart spec=Signal::derive(move || points.with(|p| rewards_spec(p))) />
                </div>
                {if stage == Stage::Dpo {
                    view! {
                        <div class="chart" id="accuracies-chart" data-points=move || points.with(|p| p.iter().filter(|p| p.rewards_accuracies.is_some()).count().to_string())>
                            <h2>"Accuracy"</h2>
                            <p class="muted">"The share of pairs whose chosen answer the model rewards more than the rejected one."</p>
                            <Chart spec=Signal::derive(move || points.with(|p| accuracies_spec(p))) />
                        </div>
                    }.into_any()
                } else {
                    view! {
                        <div class="chart" id="kl-chart" data-points=move || points.with(|p| p.iter().filter(|p| p.kl.is_some()).count().to_string())>
                            <h2>"KL estimate"</h2>
                            <p class="muted">"How far the model has moved from where it started (KTO's reference point)."</p>
                            <Chart spec=Signal::derive(move || points.with(|p| kl_spec(p))) />
                        </div>
                    }.into_any()
                }}
            })}
            <p class="muted" id="live" data-received=move || received.get().to_string()>
                "Points arrive as the trainer logs them."
            </p>
        </section>
        <details class="card">
            <summary>"The exact LLaMA-Factory configuration"</summary>
            <pre class="sample" tabindex="0">{run.yaml.clone()}</pre>
            <p class="muted path">{format!("Output: {}", run.output_dir)}</p>
        </details>
    }
}

/// A value of each point, against its step.
fn by_step(points: &[MetricPoint], value: impl Fn(&MetricPoint) -> Option<f64>) -> Vec<(f64, f64)> {
    points.iter().filter_map(|p| value(p).map(|v| (p.step as f64, v))).collect()
}

/// Preference stages: the rewards of the chosen and rejected answers and their margin (training
/// lines; the margin on the validation pairs as circles).
fn rewards_spec(points: &[MetricPoint]) -> ChartSpec {
    ChartSpec::new("Rewards", "step", "reward")
        .series(Series::new("chosen", 0, Mark::Line, by_step(points, |p| p.rewards_chosen)))
        .series(Series::new("rejected", 1, Mark::Line, by_step(points, |p| p.rewards_rejected)))
        .series(Series::new("margin", 2, Mark::Line, by_step(points, |p| p.rewards_margins)))
        .series(Series::new("eval margin", 3, Mark::Dots, by_step(points, |p| p.eval_rewards_margins)))
}

/// DPO: the share of pairs ranked as the person ranked them (training, and validation circles).
fn accuracies_spec(points: &[MetricPoint]) -> ChartSpec {
    let mut spec = ChartSpec::new("Accuracy", "step", "accuracy")
        .series(Series::new("accuracy", 0, Mark::Line, by_step(points, |p| p.rewards_accuracies)))
        .series(Series::new("eval accuracy", 1, Mark::Dots, by_step(points, |p| p.eval_rewards_accuracies)));
    spec.y_bounds = Some((0.0, 1.0));
    spec
}

/// KTO: its estimate of the KL divergence from the reference.
fn kl_spec(points: &[MetricPoint]) -> ChartSpec {
    ChartSpec::new("KL estimate", "step", "KL").series(Series::new("KL", 0, Mark::Line, by_step(points, |p| p.kl)))
}

/// The base model's phase: found locally or in the cache, or its download with bytes, speed and
/// time left.
#[component]
fn ModelPhase(m: ModelProgress, active: bool) -> impl IntoView {
    let pct = if m.total_bytes > 0 { m.done_bytes as f64 / m.total_bytes as f64 * 100.0 } else { 0.0 };
    let human = |b: f64| {
        const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
        let (mut v, mut u) = (b, 0);
        while v >= 1024.0 && u < UNITS.len() - 1 {
            v /= 1024.0;
            u += 1;
        }
        if u == 0 { format!("{v:.0} B") } else { format!("{v:.1} {}", UNITS[u]) }
    };
    let detail = (m.total_bytes > 0).then(|| {
        format!(
            "{} of {} · {pct:.1}% · {} files of {}{}{}",
            human(m.done_bytes as f64),
            human(m.total_bytes as f64),
            m.files_done,
            m.files_total,
            m.bytes_per_s.map(|s| format!(" · {}/s", human(s))).unwrap_or_default(),
            m.eta_s.filter(|_| active).map(|s| format!(" · about {} left", secs(s))).unwrap_or_default(),
        )
    });
    view! {
        <section class="card" id="model-phase" data-state=m.state.as_str()>
            <h2>{format!("Base model · {}", m.repo)}</h2>
            {(m.total_bytes > 0).then(|| view! {
                <div class="progress"><div class="progress-bar" style=format!("width: {pct:.1}%")></div></div>
            })}
            {detail.map(|d| view! { <p class="summary" id="model-progress">{d}</p> })}
            {m.message.map(|t| view! { <p id="model-message">{t}</p> })}
            {m.path.map(|p| view! { <p class="muted path">{format!("Loaded from {p}")}</p> })}
        </section>
    }
}

fn secs(s: f64) -> String {
    let s = s.max(0.0) as u64;
    if s >= 3600 { format!("{}h{:02}m", s / 3600, s % 3600 / 60) } else { format!("{}m{:02}s", s / 60, s % 60) }
}

/// What the event stream updates.
#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
struct Live {
    points: RwSignal<Vec<MetricPoint>>,
    status: RwSignal<RunStatus>,
    error: RwSignal<Option<String>>,
    received: RwSignal<u64>,
    phase: RwSignal<Option<Phase>>,
    model: RwSignal<Option<ModelProgress>>,
}

/// Subscribes to the run's event stream (in the browser only): `snapshot` first (the whole
/// state, again after a reader fell behind), then `points`, `status` and `model` events.
#[allow(unused_variables)]
fn listen(id: String, live: Live) {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use serde::Deserialize;

        use crate::components::live::{follow_events, Flow};
        use crate::model::RunSnapshot;

        let Live { points, status, error, received, phase, model } = live;
        #[derive(Deserialize)]
        struct Points {
            points: Vec<MetricPoint>,
        }
        #[derive(Deserialize)]
        struct Status {
            status: RunStatus,
        }
        #[derive(Deserialize)]
        struct Model {
            progress: ModelProgress,
        }
        let on_snapshot = move |data: String| {
            if let Ok(s) = serde_json::from_str::<RunSnapshot>(&data) {
                points.update(|p| merge(p, s.points));
                status.set(s.status);
                error.set(s.error);
                phase.set(s.phase);
                if s.model.is_some() {
                    model.set(s.model);
                }
                received.update(|n| *n += 1);
            }
            Flow::Continue
        };
        let on_points = move |data: String| {
            if let Ok(s) = serde_json::from_str::<Points>(&data) {
                points.update(|p| merge(p, s.points));
                phase.set(Some(Phase::Training));
                received.update(|n| *n += 1);
            }
            Flow::Continue
        };
        let on_status = move |data: String| {
            if let Ok(s) = serde_json::from_str::<Status>(&data) {
                status.set(s.status);
                received.update(|n| *n += 1);
            }
            Flow::Continue
        };
        let on_model = move |data: String| {
            if let Ok(s) = serde_json::from_str::<Model>(&data) {
                phase.set(Some(Phase::Model));
                model.set(Some(s.progress));
                received.update(|n| *n += 1);
            }
            Flow::Continue
        };
        // The source is closed, and these handlers dropped, when the page goes.
        follow_events(
            &format!("/runs/{id}/events"),
            vec![
                ("snapshot", Box::new(on_snapshot)),
                ("points", Box::new(on_points)),
                ("status", Box::new(on_status)),
                ("model", Box::new(on_model)),
            ],
        );
    });
}
