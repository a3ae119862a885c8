//! **A stand-in for the Hugging Face Hub**, for tests only. garden-eden never contacts the real Hub
//! in tests; `python/fetch_model.py` is pointed at this with `HF_ENDPOINT` instead. It serves model
//! folders under `root/<owner>/<name>/…` as Hub repos, answering exactly the requests that
//! huggingface_hub 1.33 makes for `model_info(files_metadata=True)`, `snapshot_download` and
//! `hf_hub_download` (checked against its `hf_api.py`, `file_download.py`, `utils/_http.py`):
//!
//! - `GET /api/models/{owner}/{name}[/revision/{rev}]` (`?blobs=True` adds sizes, blob ids, LFS
//!   info): `id`, `sha` (the commit), `gated`, `siblings`.
//! - `GET /api/models/{owner}/{name}/tree/{rev}[/{path}]?recursive=…`: the file listing
//!   `snapshot_download` caches (`type`, `oid`, `size`, `path`, `lfs`).
//! - `HEAD|GET /{owner}/{name}/resolve/{rev}/{file}`: `X-Repo-Commit`, `ETag` (and, for LFS files,
//!   `X-Linked-Etag` = sha256 and `X-Linked-Size`), `Content-Length`, `Accept-Ranges: bytes`;
//!   `Range: bytes=a-[b]` answers 206 with `Content-Range`. Files are served directly (no redirect
//!   to a CDN) and never with `X-Xet-Hash`, so the client takes the plain HTTP path, not Xet.
//! - Errors carry the `X-Error-Code` huggingface_hub maps to its exceptions: `RepoNotFound`,
//!   `RevisionNotFound`, `EntryNotFound`, `GatedRepo` (401 without a token, 403 with one; the
//!   metadata of a gated repo stays public, as on the Hub).
//!
//! Simplifications: the only revisions are `main` and the commit, which is derived from the files'
//! contents; git object ids are made up (the client only uses them as names); files that are
//! weights-like or over 10 MiB are "LFS" (etag = sha256), the rest are plain git files.
//!
//! For tests: `claim_size` inflates the sizes it reports, `stop_after_bytes` cuts each file body
//! after that many bytes, `bytes_per_sec` throttles bodies, and [`HubStats`] records every request
//! (method, path, `Range`, whether it was authorised; never the token) and the body bytes sent.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// How the stand-in is started.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// Repos live at `root/<owner>/<name>/…`.
    pub root: PathBuf,
    /// Repo ids (`owner/name`) whose files are gated: downloads answer 401/403 `GatedRepo`.
    pub gated: Vec<String>,
    /// Report every repo as this many bytes in total (the largest file grows to make it so), to
    /// test the disk-space refusal. The bodies served stay the real files.
    pub claim_size: Option<u64>,
    /// Send at most this many bytes of a file body per GET, then cut the connection.
    pub stop_after_bytes: Option<u64>,
    /// Throttle file bodies to about this many bytes a second.
    pub bytes_per_sec: Option<u64>,
    /// What was asked and sent; clone it before handing the config over to read it in a test.
    pub stats: HubStats,
}

impl HubConfig {
    /// Serves `root` with no gating, limits or throttling.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            gated: Vec::new(),
            claim_size: None,
            stop_after_bytes: None,
            bytes_per_sec: None,
            stats: HubStats::default(),
        }
    }
}

/// One request as the stand-in saw it.
#[derive(Debug, Clone)]
pub struct HubRequest {
    pub method: String,
    /// The path and query.
    pub path: String,
    /// The `Range` header, if any.
    pub range: Option<String>,
    /// Whether an `Authorization` header came with it (its value is never kept).
    pub authorized: bool,
}

/// Counters shared between the stand-in and a test (cheap to clone).
#[derive(Debug, Clone, Default)]
pub struct HubStats(Arc<StatsInner>);

#[derive(Debug, Default)]
struct StatsInner {
    requests: Mutex<Vec<HubRequest>>,
    body_bytes: AtomicU64,
}

