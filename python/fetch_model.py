"""Download a Hugging Face model into the Hugging Face cache, as garden-eden's own phase before
the trainer starts.

    python fetch_model.py REPO_ID [--revision REV] [--cache-dir DIR]

Run with the trainer venv's Python. It owns one thing: getting the files a trainer needs (see
WANTED) into the standard cache (HF_HOME / HF_HUB_CACHE, or --cache-dir), with progress, a disk
check, resume after an interruption, and errors a person can act on. It honours HF_ENDPOINT,
HF_TOKEN (passed through to huggingface_hub, never printed) and HF_HUB_OFFLINE.

Protocol: one JSON object a line on stdout, flushed at once; nothing else goes to stdout.

    {"event":"cached","path":SNAPSHOT_DIR}                  complete already; no network; exit 0
    {"event":"plan","repo":R,"revision":REV,"commit":SHA,"files":N,
     "total_bytes":T,"have_bytes":H,"free_bytes":F}          H: already in the cache, partials too
    {"event":"progress","done_bytes":D,"total_bytes":T,
     "files_done":K,"files_total":N,"file":NAME}             about every 0.5 s, bytes on disk
    {"event":"done","path":SNAPSHOT_DIR,"total_bytes":T}     exit 0
    {"event":"error","kind":K,"message":M}                   exit 2; K is one of
        offline    HF_HUB_OFFLINE set, or the Hub cannot be reached
        gated      the model needs its licence accepted and HF_TOKEN
        auth       the Hub refused the token
        not_found  no such repo, revision or file
        disk       not enough space (before downloading: also needed_bytes, free_bytes), or ENOSPC
        other      anything else

Resume: huggingface_hub 1.33 resumes a broken connection within one process, but it downloads
into a file named per process and deletes it on failure, so a killed download starts from zero.
This script therefore downloads each file itself into `blobs/<etag>.incomplete` (the cache's own
layout) and continues from its size with a Range request next time, under the same lock file
huggingface_hub uses. Then `snapshot_download` links the finished blobs into the snapshot (and
records the ref and the file listing), downloading nothing. Everything goes over plain HTTP, not
Xet: slower on the real Hub for some repos, but resumable and measurable on disk.
"""

import argparse
import errno
import glob
import hashlib
import json
import os
import re
import shutil
import sys
import threading
from fnmatch import fnmatchcase
from urllib.parse import urlparse

# Set before huggingface_hub reads them at import; a person's own values win.
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # progress is ours, on stdout
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "10")  # metadata requests: fail within seconds
os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", "20")  # a body that stalls this long is retried

# What a trainer needs, from the repo's top level only (subfolders such as original/ or onnx/ hold
# other formats of the same model):
#   *.json         config.json, generation_config.json, tokenizer.json, tokenizer_config.json,
#                  special_tokens_map.json, vocab.json, model.safetensors.index.json, …
#   *.safetensors  the weights
#   *.bin          the weights, only when the repo has no *.safetensors (old checkpoints)
#   *.model *.tiktoken *.txt   tokenizer files (sentencepiece, tiktoken, merges.txt, vocab.txt)
#   *.jinja        chat templates (transformers 5 saves chat_template.jinja beside the tokenizer)
#   *.py           remote code (trust_remote_code models)
WANTED = ["*.json", "*.safetensors", "*.model", "*.tiktoken", "*.txt", "*.jinja", "*.py"]
MARGIN = 512 << 20  # free space left over after the download
METADATA_TIMEOUT = 10  # seconds for model_info and each file's HEAD

_print_lock = threading.Lock()
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def emit(event, **fields):
    line = json.dumps({"event": event, **fields})
    with _print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class Fail(Exception):
    """An error to report as {"event":"error",...}."""

    def __init__(self, kind, message, **extra):
        super().__init__(message)
        self.kind, self.message, self.extra = kind, message, extra


def select(paths):
    """The files of WANTED among a repo's paths, sorted."""
    top = [p for p in paths if "/" not in p]
    chosen = [p for p in top if any(fnmatchcase(p, w) for w in WANTED)]
    if not any(p.endswith(".safetensors") for p in top):
        chosen += [p for p in top if p.endswith(".bin")]
    return sorted(chosen)


