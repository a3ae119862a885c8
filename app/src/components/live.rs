//! An answer as it is generated: the server's text so far, then (in the browser) every piece from
//! `/turns/{id}/events` until it is done; then `on_done` refreshes the page's data.

use leptos::prelude::*;

use crate::model::TurnSnapshot;

#[component]
pub fn LiveAnswer(turn: TurnSnapshot, #[prop(into)] on_done: Callback<()>, #[prop(optional, into)] class: String) -> impl IntoView {
    let text = RwSignal::new(turn.text.clone());
    let error = RwSignal::new(turn.error.clone());
    let done = RwSignal::new(turn.done);
    listen(turn.id.clone(), turn.done, text, error, done, on_done);
    let classes = format!("live-answer {class}");
    view! {
        <div class=classes data-turn=turn.id.clone() data-done=move || done.get().to_string()>
            <div class="message-body">{move || text.get()}
                {move || (!done.get()).then(|| view! { <span class="cursor" aria-hidden="true">"▍"</span> })}
            </div>
            {move || error.get().map(|e| view! { <div class="error-box" role="alert"><strong>"The model did not answer"</strong><p>{e}</p></div> })}
            // Without JavaScript the page reloads itself until the answer is complete.
            {(!turn.done).then(|| view! { <noscript><meta http-equiv="refresh" content="1" /></noscript> })}
        </div>
    }
}

/// What a handler of [`follow_events`] wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// Close the event source: nothing more is wanted.
    Close,
}

/// Follows the server-sent events at `url` while the calling component lives: each named event's
/// data goes to its handler. The source is closed, and the handlers dropped, when a handler says
/// [`Flow::Close`] or the component goes (nothing is leaked across mounts).
#[cfg(feature = "hydrate")]
pub fn follow_events(url: &str, handlers: Vec<(&'static str, Box<dyn FnMut(String) -> Flow>)>) {
    use leptos::wasm_bindgen::closure::Closure;
    use leptos::wasm_bindgen::JsCast;
    let Ok(source) = web_sys::EventSource::new(url) else { return };
    let mut closures = Vec::with_capacity(handlers.len());
    for (name, mut handler) in handlers {
        let this = source.clone();
        // A connection error arrives as a plain `Event`: its data reads as empty.
        let closure = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            if handler(e.data().as_string().unwrap_or_default()) == Flow::Close {
                this.close();
            }
        });
        let _ = source.add_event_listener_with_callback(name, closure.as_ref().unchecked_ref());
        closures.push(closure);
    }
    let owned = send_wrapper::SendWrapper::new((source, closures));
    on_cleanup(move || {
        let (source, closures) = owned.take();
        source.close();
        drop(closures);
    });
}

#[allow(unused_variables)]
fn listen(id: String, already_done: bool, text: RwSignal<String>, error: RwSignal<Option<String>>, done: RwSignal<bool>, on_done: Callback<()>) {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if already_done {
            return;
        }
        let value = |data: &str| serde_json::from_str::<serde_json::Value>(data).ok();
        let text_of = |v: &serde_json::Value, key: &str| v.get(key).and_then(|t| t.as_str()).map(String::from);
        let on_snapshot = move |data: String| {
            let Some(v) = value(&data) else { return Flow::Continue };
            text.set(text_of(&v, "text").unwrap_or_default());
            // Finished between the page render and this connection: nothing more will come.
            if v.get("done").and_then(|d| d.as_bool()) == Some(true) {
                error.set(text_of(&v, "error"));
                done.set(true);
                on_done.run(());
                return Flow::Close;
            }
            Flow::Continue
        };
        let on_delta = move |data: String| {
            if let Some(t) = value(&data).and_then(|v| text_of(&v, "text")) {
                text.update(|s| s.push_str(&t));
            }
            Flow::Continue
        };
        let on_end = move |data: String| {
            if let Some(m) = value(&data).and_then(|v| text_of(&v, "message")) {
                error.set(Some(m));
            }
            done.set(true);
            on_done.run(());
            Flow::Close
        };
        follow_events(
            &format!("/turns/{id}/events"),
            vec![("snapshot", Box::new(on_snapshot)), ("delta", Box::new(on_delta)), ("done", Box::new(on_end)), ("error", Box::new(on_end))],
        );
    });
}
