//! garden-eden's web UI: the HTML shell, the route table and the pages, plus the server functions
//! they call (compiled into the server under `ssr`, into client stubs under `hydrate`).

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
                    // The loop, in order. A step appears here when it is built.
                    <nav aria-label="Main">
                        <A href="/" exact=true>"Home"</A>
                        <A href="/conversations">"Conversations"</A>
                        <A href="/import">"Import"</A>
                        <A href="/datasets">"Datasets"</A>
                        <A href="/train">"Train"</A>
                        <A href="/runs">"Runs"</A>
                        <A href="/adapters">"Adapters"</A>
                        <A href="/chat">"Chat"</A>
                        <A href="/compare">"Compare"</A>
                        <A href="/experiments">"Experiments"</A>
                        <A href="/learn">"Keep learning"</A>
                    </nav>
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