def gb(n):
    return f"{n / 1e9:.2f}"


def free_bytes(path):
    """Free space on the disk that holds `path` (or would, once created)."""
    path = os.path.abspath(path)
    while not os.path.exists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return shutil.disk_usage(path).free


def size_on_disk(path):
    try:
        return os.path.getsize(path)
    except OSError:  # not there, or renamed just now
        return None


def cached_snapshot(hf, repo, revision, cache_dir):
    """The snapshot folder when every wanted file is already cached, else None. No network."""
    try:
        listing = hf.get_cached_repo_tree(repo, revision=revision, cache_dir=cache_dir)
    except (hf.errors.CachedRepoTreeNotFoundError, OSError, ValueError):
        return None
    names = select([f.path for f in listing])
    if not names:
        return None
    try:
        return hf.snapshot_download(
            repo, revision=revision, cache_dir=cache_dir, local_files_only=True,
            allow_patterns=[glob.escape(n) for n in names],
        )
    except (OSError, ValueError):  # IncompleteSnapshotError, LocalEntryNotFoundError
        return None


def loose_snapshot(storage, revision):
    """A snapshot downloaded by another tool (no cached file listing), if it looks usable:
    config.json and all its weights. Only consulted when the Hub cannot be reached."""
    commit = revision
    if not re.fullmatch(r"[0-9a-f]{40}", revision):
        try:
            with open(os.path.join(storage, "refs", revision)) as f:
                commit = f.read().strip()
        except OSError:
            return None
    snap = os.path.join(storage, "snapshots", commit)
    if not os.path.isfile(os.path.join(snap, "config.json")):
        return None
    for index in ("model.safetensors.index.json", "pytorch_model.bin.index.json"):
        if os.path.isfile(os.path.join(snap, index)):
            try:
                with open(os.path.join(snap, index)) as f:
                    shards = set(json.load(f)["weight_map"].values())
            except (OSError, ValueError, KeyError):
                return None
            return snap if all(os.path.isfile(os.path.join(snap, s)) for s in shards) else None
    weights = glob.glob(os.path.join(glob.escape(snap), "*.safetensors")) or glob.glob(
        os.path.join(glob.escape(snap), "*.bin"))
    return snap if weights else None