impl HubStats {
    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<HubRequest> {
        self.0
            .requests
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// How many requests so far.
    pub fn request_count(&self) -> usize {
        self.0.requests.lock().map(|r| r.len()).unwrap_or_default()
    }

    /// File body bytes handed to the connection by `GET …/resolve/…` so far.
    pub fn body_bytes(&self) -> u64 {
        self.0.body_bytes.load(Ordering::Relaxed)
    }
}

/// One file of a repo, as the Hub would describe it.
#[derive(Debug, Clone)]
struct RepoFile {
    /// Relative, `/`-separated.
    path: String,
    abs: PathBuf,
    size: u64,
    /// The size reported in metadata (differs from `size` only under `claim_size`).
    reported: u64,
    sha256: String,
    lfs: bool,
}

impl RepoFile {
    /// The made-up git object id (the client uses it only as a name).
    fn blob_id(&self) -> String {
        sha256_hex(format!("blob:{}", self.sha256).as_bytes())[..40].to_string()
    }

    /// What the Hub's ETag names: the sha256 for LFS files, the git object id otherwise.
    fn etag(&self) -> String {
        if self.lfs {
            self.sha256.clone()
        } else {
            self.blob_id()
        }
    }
}

#[derive(Debug, Clone)]
struct Repo {
    id: String,
    commit: String,
    files: Vec<RepoFile>,
}

struct Inner {
    config: HubConfig,
    /// sha256 by file, valid while size and modification time are unchanged.
    hashes: Mutex<HashMap<PathBuf, (u64, SystemTime, String)>>,
}

type Shared = Arc<Inner>;

/// The stand-in's routes.
pub fn router(config: HubConfig) -> Router {
    let stats = config.stats.clone();
    let state = Arc::new(Inner {
        config,
        hashes: Mutex::new(HashMap::new()),
    });
    Router::new()
        .route("/api/models/{owner}/{name}", get(model_info_main))
        .route("/api/models/{owner}/{name}/revision/{rev}", get(model_info))
        .route("/api/models/{owner}/{name}/tree/{rev}", get(tree_root))
        .route("/api/models/{owner}/{name}/tree/{rev}/{*sub}", get(tree))
        // `get` answers HEAD too (axum drops the body); the handler keeps the headers.
        .route("/{owner}/{name}/resolve/{rev}/{*file}", get(resolve))
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(stats, record))
}

/// Serves the stand-in until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, config: HubConfig) -> std::io::Result<()> {
    axum::serve(listener, router(config)).await
}

async fn record(State(stats): State<HubStats>, request: Request, next: Next) -> Response {
    let entry = HubRequest {
        method: request.method().to_string(),
        path: request
            .uri()
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        range: request
            .headers()
            .get(header::RANGE)
            .and_then(|v| v.to_str().ok())
            .map(String::from),
        authorized: request.headers().contains_key(header::AUTHORIZATION),
    };
    if let Ok(mut r) = stats.0.requests.lock() {
        r.push(entry);
    }
    next.run(request).await
}

/// An error the way the Hub sends it: status, `X-Error-Code`, `X-Error-Message`, JSON body.
fn hub_error(status: StatusCode, code: &str, message: &str, commit: Option<&str>) -> Response {
    let mut response = (status, Json(json!({ "error": message }))).into_response();
    let h = response.headers_mut();
    h.insert(
        "x-error-code",
        HeaderValue::from_str(code).unwrap_or(HeaderValue::from_static("Error")),
    );
    h.insert(
        "x-error-message",
        HeaderValue::from_str(message).unwrap_or(HeaderValue::from_static("error")),
    );
    if let Some(c) = commit.and_then(|c| HeaderValue::from_str(c).ok()) {
        h.insert("x-repo-commit", c);
    }
    response
}

fn sha256_hex(bytes: &[u8]) -> String {
    garden_core::hex(&Sha256::digest(bytes))
}

fn file_sha256(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(garden_core::hex(&hash.finalize()));
        }
        hash.update(&buf[..n]);
    }
}

fn looks_lfs(path: &str, size: u64) -> bool {
    const LFS_EXT: [&str; 10] = [
        "safetensors",
        "bin",
        "pt",
        "pth",
        "model",
        "tiktoken",
        "gguf",
        "onnx",
        "msgpack",
        "h5",
    ];
    let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
    LFS_EXT.contains(&ext) || size >= 10 << 20
}

