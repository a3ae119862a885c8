//! The browser entry point: hydrate the page the server rendered.

// The pages' view types are deep; release builds (no `erase_components`) need the room.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