def fetch_blob(hf, meta, blob, lock, name):
    """Downloads one file into `blob`, continuing `blob.incomplete` if an earlier run left one."""
    part = blob + ".incomplete"
    os.makedirs(os.path.dirname(blob), exist_ok=True)
    os.makedirs(os.path.dirname(lock), exist_ok=True)
    headers = hf.utils.build_hf_headers()  # carries HF_TOKEN
    headers["Accept-Encoding"] = "identity"  # bytes on disk = bytes of the file, so ranges line up
    url = meta.location
    if urlparse(url).hostname != urlparse(hf.constants.ENDPOINT).hostname:
        headers.pop("authorization", None)  # a signed CDN address: the token stays with the Hub
    with hf.utils.WeakFileLock(lock):
        if os.path.exists(blob):
            return
        have = size_on_disk(part) or 0
        if meta.size is not None and have > meta.size:  # not a prefix of this file: start over
            os.remove(part)
            have = 0
        with open(part, "ab") as f:
            hf.file_download.http_get(
                url, f, resume_size=have, headers=headers, expected_size=meta.size, displayed_filename=name)
        # LFS files are named by their sha256: check a resumed file really is that file.
        if _SHA256.match(meta.etag):
            digest = hashlib.sha256()
            with open(part, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
            if digest.hexdigest() != meta.etag:
                os.remove(part)
                raise Fail("other", f"{name} arrived damaged (checksum mismatch); it was removed, run again")
        os.replace(part, blob)


def download(hf, repo, revision, cache_dir):
    api = hf.HfApi()  # endpoint from HF_ENDPOINT, token from HF_TOKEN
    info = api.model_info(repo, revision=revision, files_metadata=True, timeout=METADATA_TIMEOUT)
    commit = info.sha
    names = select([s.rfilename for s in info.siblings or []])
    if not names:
        raise Fail("not_found", f"{repo} has no model files (config.json, *.safetensors, tokenizer files)")
    # One HEAD a file, at the commit: the etag names the blob in the cache (as huggingface_hub
    # names it), and a gated repo says so here, before anything is downloaded.
    metas = {
        n: hf.get_hf_file_metadata(hf.hf_hub_url(repo, n, revision=commit), timeout=METADATA_TIMEOUT)
        for n in names
    }
    if any(m.etag is None or m.commit_hash is None for m in metas.values()):
        raise Fail("other", f"{hf.constants.ENDPOINT} does not answer like the Hugging Face Hub (no ETag or "
                            "X-Repo-Commit on files): check HF_ENDPOINT, proxies and firewalls.")
    sizes = {s.rfilename: s.size for s in info.siblings}
    storage = os.path.join(cache_dir, hf.file_download.repo_folder_name(repo_id=repo, repo_type="model"))
    files = []  # (name, blob path, size)
    for n in names:
        size = metas[n].size if metas[n].size is not None else (sizes.get(n) or 0)
        files.append((n, os.path.join(storage, "blobs", metas[n].etag), size))
    total = sum(size for _, _, size in files)

    def measure():
        done = complete = 0
        for _, blob, size in files:
            got = size_on_disk(blob)
            if got is not None:
                done, complete = done + size, complete + 1
            else:
                done += min(size_on_disk(blob + ".incomplete") or 0, size)
        return done, complete

    have, _ = measure()
    free = free_bytes(storage)
    emit("plan", repo=repo, revision=revision, commit=commit, files=len(files),
         total_bytes=total, have_bytes=have, free_bytes=free)
    needed = total - have + MARGIN
    if needed > free:
        raise Fail("disk",
                   f"Not enough disk space for {repo}: it needs {gb(total - have)} GB more, plus a "
                   f"{gb(MARGIN)} GB margin, in {cache_dir}, and only {gb(free)} GB are free. Free some "
                   "space, or set HF_HOME (or HF_HUB_CACHE) to a folder on a bigger disk.",
                   needed_bytes=needed, free_bytes=free)

    # Progress is measured on disk, and http_get writes what it receives in chunks of this size
    # (10 MiB by default): smaller chunks make the progress (and a resumable partial) finer.
    hf.constants.DOWNLOAD_CHUNK_SIZE = 1 << 20
    current = {"file": files[0][0]}
    stop = threading.Event()

    def report():
        done, complete = measure()
        emit("progress", done_bytes=done, total_bytes=total, files_done=complete,
             files_total=len(files), file=current["file"])

    def watch():
        while not stop.wait(0.5):
            report()

    watcher = threading.Thread(target=watch, daemon=True)
    report()
    watcher.start()
    try:
        for name, blob, _ in files:
            current["file"] = name
            lock = os.path.join(cache_dir, ".locks", os.path.basename(storage), os.path.basename(blob) + ".lock")
            fetch_blob(hf, metas[name], blob, lock, name)
    finally:
        stop.set()
        watcher.join()
    report()
    # Every blob is there: this links them into snapshots/<commit>/ and writes refs/<revision> and
    # the cached file listing, so the next run (and transformers offline) finds a complete snapshot.
    path = hf.snapshot_download(repo, revision=revision, cache_dir=cache_dir,
                                allow_patterns=[glob.escape(n) for n in names])
    emit("done", path=path, total_bytes=total)


def classify(hf, e, repo, revision):
    """The Fail to report for an exception."""
    import httpx

    if isinstance(e, Fail):
        return e
    endpoint = hf.constants.ENDPOINT
    errors = hf.errors
    ways = (f"To use it: give the path of a local folder that holds the model instead of its id; or set "
            f"HF_ENDPOINT to a Hub mirror you can reach; or, on a machine with a network, run "
            f"`hf download {repo}` and point garden-eden at the folder it prints.")
    if isinstance(e, errors.OfflineModeIsEnabled) or hf.constants.is_offline_mode():
        return Fail("offline", f"{repo} is not downloaded, and HF_HUB_OFFLINE is set, so nothing may be "
                               f"downloaded (unset it to download). {ways}")
    if isinstance(e, errors.GatedRepoError):
        has_token = bool(hf.get_token())
        first = (f"{repo} is gated, and the token in HF_TOKEN has no access to it yet" if has_token
                 else f"{repo} is gated: it needs its licence accepted and a token")
        return Fail("gated", f"{first}. Open {endpoint}/{repo} while logged in, accept the licence, then "
                             f"set HF_TOKEN to an access token of that account ({endpoint}/settings/tokens) "
                             "and try again.")
    if isinstance(e, errors.RevisionNotFoundError):
        return Fail("not_found", f"{repo} has no revision {revision!r} on {endpoint}.")
    if isinstance(e, errors.RemoteEntryNotFoundError):
        return Fail("not_found", f"A file of {repo} is missing on {endpoint}: {e}")
    if isinstance(e, errors.RepositoryNotFoundError):
        return Fail("not_found", f"{repo} was not found on {endpoint}: check the id (owner/name). If it is a "
                                 "private model, set HF_TOKEN to a token that can read it.")
    if isinstance(e, errors.HfHubHTTPError) and e.response is not None and e.response.status_code in (401, 403):
        return Fail("auth", f"The Hub refused access to {repo} (HTTP {e.response.status_code}): check HF_TOKEN "
                            f"(a valid read token of an account that can see the model; {endpoint}/settings/tokens).")
    if isinstance(e, errors.HFValidationError):
        return Fail("not_found", f"{repo!r} is not a valid Hugging Face id (owner/name): {e}")
    if isinstance(e, OSError) and e.errno == errno.ENOSPC:
        return Fail("disk", f"The disk filled up while downloading {repo}. Free some space and run again: "
                            "what was downloaded is kept and the download resumes.")
    if isinstance(e, (httpx.TransportError, errors.LocalEntryNotFoundError)):
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        return Fail("offline", f"{repo} is not downloaded, and the Hub at {endpoint} cannot be reached "
                               f"({reason}). Anything already downloaded is kept and resumes next time. {ways}")
    return Fail("other", f"Downloading {repo} failed: {type(e).__name__}: {e}")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Download a Hugging Face model for garden-eden.")
    parser.add_argument("repo", metavar="REPO_ID")
    parser.add_argument("--revision", default="main")
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args(argv)
    secrets = [v for v in (os.environ.get("HF_TOKEN"), os.environ.get("HUGGING_FACE_HUB_TOKEN")) if v]
    hf = None
    try:
        import huggingface_hub as hf
        import huggingface_hub.constants
        import huggingface_hub.errors
        import huggingface_hub.file_download
        import huggingface_hub.utils

        cache_dir = os.path.abspath(os.path.expanduser(args.cache_dir or hf.constants.HF_HUB_CACHE))
        path = cached_snapshot(hf, args.repo, args.revision, cache_dir)
        if path:
            emit("cached", path=path)
            return 0
        try:
            download(hf, args.repo, args.revision, cache_dir)
            return 0
        except Exception as e:
            fail = classify(hf, e, args.repo, args.revision)
            storage = os.path.join(cache_dir, hf.file_download.repo_folder_name(repo_id=args.repo, repo_type="model"))
            if fail.kind == "offline" and (path := loose_snapshot(storage, args.revision)):
                emit("cached", path=path)
                return 0
            raise fail from None
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        if hf is None:
            fail = Fail("other", f"huggingface_hub cannot be imported in {sys.executable}: {e}")
        else:
            try:
                fail = classify(hf, e, args.repo, args.revision)
            except Exception as inner:  # never a traceback
                fail = Fail("other", f"{type(e).__name__}: {e} ({inner})")
        message = fail.message
        for secret in secrets:
            message = message.replace(secret, "***")
        emit("error", kind=fail.kind, message=message, **fail.extra)
        return 2


if __name__ == "__main__":
    sys.exit(main())
