//! An answer as it is generated: the server's text so far, then (in the browser) every piece from
//! `/turns/{id}/events` until it is done; then `on_done` refreshes the page's data.

use leptos::prelude::*;

use crate::model::TurnRow;

#[component]
pub fn LiveAnswer(turn: TurnRow, #[prop(into)] on_done: Callback<()>, #[prop(optional, into)] class: String) -> impl IntoView {
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

#[allow(unused_variables)]
fn listen(id: String, already_done: bool, text: RwSignal<String>, error: RwSignal<Option<String>>, done: RwSignal<bool>, on_done: Callback<()>) {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use leptos::wasm_bindgen::closure::Closure;
        use leptos::wasm_bindgen::JsCast;
        if already_done {
            return;
        }
        let Ok(source) = web_sys::EventSource::new(&format!("/turns/{id}/events")) else { return };
        let data = |e: &web_sys::MessageEvent| e.data().as_string().unwrap_or_default();
        let closer = send_wrapper::SendWrapper::new(source.clone());
        let on_snapshot = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&data(&e)) {
                text.set(v.get("text").and_then(|t| t.as_str()).unwrap_or_default().to_string());
                // Finished between the page render and this connection: nothing more will come.
                if v.get("done").and_then(|d| d.as_bool()) == Some(true) {
                    error.set(v.get("error").and_then(|t| t.as_str()).map(String::from));
                    done.set(true);
                    closer.close();
                    on_done.run(());
                }
            }
        });
        let on_delta = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&data(&e)) {
                if let Some(t) = v.get("text").and_then(|t| t.as_str()) {
                    text.update(|s| s.push_str(t));
                }
            }
        });
        let source2 = send_wrapper::SendWrapper::new(source.clone());
        let on_end = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&data(&e)) {
                if let Some(m) = v.get("message").and_then(|t| t.as_str()) {
                    error.set(Some(m.to_string()));
                }
            }
            done.set(true);
            source2.close();
            on_done.run(());
        });
        let _ = source.add_event_listener_with_callback("snapshot", on_snapshot.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback("delta", on_delta.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback("done", on_end.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback("error", on_end.as_ref().unchecked_ref());
        on_snapshot.forget();
        on_delta.forget();
        on_end.forget();
        let source = send_wrapper::SendWrapper::new(source);
        on_cleanup(move || source.close());
    });
}
