//! What an empty list or select says: why it is empty, and links to where it gets filled.

use leptos::prelude::*;

/// A short note in place of (or beside) a list or select that has nothing in it yet. `what`
/// names the missing thing (`data-empty`, for tests and styles); the children say why, with a
/// link to each page that fills it.
#[component]
pub fn EmptyNote(
    /// The missing thing: `models`, `datasets`, `adapters`, …
    what: &'static str,
    children: Children,
) -> impl IntoView {
    view! { <p class="empty-note" data-empty=what role="note">{children()}</p> }
}
