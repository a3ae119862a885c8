//! garden-eden's web UI: the HTML shell, the route table and the pages, plus the server functions
//! they call (compiled into the server under `ssr`, into client stubs under `hydrate`).
// The chart's view type (an SVG with its read-out and controls) is deep enough that a release
// build, without `erase_components`, needs more than the default 128.
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod error;
pub mod format;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::hooks::use_location;
use leptos_router::{ParamSegment, SsrMode, StaticSegment};

/// The name of the browser bundle (`pkg/garden-eden.js`, `.wasm`, `.css`).
pub const OUTPUT_NAME: &str = "garden-eden";

/// The HTML document around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: layout, navigation and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser: this flips once the page is hydrated, which tests (and
    // curious people) can see on the root element.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    view! {
        <Stylesheet id="leptos" href=format!("/pkg/{OUTPUT_NAME}.css") />
        <Title formatter=|text: String| {
            if text.is_empty() { "garden-eden".to_owned() } else { format!("{text} · garden-eden") }
        } />
        <Router>
            <div class="layout" data-hydrated=move || if hydrated.get() { "true" } else { "false" }>
                <header class="topbar">
                    <a class="brand" href="/">
                        <span class="brand-mark" aria-hidden="true">"❦"</span>
                        "garden-eden"
                    </a>
                    <MainNav />
                </header>
                <main>
                    <Routes fallback=pages::not_found::NotFound>
                        <Route path=StaticSegment("") view=pages::home::HomePage ssr=SsrMode::Async />
                        <Route
                            path=StaticSegment("conversations")
                            view=pages::conversations::ConversationsPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=(StaticSegment("conversations"), ParamSegment("id"))
                            view=pages::conversation::ConversationPage
                            ssr=SsrMode::Async
                        />
                        <Route path=StaticSegment("start") view=pages::start::StartPage ssr=SsrMode::Async />
                        <Route path=StaticSegment("import") view=pages::import::ImportPage ssr=SsrMode::Async />
                        <Route path=StaticSegment("datasets") view=pages::datasets::DatasetsPage ssr=SsrMode::Async />
                        <Route path=StaticSegment("train") view=pages::train::TrainPage ssr=SsrMode::Async />
                        <Route path=StaticSegment("runs") view=pages::runs::RunsPage ssr=SsrMode::Async />
                        <Route
                            path=(StaticSegment("runs"), ParamSegment("id"))
                            view=pages::run::RunPage
                            ssr=SsrMode::Async
                        />
                        <Route path=StaticSegment("adapters") view=pages::adapters::AdaptersPage ssr=SsrMode::Async />
                        <Route path=StaticSegment("chat") view=pages::chat::ChatPage ssr=SsrMode::Async />
                        <Route path=StaticSegment("compare") view=pages::compare::ComparePage ssr=SsrMode::Async />
                        <Route path=StaticSegment("experiments") view=pages::experiments::ExperimentsPage ssr=SsrMode::Async />
                        <Route path=StaticSegment("learn") view=pages::learn::LearnPage ssr=SsrMode::Async />
                        <Route
                            path=(StaticSegment("adapters"), ParamSegment("id"))
                            view=pages::adapter::AdapterPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=(StaticSegment("datasets"), StaticSegment("new"))
                            view=pages::dataset_new::NewDatasetPage
                            ssr=SsrMode::Async
                        />
                    </Routes>
                </main>
                <footer class="footer">
                    "Runs on your machine. Your conversations never leave it."
                </footer>
            </div>
        </Router>
    }
}

/// A navigation group: its id (for `aria-labelledby`), its label and its (href, text) links.
type NavGroup = (&'static str, &'static str, &'static [(&'static str, &'static str)]);

/// The loop's steps, in order, each with its pages.
const NAV_GROUPS: [NavGroup; 4] = [
    ("nav-data", "Data", &[("/conversations", "Conversations"), ("/import", "Import"), ("/datasets", "Datasets")]),
    ("nav-train", "Train", &[("/train", "Train"), ("/runs", "Runs")]),
    ("nav-adapters", "Adapters", &[("/adapters", "Adapters")]),
    ("nav-evaluate", "Evaluate", &[("/chat", "Chat"), ("/compare", "Compare"), ("/experiments", "Experiments"), ("/learn", "Keep learning")]),
];

/// The main navigation: Home, then the loop's steps as labelled groups. On a narrow screen it
/// folds behind a "Menu" disclosure: a `<details>` whose `open` state the stylesheet reads, so it
/// opens and closes without JavaScript; with it, following a link (or going back) also closes
/// the menu, as a new page would.
#[component]
fn MainNav() -> impl IntoView {
    let menu = NodeRef::<leptos::html::Details>::new();
    let close = move || {
        if let Some(details) = menu.get_untracked() {
            details.set_open(false);
        }
    };
    let location = use_location();
    Effect::new(move |_| {
        location.pathname.track();
        close();
    });
    // A click on a link: the router navigates in place, so close the menu here.
    let on_click = move |ev: leptos::ev::MouseEvent| {
        use leptos::wasm_bindgen::JsCast;
        let target = ev.target().and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok());
        if target.as_ref().and_then(|el| el.closest("a").ok().flatten()).is_none() {
            return;
        }
        close();
        // The same by the DOM, should the reference not be bound yet.
        if let Some(details) = target.and_then(|el| el.closest("nav").ok().flatten()).and_then(|nav| nav.query_selector("details.menu").ok().flatten()) {
            let _ = details.remove_attribute("open");
        }
    };
    view! {
        <nav class="main-nav" aria-label="Main">
            <details class="menu" node_ref=menu>
                <summary>"Menu"</summary>
            </details>
            <ul class="nav-groups" on:click=on_click>
                <li class="nav-home"><A href="/" exact=true>"Home"</A></li>
                {NAV_GROUPS
                    .into_iter()
                    .map(|(id, label, links)| view! {
                        <li class="nav-group">
                            <span class="nav-group-label" id=id>{label}</span>
                            <ul aria-labelledby=id>
                                {links.iter().map(|&(href, text)| view! { <li><A href=href>{text}</A></li> }).collect_view()}
                            </ul>
                        </li>
                    })
                    .collect_view()}
            </ul>
        </nav>
    }
}