/// Walks `dir` (skipping hidden entries), collecting regular files.
fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) -> std::io::Result<()> {
    let mut entries = std::fs::read_dir(dir)?.collect::<Result<Vec<_>, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&entry.path(), &rel, out)?;
        } else if kind.is_file() {
            out.push((rel, entry.path()));
        }
    }
    Ok(())
}

/// Reads a repo folder (blocking: it hashes files).
fn load_repo(inner: &Inner, owner: &str, name: &str) -> Option<Repo> {
    let plain = |s: &str| !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\\']);
    if !plain(owner) || !plain(name) {
        return None;
    }
    let dir = inner.config.root.join(owner).join(name);
    if !dir.is_dir() {
        return None;
    }
    let mut found = Vec::new();
    walk(&dir, "", &mut found).ok()?;
    let mut files = Vec::new();
    for (path, abs) in found {
        let meta = std::fs::metadata(&abs).ok()?;
        let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        let cached = inner.hashes.lock().ok().and_then(|h| {
            h.get(&abs)
                .filter(|(s, m, _)| *s == meta.len() && *m == modified)
                .map(|(_, _, sha)| sha.clone())
        });
        let sha256 = match cached {
            Some(sha) => sha,
            None => {
                let sha = file_sha256(&abs).ok()?;
                if let Ok(mut h) = inner.hashes.lock() {
                    h.insert(abs.clone(), (meta.len(), modified, sha.clone()));
                }
                sha
            }
        };
        let lfs = looks_lfs(&path, meta.len());
        files.push(RepoFile {
            path,
            abs,
            size: meta.len(),
            reported: meta.len(),
            sha256,
            lfs,
        });
    }
    // `claim_size`: the largest file grows until the repo adds up to the claim.
    let total: u64 = files.iter().map(|f| f.size).sum();
    if let (Some(claim), Some(largest)) = (
        inner.config.claim_size,
        files.iter_mut().max_by_key(|f| f.size),
    ) {
        largest.reported = largest.size + claim.saturating_sub(total);
    }
    let listing: String = files
        .iter()
        .map(|f| format!("{}\0{}\n", f.path, f.sha256))
        .collect();
    let commit = sha256_hex(listing.as_bytes())[..40].to_string();
    Some(Repo {
        id: format!("{owner}/{name}"),
        commit,
        files,
    })
}

/// The repo at a revision, or the Hub's error for a missing repo or revision.
async fn repo_at(s: &Shared, owner: String, name: String, rev: &str) -> Result<Repo, Response> {
    let inner = s.clone();
    let repo = tokio::task::spawn_blocking(move || load_repo(&inner, &owner, &name))
        .await
        .ok()
        .flatten();
    let Some(repo) = repo else {
        return Err(hub_error(
            StatusCode::NOT_FOUND,
            "RepoNotFound",
            "Repository not found",
            None,
        ));
    };
    if rev != "main" && rev != repo.commit {
        return Err(hub_error(
            StatusCode::NOT_FOUND,
            "RevisionNotFound",
            &format!("Invalid rev id: {rev}"),
            None,
        ));
    }
    Ok(repo)
}

fn is_gated(s: &Inner, repo: &Repo) -> bool {
    s.config.gated.iter().any(|g| g == &repo.id)
}

fn lfs_json(f: &RepoFile, sha_key: &str) -> Value {
    let mut lfs = json!({ "size": f.reported, "pointerSize": 134 });
    lfs[sha_key] = json!(f.sha256);
    lfs
}

async fn model_info_main(
    State(s): State<Shared>,
    UrlPath((owner, name)): UrlPath<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    model_info(State(s), UrlPath((owner, name, "main".into())), Query(q)).await
}

