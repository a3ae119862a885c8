#!/usr/bin/env python3
"""Load benchmarks for the garden-eden server (issue 12), run by scripts/bench-load.

Python 3 standard library only. Starts, in WORK: a data dir prepared with the CLI (sample history,
one dataset, a ~1 GB registered adapter, two model servers), a fake trainer environment, a
streaming Ollama stand-in, garden-eden's own `ollama-stand-in`, and `garden-eden serve` on a free
port; runs three benchmarks; prints one table (measure | ours | target | pass). Every process it
starts is stopped on the way out.

1. Training run SSE: LISTENERS clients follow `GET /runs/{id}/events` of one run whose trainer
   (bench/load/fake_trainer.py in place of llamafactory-cli) appends a trainer_log.jsonl line
   every 1/RATE s. Point latency = the wall-clock time a listener has read the `points` event that
   carries step k, minus the wall-clock time the trainer had written and flushed step k's line
   (both on this machine's clock). It includes the supervisor's 100 ms polling of the log.
2. Chats: CHATS chats sent at once (`POST /api/chat/send`, then `POST /api/chat/view` for the
   answer's turn id, as the chat page does, then `GET /turns/{id}/events`). Each listener builds
   the answer from the snapshot and deltas; lost deltas = pieces the model sent that are missing
   from what the listener assembled; the assembled text must also equal the stored answer.
3. Adapter pages: ADAPTER_WORKERS clients load `GET /adapters/{id}` (a ~1 GB adapter) over and
   over for a while; meanwhile `GET /` is requested every 50 ms; its latency is the time from
   opening the connection to the last byte of the page.
"""
import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------- helpers

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values, q):
    """Nearest-rank percentile (q in 0..1); None for no values."""
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(round(q * (len(v) - 1)))))]


def ms(x):
    return "-" if x is None else f"{x * 1000:.0f} ms"


class Server:
    def __init__(self, port):
        self.port = port
        self.origin = f"http://127.0.0.1:{port}"

    def conn(self, timeout=60):
        # http.client sends `Host: 127.0.0.1:PORT`, a loopback name the guard accepts.
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def get(self, path, timeout=60):
        c = self.conn(timeout)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def server_fn(self, endpoint, fields, timeout=60):
        """A Leptos server function, called as the app's own pages do: a same-origin form POST."""
        body = urllib.parse.urlencode(fields)
        c = self.conn(timeout)
        try:
            c.request("POST", f"/api/{endpoint}", body=body, headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
                "Origin": self.origin,
            })
            r = c.getresponse()
            data = r.read()
        finally:
            c.close()
        if r.status >= 300:
            raise RuntimeError(f"POST /api/{endpoint}: {r.status} {data[:500]!r}")
        return json.loads(data) if data else None


def sse(server, path, timeout=120):
    """Yields (event, data, received_at) from an SSE stream until it ends."""
    c = server.conn(timeout)
    try:
        c.request("GET", path, headers={"Accept": "text/event-stream"})
        r = c.getresponse()
        if r.status != 200:
            raise RuntimeError(f"GET {path}: {r.status} {r.read()[:300]!r}")
        event, data = "message", []
        while True:
            line = r.readline()
            if not line:
                return
            line = line.decode("utf-8").rstrip("\r\n")
            if line == "":
                if data:
                    yield event, "\n".join(data), time.time()
                event, data = "message", []
            elif line.startswith(":"):
                continue
            elif line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:][1:] if line[5:].startswith(" ") else line[5:])
    finally:
        c.close()


