"""garden-eden's runner for a job on a Ray cluster (the job's entrypoint; standard library and
PyYAML only, which LLaMA-Factory brings).

garden-eden uploads this file with the run's YAML and dataset as the job's working_dir, then:

- ``probe``: prints ``GE-PROBE {json}`` (Python, LLaMA-Factory's version, the node's address) and
  fails when LLaMA-Factory cannot be imported, so a cluster without it is refused at submission.
- ``train --run-id ID``: keeps the run's outputs in ``$GARDEN_EDEN_RAY_HOME/<ID>/output``
  (default ``~/.garden-eden/ray-runs``; checkpoints stay there), runs ``llamafactory-cli train``
  on ``run.yaml`` with the shipped paths made absolute, and prints each line LLaMA-Factory
  appends to ``trainer_log.jsonl`` as ``GE-POINT <line>`` the moment it appears: garden-eden
  follows the job's log, so the live charts work as for a local run. A stop from the Jobs API
  (SIGTERM, to every process of the job) becomes SIGABRT in the trainer (``trainer`` runs
  LLaMA-Factory in-process with that handler), which makes LLaMA-Factory save the adapter and
  exit, as a local stop does.
- ``send --run-id ID --offset N --length N``: prints the manifest of the run's top-level output
  files (``GE-MANIFEST {json}``: names, sizes, SHA-256) and then that byte range of the files
  laid end to end, in base64 lines (``GE-CHUNK``). That is how the adapter comes home without a
  shared filesystem or another open port: through the Jobs API's own logs, a bounded piece per
  job, checked by SHA-256 on arrival.
"""

import argparse
import base64
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

CHUNK_LINE = 57 * 1024  # bytes per GE-CHUNK line (76 KB of base64)


def say(tag, payload):
    sys.stdout.write(f"{tag} {payload}\n")
    sys.stdout.flush()


def node_ip():
    try:
        import ray.util

        return ray.util.get_node_ip_address()
    except Exception:  # noqa: BLE001 - outside Ray (a local check of this script)
        return "127.0.0.1"


def run_dir(run_id):
    if not run_id or any(c not in "0123456789abcdef-" for c in run_id):
        raise SystemExit(f"not a run id: {run_id!r}")
    home = os.environ.get("GARDEN_EDEN_RAY_HOME") or str(Path.home() / ".garden-eden" / "ray-runs")
    return Path(home) / run_id


def probe(_args):
    info = {"python": sys.version.split()[0], "node": node_ip(), "executable": sys.executable}
    try:
        import llamafactory

        info["llamafactory"] = getattr(llamafactory, "__version__", "unknown")
    except Exception as e:  # noqa: BLE001 - reported, and the job fails
        info["error"] = f"{type(e).__name__}: {e}"
    say("GE-PROBE", json.dumps(info))
    sys.exit(1 if "error" in info else 0)


def follow_log(path, stop):
    """Prints each complete line appended to trainer_log.jsonl until `stop` is set."""
    offset = 0
    while True:
        done = stop.is_set()
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                data = f.read()
        except FileNotFoundError:
            data = b""
        end = data.rfind(b"\n") + 1
        for line in data[:end].splitlines():
            if line.strip():
                say("GE-POINT", line.decode("utf-8", "replace"))
        offset += end
        if done:
            return
        time.sleep(0.1)


