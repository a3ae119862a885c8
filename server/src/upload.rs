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

/// A file being received: removed when dropped, unless kept (a failed, cut-off or refused upload
/// leaves nothing behind, on every path out).
struct Receiving(Option<std::path::PathBuf>);

impl Drop for Receiving {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

async fn receive_and_import(state: &AppState, mut multipart: Multipart) -> Result<String, String> {
    let mut kind: Option<ImportKind> = None;
    let mut keep = false;
    let mut saved = Receiving(None);
    let uploads = state.studio.settings().data_dir.join("uploads");
    while let Some(mut field) = multipart.next_field().await.map_err(|e| format!("reading the upload: {e}"))? {
        match field.name() {
            Some("kind") => {
                let text = field.text().await.map_err(|e| format!("reading the kind: {e}"))?;
                kind = Some(text.parse::<ImportKind>().map_err(|e| e.to_string())?);
            }
            Some("keep") => keep = true,
            Some("file") => {
                if saved.0.is_some() {
                    return Err("one file at a time: the form sent more than one".into());
                }
                let original = field.file_name().unwrap_or("upload").to_owned();
                let safe: String = original
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
                    .collect();
                tokio::fs::create_dir_all(&uploads)
                    .await
                    .map_err(|e| format!("creating {}: {e}", uploads.display()))?;
                // Inside the data dir, under a fresh temporary name (swept at start-up if the
                // server dies mid-upload): the person's file name never makes a path.
                let path = uploads.join(format!(".{}.tmp-{}", safe.trim_start_matches('.'), uuid::Uuid::new_v4()));
                let mut file = tokio::fs::File::create(&path)
                    .await
                    .map_err(|e| format!("creating {}: {e}", path.display()))?;
                saved = Receiving(Some(path));
                let mut bytes = 0u64;
                while let Some(chunk) = field.chunk().await.map_err(|e| format!("receiving {original}: {e}"))? {
                    bytes += chunk.len() as u64;
                    file.write_all(&chunk).await.map_err(|e| format!("saving {original}: {e}"))?;
                }
                file.sync_all().await.map_err(|e| format!("saving {original}: {e}"))?;
                if bytes == 0 {
                    return Err(format!("{original} is empty"));
                }
            }
            Some(other) => return Err(format!("unexpected form field '{other}'")),
            None => {}
        }
    }
    let kind = kind.ok_or("choose what kind of file it is")?;
    let path = saved.0.clone().ok_or("choose a file to import")?;
    let db = state.studio.db().clone();
    let file = path.clone();
    let report = tokio::task::spawn_blocking(move || import::import_path(&db, kind, &file))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    if keep {
        // Kept on request, under its final name; otherwise the import record's sha256 is the
        // provenance and the copy goes.
        let kept = path.with_file_name(format!("{}-{}", report.id, path.file_name().unwrap_or_default().to_string_lossy().trim_start_matches('.').split(".tmp-").next().unwrap_or("upload")));
        tokio::fs::rename(&path, &kept).await.map_err(|e| format!("keeping the upload: {e}"))?;
        saved.0 = None;
    }
    Ok(report.id)
}
