//! Answers being generated: the [`Hub`] keeps each turn's text so far and broadcasts what comes
//! next, so any number of followers (the browser's event stream, the CLI, a page reload) see the
//! answer as it grows. Chat and side-by-side comparisons both generate through it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::broadcast;

use crate::error::{Error, Result};
use crate::infer::{self, ChatMessage, Endpoint, Sampling};

/// What a watcher of a turn receives, and one answer so far: wire types (`garden_types::chat`).
pub use garden_types::chat::{TurnEvent, TurnSnapshot};

struct TurnState {
    snapshot: TurnSnapshot,
    tx: broadcast::Sender<TurnEvent>,
    finished_at: Option<Instant>,
}

/// The answers in flight. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    turns: Arc<Mutex<HashMap<String, TurnState>>>,
    /// comparison id → (turn A, turn B) while its answers are in the hub.
    comparisons: Arc<Mutex<HashMap<String, (String, String)>>>,
    /// How long a finished turn stays (see [`KEEP`]).
    keep: std::time::Duration,
}

impl Default for Hub {
    fn default() -> Hub {
        Hub::with_keep(KEEP)
    }
}

/// What a follower of a turn receives from [`Follower::next`]: the whole answer so far, or the
/// event that came next.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnUpdate {
    /// The answer so far; it replaces whatever the follower has shown.
    Snapshot(TurnSnapshot),
    Event(TurnEvent),
}

/// Follows one turn from its start to its end (see [`Hub::follow`]).
pub struct Follower {
    hub: Hub,
    id: String,
    rx: broadcast::Receiver<TurnEvent>,
    first: Option<TurnSnapshot>,
    finished: bool,
}

impl Follower {
    /// The next update, or `None` once the turn has ended (after its `Done`/`Error`, or a
    /// snapshot that is already done). A follower too slow to keep up gets a fresh snapshot
    /// instead of a gap, so the text it shows is never wrong.
    pub async fn next(&mut self) -> Option<TurnUpdate> {
        if let Some(first) = self.first.take() {
            self.finished = first.done;
            return Some(TurnUpdate::Snapshot(first));
        }
        if self.finished {
            return None;
        }
        match self.rx.recv().await {
            Ok(event) => {
                self.finished = matches!(event, TurnEvent::Done { .. } | TurnEvent::Error { .. });
                Some(TurnUpdate::Event(event))
            }
            Err(broadcast::error::RecvError::Lagged(_)) => {
                // What is still queued is already in a snapshot: take a fresh snapshot and a
                // fresh receiver together (under the hub's lock, so nothing is lost or doubled).
                let (snapshot, rx) = self.hub.subscribe(&self.id)?;
                self.rx = rx;
                self.finished = snapshot.done;
                Some(TurnUpdate::Snapshot(snapshot))
            }
            Err(broadcast::error::RecvError::Closed) => {
                self.finished = true;
                None
            }
        }
    }
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hub")
    }
}

/// Finished turns are forgotten after this long (the stored messages remain).
const KEEP: std::time::Duration = std::time::Duration::from_secs(600);

impl Hub {
    pub fn new() -> Hub {
        Hub::default()
    }

    /// A hub that forgets finished turns (and their comparisons) after `keep` rather than
    /// [`KEEP`].
    pub fn with_keep(keep: std::time::Duration) -> Hub {
        Hub { turns: Arc::default(), comparisons: Arc::default(), keep }
    }

    /// How many turns and comparisons the hub holds (finished ones included until forgotten).
    pub fn sizes(&self) -> (usize, usize) {
        let turns = self.turns.lock().map_or(0, |t| t.len());
        let comparisons = self.comparisons.lock().map_or(0, |c| c.len());
        (turns, comparisons)
    }

    /// Follows a turn: its snapshot first, then each event until it ends. `None` when the hub
    /// does not know the turn (it finished more than [`KEEP`] ago, or never existed).
    pub fn follow(&self, id: &str) -> Option<Follower> {
        let (first, rx) = self.subscribe(id)?;
        Some(Follower { hub: self.clone(), id: id.to_owned(), rx, first: Some(first), finished: false })
    }

