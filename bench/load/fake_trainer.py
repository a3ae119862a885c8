#!/usr/bin/env python3
"""A stand-in for `llamafactory-cli train run.yaml`, for scripts/bench-load (no GPU, no model).

garden-eden's supervisor runs `<venv>/bin/llamafactory-cli train <run dir>/run.yaml` in the run's
folder. This script waits for a file named `go` to appear there (so that every listener is
connected before the first point), then appends one LLaMA-Factory-shaped line per step to
`<output_dir>/trainer_log.jsonl` at a steady rate, and after each line records in
`<run dir>/written.jsonl` the wall-clock time at which that line was written and flushed.
Environment: BENCH_TRAINER_RATE (lines per second, default 10). Unlike the real trainer it stops
as soon as the server that started it is gone, so an interrupted benchmark leaves nothing behind.
"""
import json
import os
import sys
import time


def yaml_value(text, key):
    for line in text.splitlines():
        if line.startswith(key + ":"):
            value = line.split(":", 1)[1].strip()
            return json.loads(value) if value.startswith('"') else value
    return None


def main():
    if len(sys.argv) < 3 or sys.argv[1] != "train":
        print("fake llamafactory-cli: usage: llamafactory-cli train run.yaml", file=sys.stderr)
        return 2
    text = open(sys.argv[2], encoding="utf-8").read()
    output_dir = yaml_value(text, "output_dir")
    steps = int(yaml_value(text, "max_steps") or 100)
    rate = float(os.environ.get("BENCH_TRAINER_RATE", "10"))
    os.makedirs(output_dir, exist_ok=True)
    parent = os.getppid()
    orphaned = lambda: os.getppid() != parent  # noqa: E731
    deadline = time.time() + 300
    while not os.path.exists("go"):
        if orphaned():
            return 1
        if time.time() > deadline:
            print("fake trainer: nobody said go within 300 s", file=sys.stderr)
            return 1
        time.sleep(0.01)
    print(f"fake trainer: {steps} steps at {rate}/s", flush=True)
    start = time.time()
    with open(os.path.join(output_dir, "trainer_log.jsonl"), "a", encoding="utf-8") as log, \
            open("written.jsonl", "a", encoding="utf-8") as written:
        for step in range(1, steps + 1):
            if orphaned():
                return 1
            # Steady pace: sleep until this step's slot, not a fixed amount after the last one.
            time.sleep(max(0.0, start + step / rate - time.time()))
            elapsed = time.time() - start
            line = {
                "current_steps": step, "total_steps": steps, "loss": 2.0 / (1 + step / 50),
                "lr": 1e-4 * (1 - step / steps), "epoch": round(step / steps, 4),
                "percentage": round(100 * step / steps, 2),
                "elapsed_time": time.strftime("%H:%M:%S", time.gmtime(elapsed)),
                "remaining_time": time.strftime("%H:%M:%S", time.gmtime((steps - step) / rate)),
            }
            log.write(json.dumps(line) + "\n")
            log.flush()
            written.write(json.dumps({"step": step, "t": time.time()}) + "\n")
            written.flush()
    with open(os.path.join(output_dir, "train_results.json"), "w", encoding="utf-8") as f:
        json.dump({"epoch": 1.0, "train_loss": 1.0}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
