//! The 404 page: says the page does not exist and links back home.

use leptos::prelude::*;
use leptos_meta::Title;

/// Any path that is not a page.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(axum::http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <Title text="Not found" />
        <h1>"Page not found"</h1>
        <p>"There is no page at this address. " <a href="/">"Back to the start"</a></p>
    }
}