    pub(crate) fn open(&self, conversation_id: Option<String>) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        let (tx, _) = broadcast::channel(1024);
        if let Ok(mut turns) = self.turns.lock() {
            let keep = self.keep;
            turns.retain(|_, t| t.finished_at.is_none_or(|at| at.elapsed() < keep));
            // A comparison is forgotten with its answers (a long session does not grow without bound).
            if let Ok(mut comparisons) = self.comparisons.lock() {
                comparisons.retain(|_, (a, b)| turns.contains_key(a.as_str()) || turns.contains_key(b.as_str()));
            }
            turns.insert(
                id.clone(),
                TurnState { snapshot: TurnSnapshot { id: id.clone(), conversation_id, text: String::new(), done: false, error: None }, tx, finished_at: None },
            );
        }
        id
    }

    fn push(&self, id: &str, event: TurnEvent) {
        if let Ok(mut turns) = self.turns.lock() {
            if let Some(t) = turns.get_mut(id) {
                match &event {
                    TurnEvent::Delta { text } => t.snapshot.text.push_str(text),
                    TurnEvent::Done { .. } => {
                        t.snapshot.done = true;
                        t.finished_at = Some(Instant::now());
                    }
                    TurnEvent::Error { message } => {
                        t.snapshot.done = true;
                        t.snapshot.error = Some(message.clone());
                        t.finished_at = Some(Instant::now());
                    }
                }
                let _ = t.tx.send(event);
            }
        }
    }

    /// The turn so far and a receiver for what follows (subscribed under the same lock, so
    /// nothing falls between the two).
    pub fn subscribe(&self, id: &str) -> Option<(TurnSnapshot, broadcast::Receiver<TurnEvent>)> {
        let turns = self.turns.lock().ok()?;
        turns.get(id).map(|t| (t.snapshot.clone(), t.tx.subscribe()))
    }

    pub fn snapshot(&self, id: &str) -> Option<TurnSnapshot> {
        self.turns.lock().ok()?.get(id).map(|t| t.snapshot.clone())
    }

    /// Remembers which two turns answer a comparison (forgotten with them).
    pub(crate) fn remember_comparison(&self, comparison_id: &str, a: &str, b: &str) {
        if let Ok(mut map) = self.comparisons.lock() {
            map.insert(comparison_id.to_owned(), (a.to_owned(), b.to_owned()));
        }
    }

    /// The turns of a comparison whose answers are still known to the hub.
    pub fn comparison_turns(&self, comparison_id: &str) -> Option<(String, String)> {
        let pair = self.comparisons.lock().ok()?.get(comparison_id).cloned()?;
        let turns = self.turns.lock().ok()?;
        (turns.contains_key(&pair.0) && turns.contains_key(&pair.1)).then_some(pair)
    }

    /// The unfinished (or failed) turn of a conversation, if any.
    pub fn pending(&self, conversation_id: &str) -> Option<TurnSnapshot> {
        let turns = self.turns.lock().ok()?;
        turns
            .values()
            .filter(|t| t.snapshot.conversation_id.as_deref() == Some(conversation_id) && (!t.snapshot.done || t.snapshot.error.is_some()))
            .max_by_key(|t| t.finished_at.is_none())
            .map(|t| t.snapshot.clone())
    }

    /// Waits until the turn is finished; returns its final state.
    pub async fn wait(&self, id: &str) -> Option<TurnSnapshot> {
        let (snap, mut rx) = self.subscribe(id)?;
        if snap.done {
            return Some(snap);
        }
        loop {
            match rx.recv().await {
                Ok(TurnEvent::Done { .. } | TurnEvent::Error { .. }) | Err(broadcast::error::RecvError::Closed) => return self.snapshot(id),
                _ => {}
            }
        }
    }

    /// Generates in the background; `finish` stores the answer and returns the message id.
    pub(crate) fn generate(
        &self,
        id: String,
        endpoint: Endpoint,
        messages: Vec<ChatMessage>,
        sampling: Sampling,
        finish: impl FnOnce(String) -> Result<Option<String>> + Send + 'static,
    ) {
        let hub = self.clone();
        tokio::spawn(async move {
            let h = hub.clone();
            let turn = id.clone();
            let result = infer::chat_stream(&endpoint, &messages, sampling, move |piece| h.push(&turn, TurnEvent::Delta { text: piece.to_string() })).await;
            let event = match result.and_then(|text| {
                if text.trim().is_empty() {
                    Err(Error::Service { service: "model", url: endpoint.url.clone(), message: format!("{} gave an empty answer", endpoint.model) })
                } else {
                    Ok(text)
                }
            }) {
                Ok(text) => {
                    let stored = tokio::task::spawn_blocking(move || finish(text)).await.map_err(|e| Error::Task(e.to_string())).and_then(|r| r);
                    match stored {
                        Ok(message_id) => TurnEvent::Done { message_id },
                        Err(e) => TurnEvent::Error { message: format!("the answer could not be stored: {e}") },
                    }
                }
                Err(e) => TurnEvent::Error { message: e.to_string() },
            };
            hub.push(&id, event);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything a follower shows, applied the way the page applies it: a snapshot replaces
    /// the text, a delta appends.
    async fn shown(follower: &mut Follower) -> (String, usize) {
        let (mut text, mut snapshots) = (String::new(), 0);
        while let Some(update) = follower.next().await {
            match update {
                TurnUpdate::Snapshot(s) => {
                    text = s.text;
                    snapshots += 1;
                }
                TurnUpdate::Event(TurnEvent::Delta { text: piece }) => text.push_str(&piece),
                TurnUpdate::Event(_) => {}
            }
        }
        (text, snapshots)
    }

    #[tokio::test]
    async fn a_follower_that_falls_behind_gets_a_snapshot_and_never_wrong_text() {
        let hub = Hub::new();
        let id = hub.open(None);
        let mut slow = hub.follow(&id).unwrap();
        let mut expected = String::new();
        // Three times the channel's capacity, while the follower reads nothing.
        for i in 0..3000 {
            let piece = format!("{i} ");
            expected.push_str(&piece);
            hub.push(&id, TurnEvent::Delta { text: piece });
        }
        // The follower starts reading only now; the answer goes on while it catches up.
        let producer = {
            let (hub, id) = (hub.clone(), id.clone());
            tokio::spawn(async move {
                for i in 3000..3100 {
                    hub.push(&id, TurnEvent::Delta { text: format!("{i} ") });
                    tokio::task::yield_now().await;
                }
                hub.push(&id, TurnEvent::Done { message_id: None });
            })
        };
        for i in 3000..3100 {
            expected.push_str(&format!("{i} "));
        }
        let (text, snapshots) = tokio::time::timeout(std::time::Duration::from_secs(10), shown(&mut slow)).await.unwrap();
        producer.await.unwrap();
        assert!(snapshots >= 2, "the lag was answered with a fresh snapshot ({snapshots} snapshots)");
        assert_eq!(text.len(), expected.len(), "nothing lost and nothing doubled");
        assert_eq!(text, expected);
        assert_eq!(hub.snapshot(&id).unwrap().text, expected);

        // A follower that keeps up sees the initial snapshot only, then every delta.
        let id = hub.open(None);
        let mut quick = hub.follow(&id).unwrap();
        let reader = tokio::spawn(async move { shown(&mut quick).await });
        for i in 0..50 {
            hub.push(&id, TurnEvent::Delta { text: format!("{i}.") });
            tokio::task::yield_now().await;
        }
        hub.push(&id, TurnEvent::Done { message_id: None });
        let (text, snapshots) = reader.await.unwrap();
        assert_eq!(snapshots, 1);
        assert_eq!(text, (0..50).map(|i| format!("{i}.")).collect::<String>());
    }

    #[test]
    fn finished_turns_and_their_comparisons_are_forgotten() {
        let hub = Hub::with_keep(std::time::Duration::from_millis(50));
        let (a, b) = (hub.open(None), hub.open(None));
        hub.comparisons.lock().unwrap().insert("cmp".into(), (a.clone(), b.clone()));
        let running = hub.open(None);
        hub.comparisons.lock().unwrap().insert("live".into(), (running.clone(), running.clone()));
        for t in [&a, &b] {
            hub.push(t, TurnEvent::Done { message_id: None });
        }
        assert_eq!(hub.sizes(), (3, 2));
        assert!(hub.comparison_turns("cmp").is_some());
        std::thread::sleep(std::time::Duration::from_millis(80));
        // Pruning happens when the next answer starts.
        let next = hub.open(None);
        assert_eq!(hub.sizes(), (2, 1), "the finished pair and its comparison are gone; the running one stays");
        assert!(hub.comparison_turns("cmp").is_none());
        assert!(hub.snapshot(&a).is_none() && hub.follow(&b).is_none());
        assert!(hub.snapshot(&running).is_some() && hub.snapshot(&next).is_some());
        // A long session stays bounded: a thousand finished answers later, only what is fresh remains.
        for i in 0..1000 {
            let (x, y) = (hub.open(None), hub.open(None));
            hub.comparisons.lock().unwrap().insert(format!("c{i}"), (x.clone(), y.clone()));
            hub.push(&x, TurnEvent::Done { message_id: None });
            hub.push(&y, TurnEvent::Error { message: "down".into() });
        }
        std::thread::sleep(std::time::Duration::from_millis(80));
        hub.open(None);
        let (turns, comparisons) = hub.sizes();
        assert!(turns <= 3 && comparisons <= 1, "{turns} turns, {comparisons} comparisons kept");
    }
}
