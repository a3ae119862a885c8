//! One page a file, and the routes that load each page's code on demand.
//!
//! Home, Start here and Not found are in the main bundle. The other pages are lazy routes, one
//! split point per step of the loop (Data, Train, Runs, Adapters, Evaluate): `cargo leptos build
//! --split` puts each group's code, and whatever only it uses, into chunks the browser fetches
//! when one of its pages is first shown. One split point a group rather than a page: every split
//! point multiplies the chunks (code shared by a different set of split points is a chunk of its
//! own), and a page made of a hundred small chunks hydrates slowly. The server renders every page
//! as before (there the lazy functions are plain async functions) and names the current page's
//! chunks in the document's head, so the browser fetches them with the main bundle.

use leptos::prelude::{untrack, AnyView, IntoAny};

pub mod adapter;
pub mod adapters;
pub mod chat;
pub mod compare;
pub mod conversation;
pub mod conversations;
pub mod dataset_new;
pub mod datasets;
pub mod experiments;
pub mod home;
pub mod import;
pub mod learn;
pub mod not_found;
pub mod run;
pub mod runs;
pub mod start;
pub mod train;


/// For each group: an enum of its pages, the lazy function that renders one (the split point),
/// and a [`leptos_router::LazyRoute`] per page that awaits it.
macro_rules! page_groups {
    ($(
        $(#[$doc:meta])* $group:ident => $view:ident / $preload:ident {
            $($route:ident : $page:ident => $component:path),* $(,)?
        }
    )*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        pub enum $group {
            $($page),*
        }

        /// Renders one page of the group; its code is loaded on first use.
        #[leptos::lazy]
        fn $view(page: $group) -> AnyView {
            untrack(|| match page {
                $($group::$page => $component().into_any()),*
            })
        }

        $(
            #[doc = concat!("The lazy route of [`", stringify!($component), "`].")]
            pub struct $route;

            impl leptos_router::LazyRoute for $route {
                fn data() -> Self {
                    $route
                }

                async fn view(_this: Self) -> AnyView {
                    $view($group::$page).await
                }

                async fn preload() {
                    // The split point's loader exists only in the browser bundle.
                    #[cfg(target_arch = "wasm32")]
                    $preload().await;
                }
            }
        )*
    )*};
}

page_groups! {
    /// Import, conversations and datasets.
    DataPages => data_view / __preload_data_view {
        ConversationsRoute: Conversations => conversations::ConversationsPage,
        ConversationRoute: Conversation => conversation::ConversationPage,
        ImportRoute: Import => import::ImportPage,
        DatasetsRoute: Datasets => datasets::DatasetsPage,
        NewDatasetRoute: NewDataset => dataset_new::NewDatasetPage,
    }
    /// The training wizard.
    TrainPages => train_view / __preload_train_view {
        TrainRoute: Train => train::TrainPage,
    }
    /// The runs and one run's live view.
    RunPages => runs_view / __preload_runs_view {
        RunsRoute: Runs => runs::RunsPage,
        RunRoute: Run => run::RunPage,
    }
    /// The adapters and one adapter.
    AdapterPages => adapters_view / __preload_adapters_view {
        AdaptersRoute: Adapters => adapters::AdaptersPage,
        AdapterRoute: Adapter => adapter::AdapterPage,
    }
    /// Chat, compare, experiments and keep learning.
    EvaluatePages => evaluate_view / __preload_evaluate_view {
        ChatRoute: Chat => chat::ChatPage,
        CompareRoute: Compare => compare::ComparePage,
        ExperimentsRoute: Experiments => experiments::ExperimentsPage,
        LearnRoute: Learn => learn::LearnPage,
    }
}