def train(args):
    folder = run_dir(args.run_id)
    output = folder / "output"
    output.mkdir(parents=True, exist_ok=True)
    import yaml

    here = Path.cwd()
    with open(here / "run.yaml", encoding="utf-8") as f:
        config = yaml.safe_load(f)
    # What garden-eden shipped is named relative to the working dir.
    for key in ("dataset_dir", "adapter_name_or_path", "ref_model_adapters"):
        value = config.get(key)
        if isinstance(value, str) and value and not os.path.isabs(value):
            config[key] = str(here / value)
    config["output_dir"] = str(output)
    yaml_path = folder / "run.yaml"
    with open(yaml_path, "w", encoding="utf-8") as f:
        yaml.safe_dump(config, f, sort_keys=False, allow_unicode=True)
    say("GE-START", json.dumps({"node": node_ip(), "output_dir": str(output), "pid": os.getpid()}))

    env = dict(os.environ, LLAMABOARD_ENABLED="1", LLAMABOARD_WORKDIR=str(output), DISABLE_VERSION_CHECK="1")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    trainer = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "trainer", str(yaml_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=str(folder),
        # Its own session: Ray's stop reaches the runner, which asks the trainer to save first.
        start_new_session=True,
    )
    (folder / "trainer.pid").write_text(str(trainer.pid))
    stopped = threading.Event()

    def on_stop(_signum, _frame):
        stopped.set()
        try:
            os.killpg(trainer.pid, signal.SIGABRT)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    log_done = threading.Event()
    tail = threading.Thread(target=follow_log, args=(output / "trainer_log.jsonl", log_done), daemon=True)
    tail.start()
    # The trainer's own output, without progress-bar redraws (they would bloat the job's log).
    for raw in trainer.stdout:
        line = raw.decode("utf-8", "replace").rstrip("\n")
        if "\r" not in line:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
    code = trainer.wait()
    log_done.set()
    tail.join()
    if stopped.is_set():
        say("GE-STOPPED", json.dumps({"exit_code": code}))
        sys.exit(0)
    say("GE-EXIT", json.dumps({"exit_code": code}))
    sys.exit(code)


def trainer(args):
    """`llamafactory-cli train YAML` in this process, with SIGTERM meaning "save and stop": Ray's
    stop sends SIGTERM to every process of the job, and LLaMA-Factory saves the adapter on
    SIGABRT (its web UI's stop), not on SIGTERM."""
    signal.signal(signal.SIGTERM, lambda _s, _f: os.kill(os.getpid(), signal.SIGABRT))
    # If the runner dies (the cluster stopped under it), save and stop rather than train on alone.
    runner = os.getppid()

    def watch():
        while os.getppid() == runner:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGABRT)

    threading.Thread(target=watch, daemon=True).start()
    sys.argv = ["llamafactory-cli", "train", args.yaml]
    from llamafactory.cli import main as llamafactory_cli

    llamafactory_cli()


def manifest(output):
    files = []
    for path in sorted(output.iterdir(), key=lambda p: p.name):
        if path.is_file() and not path.name.startswith("."):
            digest = hashlib.sha256()
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            files.append({"name": path.name, "size": path.stat().st_size, "sha256": digest.hexdigest()})
    kept = sorted(p.name for p in output.iterdir() if p.is_dir())
    return {"files": files, "kept": kept, "output_dir": str(output)}


def wait_for_trainer(folder, limit=120):
    """A stopped trainer may still be saving: wait until it has exited."""
    try:
        pid = int((folder / "trainer.pid").read_text())
    except (FileNotFoundError, ValueError):
        return
    deadline = time.time() + limit
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.2)


def send(args):
    folder = run_dir(args.run_id)
    output = folder / "output"
    wait_for_trainer(folder)
    saved = folder / "manifest.json"
    if args.offset == 0 or not saved.exists():
        m = manifest(output)
        tmp = folder / ".manifest.json.tmp"
        tmp.write_text(json.dumps(m))
        os.replace(tmp, saved)
    m = json.loads(saved.read_text())
    say("GE-MANIFEST", json.dumps(m))
    start, remaining, position = args.offset, args.length, 0
    for entry in m["files"]:
        size = entry["size"]
        if remaining <= 0:
            break
        if position + size <= start:
            position += size
            continue
        with open(output / entry["name"], "rb") as f:
            f.seek(max(0, start - position))
            while remaining > 0:
                data = f.read(min(CHUNK_LINE, remaining))
                if not data:
                    break
                say("GE-CHUNK", base64.b64encode(data).decode("ascii"))
                remaining -= len(data)
                start += len(data)
        position += size
    say("GE-SENT", json.dumps({"offset": args.offset, "length": args.length - remaining}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("probe")
    t = sub.add_parser("train")
    t.add_argument("--run-id", required=True)
    r = sub.add_parser("trainer")
    r.add_argument("yaml")
    s = sub.add_parser("send")
    s.add_argument("--run-id", required=True)
    s.add_argument("--offset", type=int, required=True)
    s.add_argument("--length", type=int, required=True)
    args = parser.parse_args()
    {"probe": probe, "train": train, "trainer": trainer, "send": send}[args.command](args)


if __name__ == "__main__":
    main()