async fn model_info(
    State(s): State<Shared>,
    UrlPath((owner, name, rev)): UrlPath<(String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let repo = match repo_at(&s, owner.clone(), name, &rev).await {
        Ok(r) => r,
        Err(e) => return e,
    };
    let blobs = q
        .get("blobs")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let siblings: Vec<Value> = repo
        .files
        .iter()
        .map(|f| {
            if !blobs {
                return json!({ "rfilename": f.path });
            }
            let mut v = json!({ "rfilename": f.path, "size": f.reported, "blobId": f.blob_id() });
            if f.lfs {
                v["lfs"] = lfs_json(f, "sha256");
            }
            v
        })
        .collect();
    Json(json!({
        "_id": repo.commit[..24],
        "id": repo.id,
        "modelId": repo.id,
        "author": owner,
        "sha": repo.commit,
        "lastModified": "2026-01-01T00:00:00.000Z",
        "createdAt": "2026-01-01T00:00:00.000Z",
        "private": false,
        "disabled": false,
        "gated": if is_gated(&s, &repo) { json!("manual") } else { json!(false) },
        "downloads": 0,
        "likes": 0,
        "tags": ["stand-in"],
        "siblings": siblings,
        "usedStorage": repo.files.iter().map(|f| f.reported).sum::<u64>(),
    }))
    .into_response()
}

async fn tree_root(
    State(s): State<Shared>,
    UrlPath((owner, name, rev)): UrlPath<(String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    listing(&s, owner, name, &rev, "", &q).await
}

async fn tree(
    State(s): State<Shared>,
    UrlPath((owner, name, rev, sub)): UrlPath<(String, String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    listing(&s, owner, name, &rev, sub.trim_matches('/'), &q).await
}

/// `list_repo_tree`: files (and folders) under `sub`, recursively or one level deep.
async fn listing(
    s: &Shared,
    owner: String,
    name: String,
    rev: &str,
    sub: &str,
    q: &HashMap<String, String>,
) -> Response {
    let repo = match repo_at(s, owner, name, rev).await {
        Ok(r) => r,
        Err(e) => return e,
    };
    let recursive = q
        .get("recursive")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let prefix = if sub.is_empty() {
        String::new()
    } else {
        format!("{sub}/")
    };
    let mut folders = std::collections::BTreeSet::new();
    let mut entries = Vec::new();
    for f in repo.files.iter().filter(|f| f.path.starts_with(&prefix)) {
        let rest = &f.path[prefix.len()..];
        // Every folder between `sub` and the file (only the first one when not recursive).
        let parts: Vec<&str> = rest.split('/').collect();
        let depth = if recursive {
            parts.len() - 1
        } else {
            parts.len().min(2) - 1
        };
        for i in 1..=depth {
            folders.insert(format!("{prefix}{}", parts[..i].join("/")));
        }
        if recursive || parts.len() == 1 {
            let mut v =
                json!({ "type": "file", "oid": f.blob_id(), "size": f.reported, "path": f.path });
            if f.lfs {
                v["lfs"] = lfs_json(f, "oid");
            }
            entries.push(v);
        }
    }
    if entries.is_empty() && folders.is_empty() && !sub.is_empty() {
        return hub_error(
            StatusCode::NOT_FOUND,
            "EntryNotFound",
            &format!("{sub} does not exist"),
            Some(&repo.commit),
        );
    }
    let mut all: Vec<Value> = folders
        .into_iter()
        .map(|p| json!({ "type": "directory", "oid": sha256_hex(p.as_bytes())[..40], "size": 0, "path": p }))
        .collect();
    all.extend(entries);
    Json(all).into_response()
}

/// Parses `bytes=a-`, `bytes=a-b` and `bytes=-n` against a length; `Err` when unsatisfiable.
fn parse_range(value: &str, len: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None; // several ranges: answer the whole file, as servers may
    }
    let (a, b) = spec.split_once('-')?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            (len.saturating_sub(n), len.checked_sub(1)?)
        }
        (a, "") => (a.parse().ok()?, len.saturating_sub(1)),
        (a, b) => (
            a.parse().ok()?,
            b.parse::<u64>().ok()?.min(len.saturating_sub(1)),
        ),
    };
    Some(if start >= len || start > end {
        Err(())
    } else {
        Ok((start, end))
    })
}

