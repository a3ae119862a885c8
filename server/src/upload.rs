//! The Import page's file upload: a plain multipart form post (it works without JavaScript),
//! streamed to a file in the data dir, imported by the core, answered with a redirect back to the
//! Import page that shows the result or the error.

use app::state::AppState;
use axum::extract::{Multipart, State};
use axum::response::Redirect;
use garden_core::import::{self, ImportKind};
use tokio::io::AsyncWriteExt;

/// Largest upload accepted (a Garden of Eden database can be large).
pub const MAX_UPLOAD: usize = 4 * 1024 * 1024 * 1024;

pub async fn upload(State(state): State<AppState>, multipart: Multipart) -> Redirect {
    match receive_and_import(&state, multipart).await {
        Ok(id) => Redirect::to(&format!("/import?done={id}")),
        Err(message) => {
            tracing::warn!("import failed: {message}");
            Redirect::to(&format!("/import?error={}", app::format::url_encode(&message)))
        }
    }
}

async fn receive_and_import(state: &AppState, mut multipart: Multipart) -> Result<String, String> {
    let mut kind: Option<ImportKind> = None;
    let mut saved: Option<std::path::PathBuf> = None;
    let uploads = state.studio.settings().data_dir.join("uploads");
    while let Some(mut field) = multipart.next_field().await.map_err(|e| format!("reading the upload: {e}"))? {
        match field.name() {
            Some("kind") => {
                let text = field.text().await.map_err(|e| format!("reading the kind: {e}"))?;
                kind = Some(text.parse::<ImportKind>().map_err(|e| e.to_string())?);
            }
            Some("file") => {
                let original = field.file_name().unwrap_or("upload").to_owned();
                let safe: String = original
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
                    .collect();
                tokio::fs::create_dir_all(&uploads)
                    .await
                    .map_err(|e| format!("creating {}: {e}", uploads.display()))?;
                // Inside the data dir, under a fresh name: the person's file name never makes a path.
                let path = uploads.join(format!("{}-{}", uuid::Uuid::new_v4(), safe.trim_start_matches('.')));
                let mut file = tokio::fs::File::create(&path)
                    .await
                    .map_err(|e| format!("creating {}: {e}", path.display()))?;
                let mut bytes = 0u64;
                while let Some(chunk) = field.chunk().await.map_err(|e| format!("receiving {original}: {e}"))? {
                    bytes += chunk.len() as u64;
                    file.write_all(&chunk).await.map_err(|e| format!("saving {original}: {e}"))?;
                }
                file.sync_all().await.map_err(|e| format!("saving {original}: {e}"))?;
                if bytes == 0 {
                    let _ = tokio::fs::remove_file(&path).await;
                    return Err(format!("{original} is empty"));
                }
                saved = Some(path);
            }
            _ => {}
        }
    }
    let kind = kind.ok_or("choose what kind of file it is")?;
    let path = saved.ok_or("choose a file to import")?;
    let db = state.studio.db().clone();
    let file = path.clone();
    let result = tokio::task::spawn_blocking(move || import::import_path(&db, kind, &file))
        .await
        .map_err(|e| e.to_string())?;
    match result {
        Ok(report) => Ok(report.id),
        Err(e) => {
            // Nothing was imported: the copy is not kept either.
            let _ = tokio::fs::remove_file(&path).await;
            Err(e.to_string())
        }
    }
}