class Procs:
    """Started processes, each in its own process group, stopped in reverse order."""

    def __init__(self):
        self.procs = []

    def start(self, args, log, **kw):
        f = open(log, "ab")
        p = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True, **kw)
        self.procs.append((p, f))
        return p

    def stop_all(self):
        for p, f in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    try:
                        os.killpg(p.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    p.wait()
            f.close()
        self.procs.clear()


def cli(bin_, data, *args):
    out = subprocess.run([bin_, "--data-dir", data, *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"garden-eden {' '.join(args)}: {out.stderr.strip()}")
    return out.stdout


def wait_http(port, path="/", timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            c.close()
            if r.status < 500:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"nothing answered on port {port} within {timeout} s")


# ---------------------------------------------------------------- setup

def prepare(args, work, procs):
    data = os.path.join(work, "data")
    bin_ = args.bin
    # The fake trainer environment: <data>/venv/bin/python (the real interpreter: the supervisor
    # probes it for optional packages) and llamafactory-cli beside it (the fake trainer).
    venv_bin = os.path.join(data, "venv", "bin")
    os.makedirs(venv_bin, exist_ok=True)
    os.symlink(os.path.realpath(sys.executable), os.path.join(venv_bin, "python"))
    cli_path = os.path.join(venv_bin, "llamafactory-cli")
    with open(os.path.join(HERE, "fake_trainer.py"), encoding="utf-8") as f:
        text = f.read()
    with open(cli_path, "w", encoding="utf-8") as f:
        f.write(f"#!{os.path.realpath(sys.executable)}\n" + text)
    os.chmod(cli_path, 0o755)
    # A base model folder that passes the supervisor's check (config, tokenizer, weights); the
    # fake trainer never opens it.
    base = os.path.join(work, "fake-base")
    os.makedirs(base)
    with open(os.path.join(base, "config.json"), "w") as f:
        json.dump({"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"], "hidden_size": 896,
                   "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14,
                   "num_key_value_heads": 2, "vocab_size": 151936, "torch_dtype": "bfloat16"}, f)
    with open(os.path.join(base, "tokenizer.json"), "w") as f:
        f.write("{}")
    with open(os.path.join(base, "model.safetensors"), "wb") as f:
        header = b'{"__metadata__":{}}     '
        f.write(len(header).to_bytes(8, "little") + header)

    cli(bin_, data, "import", "--sample", "--json")
    dataset = json.loads(cli(bin_, data, "export-training-data", "--format", "alpaca", "--name", "bench", "--json"))["id"]

    # Model servers: the streaming stand-in (many deltas per answer) and garden-eden's own
    # Ollama stand-in (one line per answer).
    stream_port, ollama_port = free_port(), free_port()
    procs.start([sys.executable, os.path.join(HERE, "stream_ollama.py"), str(stream_port), str(args.tokens), str(args.token_delay)],
                os.path.join(work, "stream_ollama.log"))
    procs.start([bin_, "ollama-stand-in", "--addr", f"127.0.0.1:{ollama_port}", "--blobs", os.path.join(work, "blobs"),
                 "--model", "stand-in"], os.path.join(work, "ollama_stand_in.log"))
    cli(bin_, data, "models", "add", "--kind", "ollama", "--url", f"http://127.0.0.1:{stream_port}", "--model", "bench-stream", "streaming")
    cli(bin_, data, "models", "add", "--kind", "ollama", "--url", f"http://127.0.0.1:{ollama_port}", "--model", "stand-in", "stand-in")

    # The big adapter.
    adapter_dir = os.path.join(work, "adapter")
    t = time.time()
    subprocess.run([sys.executable, os.path.join(HERE, "make_adapter.py"), adapter_dir, str(args.adapter_mb)], check=True,
                   stdout=subprocess.DEVNULL)
    made = time.time() - t
    t = time.time()
    adapter = json.loads(cli(bin_, data, "register-adapter", "--name", "big", "--base-model", "Qwen/Qwen2.5-0.5B-Instruct",
                             "--adapter-path", adapter_dir, "--version", "1.0.0", "--json"))["id"]
    size = os.path.getsize(os.path.join(adapter_dir, "adapter_model.safetensors"))
    print(f"  adapter: {size / 2**30:.2f} GiB written in {made:.0f} s, registered in {time.time() - t:.0f} s", file=sys.stderr)

    wait_http(stream_port, "/api/version")
    wait_http(ollama_port, "/api/version")
    port = free_port()
    procs.start([bin_, "serve", "--data-dir", data, "--addr", f"127.0.0.1:{port}", "--site-root", args.site_root,
                 "--python", os.path.join(venv_bin, "python")],
                os.path.join(work, "server.log"), env={**os.environ, "GARDEN_EDEN_LOG": os.environ.get("GARDEN_EDEN_LOG", "warn")})
    wait_http(port)
    return Server(port), dataset, adapter, base


# ---------------------------------------------------------------- 1. training run SSE

def bench_run_sse(server, dataset, base, args):
    run = server.server_fn("runs/start", {
        "params[dataset_id]": dataset, "params[model_kind]": "path", "params[model]": base,
        "params[quantization_bit]": "none", "params[max_steps]": str(args.steps), "params[name]": "load bench",
    })
    run_id, run_dir = run["id"], os.path.dirname(run["output_dir"])
    ready = threading.Semaphore(0)
    results = [None] * args.listeners

    def listen(i):
        arrived, errors, connected = {}, [], False
        try:
            for event, data, at in sse(server, f"/runs/{run_id}/events", timeout=args.steps / args.rate + 120):
                if event == "snapshot" and not connected:
                    connected = True
                    ready.release()
                v = json.loads(data)
                for p in v.get("points", []) if event in ("points", "snapshot") else []:
                    arrived.setdefault(p["step"], at)
                if event == "status" and v.get("status") not in ("running", "queued"):
                    break
        except Exception as e:  # noqa: BLE001 — reported, not raised, so the others finish
            errors.append(repr(e))
        finally:
            if not connected:
                ready.release()
        results[i] = (arrived, errors)

    threads = [threading.Thread(target=listen, args=(i,), daemon=True) for i in range(args.listeners)]
    for t in threads:
        t.start()
    for _ in threads:
        if not ready.acquire(timeout=60):
            raise RuntimeError("the listeners did not all connect within 60 s")
    # Everyone is listening: the fake trainer (waiting for `go` in the run's folder) may start.
    open(os.path.join(run_dir, "go"), "w").close()
    for t in threads:
        t.join(args.steps / args.rate + 180)
    written = {}
    with open(os.path.join(run_dir, "written.jsonl"), encoding="utf-8") as f:
        for line in f:
            w = json.loads(line)
            written[w["step"]] = w["t"]
    lat, missing, errors = [], 0, []
    for r in results:
        if r is None:
            errors.append("a listener did not finish")
            continue
        arrived, errs = r
        errors += errs
        for step, t in written.items():
            if step in arrived:
                lat.append(arrived[step] - t)
            else:
                missing += 1
    status = server.server_fn("runs/get", {"id": run_id}).get("run", {}).get("status")
    return {"latencies": lat, "missing": missing, "errors": errors, "points": len(written), "status": status}


# ---------------------------------------------------------------- 2. chats

def chat_once(server, endpoint_id, label, expected_pieces):
    """One chat as the page does it. Returns a dict of what happened."""
    prompt = f"{label} please answer"
    t0 = time.time()
    conv = server.server_fn("chat/send", {"endpoint_id": endpoint_id, "text": prompt})
    sent = time.time()
    view = server.server_fn("chat/view", {"conversation": conv})
    pending = view.get("pending")
    text, first, done_at, snapshots, deltas, error = None, None, None, 0, 0, None
    if pending:
        for event, data, at in sse(server, f"/turns/{pending['id']}/events"):
            v = json.loads(data)
            if event == "snapshot":
                snapshots += 1
                text = v.get("text", "")
                if v.get("done"):
                    done_at = at
                    error = v.get("error")
                    break
            elif event == "delta":
                deltas += 1
                text = (text or "") + v.get("text", "")
            elif event == "done":
                done_at = at
                break
            elif event == "error":
                done_at, error = at, v.get("message")
                break
            if first is None and text:
                first = at
    # The stored answer (the page reloads the conversation when the answer is done).
    stored = None
    for _ in range(100):
        view = server.server_fn("chat/view", {"conversation": conv})
        msgs = (view.get("conversation") or {}).get("messages") or []
        answers = [m for m in msgs if m.get("role") == "assistant"]
        if answers:
            stored = answers[-1].get("content")
            break
        time.sleep(0.05)
    stored_at = time.time()
    lost = None
    if expected_pieces is not None and text is not None:
        got = set(text.split())
        lost = sum(1 for p in expected_pieces if p.strip() not in got)
    return {"label": label, "followed": pending is not None, "text": text, "stored": stored, "deltas": deltas,
            "snapshots": snapshots, "lost": lost, "error": error, "post": sent - t0,
            "first": None if first is None else first - t0, "done": None if done_at is None else done_at - t0,
            "stored_at": stored_at - t0, "expected": None if expected_pieces is None else "".join(expected_pieces)}


def bench_chats(server, endpoint_name, args, streaming):
    view = server.server_fn("chat/view", {})
    endpoint = next(e for e in view["endpoints"] if e["name"] == endpoint_name)
    results = [None] * args.chats
    start = threading.Barrier(args.chats)

    def one(i):
        label = f"{endpoint_name}-{i}"
        expected = [f"{label}:{k} " for k in range(args.tokens)] if streaming else None
        start.wait()
        try:
            results[i] = chat_once(server, endpoint["id"], label, expected)
        except Exception as e:  # noqa: BLE001
            results[i] = {"label": label, "exception": repr(e)}

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(args.chats)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    return results


# ---------------------------------------------------------------- 3. adapter pages vs /

def timed_get(server, path, timeout=120, marker=None):
    """(seconds, status, bytes); a 200 page without `marker` in it counts as status "no marker"."""
    t = time.time()
    status, body = server.get(path, timeout)
    dt = time.time() - t
    if status == 200 and marker is not None and marker not in body:
        status = "no marker"
    return dt, status, len(body)


def poll_home(server, stop, out, interval=0.05):
    """GET / every `interval` s until `stop`; appends (started_at, seconds or None, status)."""
    nxt = time.time()
    while not stop.is_set():
        started = time.time()
        try:
            dt, status, _ = timed_get(server, "/", 30)
            out.append((started, dt, status))
        except Exception as e:  # noqa: BLE001
            out.append((started, None, repr(e)))
        nxt += interval
        time.sleep(max(0.0, nxt - time.time()))


def bench_adapter_pages(server, adapter, args, path_suffix="", duration=None, once=False):
    stop = threading.Event()
    home = []
    poller = threading.Thread(target=poll_home, args=(server, stop, home), daemon=True)
    pages, lock = [], threading.Lock()
    end = time.time() + (duration or args.adapter_seconds)
    barrier = threading.Barrier(args.adapter_workers)

    def worker():
        barrier.wait()
        while True:
            try:
                dt, status, n = timed_get(server, f"/adapters/{adapter}{path_suffix}", marker=b"1.0.0")
                with lock:
                    pages.append((dt, status, n))
            except Exception as e:  # noqa: BLE001
                with lock:
                    pages.append((None, repr(e), 0))
            if once or time.time() >= end:
                return

    poller.start()
    time.sleep(1.0)  # idle samples first, for comparison
    workers = [threading.Thread(target=worker, daemon=True) for _ in range(args.adapter_workers)]
    t0 = time.time()
    for w in workers:
        w.start()
    for w in workers:
        w.join(600)
    t1 = time.time()
    stop.set()
    poller.join(60)
    idle = [x for x in home if x[0] < t0]
    loaded = [x for x in home if t0 <= x[0] < t1]
    return idle, loaded, pages, t1 - t0


def summarize_home(home):
    ok = [dt for _, dt, s in home if dt is not None and s == 200]
    return ok, len(home) - len(ok)


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--site-root", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--listeners", type=int, default=100)
    ap.add_argument("--steps", type=int, default=200, help="points the fake trainer writes")
    ap.add_argument("--rate", type=float, default=10.0, help="points per second")
    ap.add_argument("--chats", type=int, default=20)
    ap.add_argument("--tokens", type=int, default=50, help="pieces per streamed answer")
    ap.add_argument("--token-delay", type=float, default=0.02, help="seconds between pieces")
    ap.add_argument("--adapter-mb", type=float, default=1024)
    ap.add_argument("--adapter-workers", type=int, default=20)
    ap.add_argument("--adapter-seconds", type=float, default=10.0)
    ap.add_argument("--no-check-pages", action="store_true", help="skip the extra ?check=1 (hashing) round")
    ap.add_argument("--only", default="run,chat,pages", help="which benchmarks: run, chat, pages (comma-separated)")
    args = ap.parse_args()
    os.environ["BENCH_TRAINER_RATE"] = str(args.rate)

    procs = Procs()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rows, notes, failed = [], [], False

    def row(measure, ours, target, ok):
        nonlocal failed
        rows.append((measure, ours, target, "-" if ok is None else ("yes" if ok else "NO")))
        failed |= ok is False

    try:
        say = lambda m: print(f"==> {m}", file=sys.stderr, flush=True)  # noqa: E731
        say("preparing the data dir, model stand-ins, the adapter and the server")
        server, dataset, adapter, base = prepare(args, args.work, procs)

        only = set(args.only.split(","))
        if "run" in only:
            say(f"1. {args.listeners} listeners on a training run's /runs/{{id}}/events, {args.steps} points at {args.rate:g}/s")
            r = bench_run_sse(server, dataset, base, args)
            p95 = pct(r["latencies"], 0.95)
            row(f"run SSE: point latency p95, {args.listeners} listeners", ms(p95), "< 300 ms", p95 is not None and p95 < 0.3)
            row("run SSE: point latency p50 / max", f"{ms(pct(r['latencies'], 0.5))} / {ms(pct(r['latencies'], 1))}", "", None)
            expected = r["points"] * args.listeners
            row("run SSE: points received", f"{len(r['latencies'])}/{expected}", "all", r["missing"] == 0 and r["points"] > 0)
            if r["errors"]:
                notes.append(f"run SSE listener errors: {r['errors'][:3]}")
            if r["status"] != "succeeded":
                notes.append(f"the benchmark run ended {r['status']}")

        if "chat" in only:
            say(f"2. {args.chats} concurrent chats, streamed ({args.tokens} pieces, {args.token_delay * 1000:g} ms apart)")
            res = bench_chats(server, "streaming", args, streaming=True)
            bad = [x for x in res if x is None or "exception" in x]
            good = [x for x in res if x and "exception" not in x]
            lost = sum(x["lost"] or 0 for x in good if x["lost"] is not None)
            unfollowed = [x for x in good if not x["followed"]]
            mismatched = [x for x in good if x["followed"] and not (x["text"] == x["stored"] == x["expected"])]
            row(f"chat: lost deltas, {args.chats} streamed chats", f"{lost} (of {args.chats * args.tokens})", "0",
                lost == 0 and not bad and not unfollowed and not mismatched)
            row("chat: live text == stored answer", f"{args.chats - len(bad) - len(unfollowed) - len(mismatched)}/{args.chats}", f"{args.chats}/{args.chats}",
                not bad and not unfollowed and not mismatched)
            firsts = [x["first"] for x in good if x["first"] is not None]
            dones = [x["done"] for x in good if x["done"] is not None]
            stream_time = args.tokens * args.token_delay
            row("chat: send → first text p50 / p95", f"{ms(pct(firsts, 0.5))} / {ms(pct(firsts, 0.95))}", "", None)
            row(f"chat: send → done p50 / p95 (model streams {stream_time:.1f} s)", f"{ms(pct(dones, 0.5))} / {ms(pct(dones, 0.95))}", "", None)
            resnaps = sum(max(0, x["snapshots"] - 1) for x in good)
            if resnaps:
                notes.append(f"chat: {resnaps} mid-stream snapshot(s) (a listener lagged and was sent the whole text)")
            for x in bad[:3]:
                notes.append(f"chat failed: {x}")
            for x in (unfollowed + mismatched)[:3]:
                notes.append(f"chat {x['label']}: followed={x['followed']} live={x['text']!r:.80} stored={x['stored']!r:.80} error={x['error']}")

            say(f"   {args.chats} concurrent chats with garden-eden's ollama-stand-in (one line per answer)")
            res2 = bench_chats(server, "stand-in", args, streaming=False)
            ok2 = [x for x in res2 if x and "exception" not in x and x["stored"] and f'received \\"{x["label"]} please answer\\"' in json.dumps(x["stored"])
                   and (not x["followed"] or x["text"] == x["stored"])]
            row(f"chat (ollama-stand-in): answers intact, {args.chats} chats", f"{len(ok2)}/{args.chats}", f"{args.chats}/{args.chats}", len(ok2) == args.chats)
            stored2 = [x["stored_at"] for x in res2 if x and "stored_at" in x]
            row("chat (ollama-stand-in): send → answer stored p95", ms(pct(stored2, 0.95)), "", None)
            for x in [x for x in res2 if x not in ok2][:3]:
                notes.append(f"stand-in chat: {str(x)[:300]}")

        if "pages" in only:
            say(f"3. {args.adapter_workers} concurrent loads of /adapters/<id> ({args.adapter_mb:g} MB adapter) for {args.adapter_seconds:g} s, GET / every 50 ms")
            idle, home, pages, elapsed = bench_adapter_pages(server, adapter, args)
            ok, errs = summarize_home(home)
            idle_ok, _ = summarize_home(idle)
            p95 = pct(ok, 0.95)
            row(f"GET / p95 during {args.adapter_workers} adapter-page loads", ms(p95), "< 200 ms", p95 is not None and p95 < 0.2 and errs == 0)
            row("GET / p50 / max (idle p50)", f"{ms(pct(ok, 0.5))} / {ms(pct(ok, 1))} ({len(ok)} samples; idle {ms(pct(idle_ok, 0.5))})", "", None)
            page_ok = [p[0] for p in pages if p[0] is not None and p[1] == 200]
            row("adapter page p50 / p95", f"{ms(pct(page_ok, 0.5))} / {ms(pct(page_ok, 0.95))} ({len(page_ok)} loads, {len(page_ok) / elapsed:.0f}/s, {pages[0][2] / 1024:.0f} kB)",
                "", len(page_ok) == len(pages) and len(pages) > 0)
            if errs:
                notes.append(f"GET / failed {errs} time(s): {[s for _, d, s in home if d is None or s != 200][:3]}")
            if len(page_ok) != len(pages):
                notes.append(f"adapter page failures: {[p for p in pages if p[1] != 200][:3]}")

            if not args.no_check_pages:
                say(f"   extra: {args.adapter_workers} concurrent first loads of /adapters/<id>?check=1 (hashes the 1 GB weights)")
                _, home, pages, elapsed = bench_adapter_pages(server, adapter, args, "?check=1", once=True)
                ok, errs = summarize_home(home)
                p95 = pct(ok, 0.95)
                row(f"(extra) GET / p95 during {args.adapter_workers} ?check=1 loads", ms(p95), "< 200 ms", p95 is not None and p95 < 0.2 and errs == 0)
                row("(extra) GET / max; ?check=1 page p50 / max",
                    f"{ms(pct(ok, 1))}; {ms(pct([p[0] for p in pages if p[0]], 0.5))} / {ms(pct([p[0] for p in pages if p[0]], 1))}", "", None)
    finally:
        procs.stop_all()

    w = [max(len(r[i]) for r in rows + [("measure", "ours", "target", "pass")]) for i in range(4)]
    line = lambda r: "  ".join(str(c).ljust(w[i]) for i, c in enumerate(r)).rstrip()  # noqa: E731
    print(line(("measure", "ours", "target", "pass")))
    print("  ".join("-" * x for x in w))
    for r in rows:
        print(line(r))
    for n in notes:
        print(f"note: {n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