async fn resolve(
    State(s): State<Shared>,
    method: Method,
    headers: HeaderMap,
    UrlPath((owner, name, rev, file)): UrlPath<(String, String, String, String)>,
) -> Response {
    let repo = match repo_at(&s, owner, name, &rev).await {
        Ok(r) => r,
        Err(e) => return e,
    };
    if is_gated(&s, &repo) {
        let (status, message) = if headers.contains_key(header::AUTHORIZATION) {
            (StatusCode::FORBIDDEN, format!("Access to model {} is restricted and you are not in the authorized list. Visit the model's page to ask for access.", repo.id))
        } else {
            (StatusCode::UNAUTHORIZED, format!("Access to model {} is restricted. You must have access to it and be authenticated to access it. Please log in.", repo.id))
        };
        return hub_error(status, "GatedRepo", &message, Some(&repo.commit));
    }
    let Some(f) = repo.files.iter().find(|f| f.path == file) else {
        return hub_error(
            StatusCode::NOT_FOUND,
            "EntryNotFound",
            "Entry not found",
            Some(&repo.commit),
        );
    };
    let mut h = HeaderMap::new();
    let put = |h: &mut HeaderMap, k: &'static str, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    };
    put(&mut h, "x-repo-commit", repo.commit.clone());
    put(&mut h, "etag", format!("\"{}\"", f.etag()));
    if f.lfs {
        put(&mut h, "x-linked-etag", format!("\"{}\"", f.sha256));
        put(&mut h, "x-linked-size", f.reported.to_string());
    }
    put(&mut h, "accept-ranges", "bytes".into());
    put(&mut h, "content-type", "application/octet-stream".into());
    if method == Method::HEAD {
        put(&mut h, "content-length", f.reported.to_string());
        return (StatusCode::OK, h).into_response();
    }
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_range(v, f.size));
    let (status, start, end) = match range {
        None => (StatusCode::OK, 0, f.size.saturating_sub(1)),
        Some(Ok((a, b))) => {
            put(&mut h, "content-range", format!("bytes {a}-{b}/{}", f.size));
            (StatusCode::PARTIAL_CONTENT, a, b)
        }
        Some(Err(())) => {
            put(&mut h, "content-range", format!("bytes */{}", f.size));
            return (StatusCode::RANGE_NOT_SATISFIABLE, h).into_response();
        }
    };
    let len = if f.size == 0 { 0 } else { end - start + 1 };
    put(&mut h, "content-length", len.to_string());
    let body = match file_body(&s.config, &f.abs, start, len).await {
        Ok(b) => b,
        Err(e) => {
            return hub_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Error",
                &format!("reading {}: {e}", f.path),
                None,
            )
        }
    };
    (status, h, body).into_response()
}

/// `len` bytes of `path` from `start`, throttled and cut short as configured.
async fn file_body(config: &HubConfig, path: &Path, start: u64, len: u64) -> std::io::Result<Body> {
    struct Feed {
        file: tokio::fs::File,
        left: u64,
        /// Bytes this response may still send before the connection is cut.
        budget: Option<u64>,
        bytes_per_sec: Option<u64>,
        stats: HubStats,
    }
    let mut file = tokio::fs::File::open(path).await?;
    file.seek(std::io::SeekFrom::Start(start)).await?;
    let feed = Feed {
        file,
        left: len,
        budget: config.stop_after_bytes,
        bytes_per_sec: config.bytes_per_sec.filter(|b| *b > 0),
        stats: config.stats.clone(),
    };
    let stream = futures_util::stream::unfold(feed, |mut feed| async move {
        if feed.left == 0 {
            return None;
        }
        if feed.budget == Some(0) {
            // An error in the body makes hyper drop the connection mid-response.
            let cut = std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "stand-in: stop_after_bytes reached",
            );
            feed.left = 0;
            return Some((Err(cut), feed));
        }
        let mut chunk = feed.left.min(64 << 10);
        if let Some(bps) = feed.bytes_per_sec {
            chunk = chunk.min((bps / 10).max(1));
        }
        if let Some(b) = feed.budget {
            chunk = chunk.min(b);
        }
        let mut buf = vec![0u8; usize::try_from(chunk).unwrap_or(64 << 10)];
        if let Err(e) = feed.file.read_exact(&mut buf).await {
            feed.left = 0;
            return Some((Err(e), feed));
        }
        if let Some(bps) = feed.bytes_per_sec {
            tokio::time::sleep(Duration::from_secs_f64(chunk as f64 / bps as f64)).await;
        }
        feed.left -= chunk;
        feed.budget = feed.budget.map(|b| b - chunk);
        feed.stats.0.body_bytes.fetch_add(chunk, Ordering::Relaxed);
        Some((Ok::<_, std::io::Error>(buf), feed))
    });
    Ok(Body::from_stream(stream))
}
