"""garden-eden's MLX trainer: LoRA fine-tuning with mlx_lm, supervised like LLaMA-Factory.

    python mlx_train.py CONFIG.json

garden-eden runs this script in its own process group and follows it exactly as it follows
`llamafactory-cli train`: it tails `<adapter_path>/trainer_log.jsonl` (written here in
LLaMA-Factory's own line format), treats exit code 0 plus `train_results.json` as success, asks
for a graceful stop with SIGABRT, and resumes a stopped run by passing the saved adapter back.

What this script owns (everything else is mlx_lm's, driven through its Python API):
  * reading and checking CONFIG.json (schema below), with one-line errors;
  * the adapter folder: adapters.safetensors (+ NNNNNNN_adapters.safetensors every save_every
    steps), adapter_config.json (mlx_lm's own format, so `mlx_lm.fuse` / `mlx_lm.generate
    --adapter-path` load it, plus the base model), trainer_log.jsonl, mlx_train_state.json (the
    step reached, for resuming) and, only when training completed, train_results.json;
  * global step numbers: a resumed run continues the count, the learning-rate schedule and the
    order of the training batches where the stopped run left them (Adam's moments restart, as
    with mlx_lm's own --resume-adapter-file);
  * evaluation and saving at global multiples of steps_per_eval / save_every.

CONFIG.json (keys not listed here are refused; * = required):
  model*               local model folder, or a Hugging Face id already in the cache
  data*                folder with train.jsonl and valid.jsonl, one {"messages": [...]} per line
  adapter_path*        output folder (created if missing)
  iters*               total optimizer steps of the whole run (a resumed run continues to it)
  batch_size           4
  learning_rate        1e-5
  lr_schedule          "constant" (default) | "cosine" (to 0) | "linear" (to 0)
  warmup_ratio         0.0: share of iters warmed up linearly from 0 (any schedule)
  weight_decay         0.0 (the optimizer is AdamW)
  num_layers           -1: transformer blocks to adapt, counted from the last; -1 = all
  lora_parameters      {"rank": 8, "scale": 20.0, "dropout": 0.0, "keys": null}
                       scale = lora_alpha / rank; keys are mlx_lm's module keys inside a block,
                       e.g. ["self_attn.q_proj", "mlp.down_proj"]; null = every linear layer
  max_seq_length       2048 (longer examples are truncated)
  mask_prompt          true: loss on the last (assistant) message only
  steps_per_report     10: one train line in trainer_log.jsonl every N steps (and the last)
  steps_per_eval       200: one eval line every N steps (and at step 0 and the last step)
  val_batches          25: validation batches per evaluation; -1 = the whole valid.jsonl
  save_every           100: adapter checkpoint every N steps; 0 = only at the end / on stop
  seed                 0
  grad_checkpoint      false: recompute activations to save memory
  resume_adapter_file  null: an adapters.safetensors written by this script; training continues
                       from the step recorded in it (or in mlx_train_state.json beside it)

Exit status: 0 = finished (train_results.json written) or stopped on request (SIGABRT or
SIGINT: the adapter is saved at the step reached, no train_results.json); 1 = error (one line
on stderr starting "mlx_train: error:"); 2 = bad command line. SIGTERM/SIGKILL end it at once
(only adapters already saved remain).
"""

import datetime
import json
import math
import os
import signal
import sys
import time
import traceback
import types
from pathlib import Path

# --- stop requests -------------------------------------------------------------------------
# Installed before the slow imports (~1 s), so a stop that comes early is not a crash (SIGABRT's
# default action is a core dump). The handler only sets a flag: training checks it between
# steps (a step already under way finishes first).

STOP = {"signal": None}


def _request_stop(signum, _frame):
    if STOP["signal"] is not None and signum == signal.SIGINT:
        raise KeyboardInterrupt  # a second Ctrl+C: stop now, without saving
    STOP["signal"] = signal.Signals(signum).name
    print(f"mlx_train: {STOP['signal']} received: stopping after the current step", file=sys.stderr, flush=True)


signal.signal(signal.SIGABRT, _request_stop)
signal.signal(signal.SIGINT, _request_stop)

try:
    import mlx.core as mx
    import mlx.optimizers as optim
    import numpy as np
    from mlx.utils import tree_flatten
    from mlx_lm.tuner.callbacks import TrainingCallback
    from mlx_lm.tuner.datasets import CacheDataset, create_dataset
    from mlx_lm.tuner.trainer import TrainingArgs, evaluate, iterate_batches, train
    from mlx_lm.tuner.utils import build_schedule, linear_to_lora_layers, print_trainable_parameters
    from mlx_lm.utils import load, save_config
except ImportError as e:
    print(f"mlx_train: error: {e}: install mlx-lm (on Linux: pip install \"mlx[cpu]==0.32.4\" mlx-lm==0.32.2)",
          file=sys.stderr)
    sys.exit(1)


class ConfigError(Exception):
    """An expected problem (config, data, model): reported as one line, exit code 1."""


class StopRequested(Exception):
    """Raised inside an evaluation to cut it short when a stop was asked for."""


# --- configuration ---------------------------------------------------------------------------

DEFAULTS = {
    "batch_size": 4,
    "learning_rate": 1e-5,
    "lr_schedule": "constant",
    "warmup_ratio": 0.0,
    "weight_decay": 0.0,
    "num_layers": -1,
    "lora_parameters": {"rank": 8, "scale": 20.0, "dropout": 0.0, "keys": None},
    "max_seq_length": 2048,
    "mask_prompt": True,
    "steps_per_report": 10,
    "steps_per_eval": 200,
    "val_batches": 25,
    "save_every": 100,
    "seed": 0,
    "grad_checkpoint": False,
    "resume_adapter_file": None,
}
REQUIRED = ("model", "data", "adapter_path", "iters")
STATE_FILE = "mlx_train_state.json"
ADAPTER_FILE = "adapters.safetensors"


def read_config(path):
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}")
    except (OSError, ValueError) as e:
        raise ConfigError(f"cannot read config {path}: {e}")
    if not isinstance(raw, dict):
        raise ConfigError(f"config {path} must hold a JSON object")
    unknown = sorted(set(raw) - set(DEFAULTS) - set(REQUIRED))
    if unknown:
        raise ConfigError(f"unknown config key(s): {', '.join(unknown)}")
    missing = [k for k in REQUIRED if raw.get(k) in (None, "")]
    if missing:
        raise ConfigError(f"missing config key(s): {', '.join(missing)}")
    c = {**DEFAULTS, **{k: v for k, v in raw.items() if v is not None or k == "resume_adapter_file"}}
    lora = {**DEFAULTS["lora_parameters"], **(raw.get("lora_parameters") or {})}
    unknown = sorted(set(lora) - set(DEFAULTS["lora_parameters"]))
    if unknown:
        raise ConfigError(f"unknown lora_parameters key(s): {', '.join(unknown)}")
    c["lora_parameters"] = lora

    def need(ok, message):
        if not ok:
            raise ConfigError(message)

    def is_int(v):
        return isinstance(v, int) and not isinstance(v, bool)

    def is_num(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

    for key in ("model", "data", "adapter_path"):
        need(isinstance(c[key], str), f"{key} must be a string")
    for key in ("iters", "batch_size", "max_seq_length", "steps_per_report", "steps_per_eval"):
        need(is_int(c[key]) and c[key] >= 1, f"{key} must be a whole number ≥ 1 (got {c[key]!r})")
    for key in ("num_layers", "val_batches", "save_every", "seed"):
        need(is_int(c[key]), f"{key} must be a whole number (got {c[key]!r})")
    need(c["num_layers"] == -1 or c["num_layers"] >= 1, "num_layers must be -1 (all) or ≥ 1")
    need(c["val_batches"] == -1 or c["val_batches"] >= 1, "val_batches must be -1 (all) or ≥ 1")
    need(c["save_every"] >= 0, "save_every must be ≥ 0")
    need(is_num(c["learning_rate"]) and c["learning_rate"] > 0, "learning_rate must be a number > 0")
    need(is_num(c["weight_decay"]) and c["weight_decay"] >= 0, "weight_decay must be a number ≥ 0")
    need(is_num(c["warmup_ratio"]) and 0 <= c["warmup_ratio"] < 1, "warmup_ratio must be in [0, 1)")
    need(c["lr_schedule"] in ("constant", "cosine", "linear"), "lr_schedule must be constant, cosine or linear")
    need(isinstance(c["mask_prompt"], bool), "mask_prompt must be true or false")
    need(isinstance(c["grad_checkpoint"], bool), "grad_checkpoint must be true or false")
    need(is_int(lora["rank"]) and lora["rank"] >= 1, "lora_parameters.rank must be a whole number ≥ 1")
    need(is_num(lora["scale"]), "lora_parameters.scale must be a number (lora_alpha / rank)")
    need(is_num(lora["dropout"]) and 0 <= lora["dropout"] < 1, "lora_parameters.dropout must be in [0, 1)")
    keys = lora["keys"]
    need(keys is None or (isinstance(keys, list) and keys and all(isinstance(k, str) and k for k in keys)),
         "lora_parameters.keys must be null or a non-empty list of module keys such as self_attn.q_proj")
    need(c["resume_adapter_file"] is None or isinstance(c["resume_adapter_file"], str),
         "resume_adapter_file must be a path or null")
    return c


def read_jsonl(path):
    """The examples of one file, with the line number of any broken one in the error."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as e:
                raise ConfigError(f"{path}:{n}: not JSON ({e})")
            if not isinstance(row, dict) or not isinstance(row.get("messages"), list) or not row["messages"]:
                raise ConfigError(f"{path}:{n}: expected {{\"messages\": [...]}} (chat format)")
            rows.append(row)
    if not rows:
        raise ConfigError(f"{path} holds no examples")
    return rows


def check_paths(c):
    """The problems worth finding before the slow imports and the model load."""
    data = Path(c["data"])
    if not data.is_dir():
        raise ConfigError(f"data folder not found: {data}")
    for name in ("train.jsonl", "valid.jsonl"):
        if not (data / name).is_file():
            raise ConfigError(f"{data / name} is missing (the data folder needs train.jsonl and valid.jsonl)")
    model = c["model"]
    # "org/name" may be a Hugging Face id; anything else that looks like a path must exist.
    looks_like_path = model.startswith(("/", ".", "~")) or model.count("/") != 1
    if looks_like_path and not Path(model).expanduser().is_dir():
        raise ConfigError(f"model folder not found: {model}")
    resume = c["resume_adapter_file"]
    if resume is not None and not Path(resume).is_file():
        raise ConfigError(f"resume_adapter_file not found: {resume}")


# --- small helpers -----------------------------------------------------------------------------

def hms(seconds):
    """LLaMA-Factory's time format: str(timedelta), e.g. "0:01:05" or "1 day, 2:03:04"."""
    return str(datetime.timedelta(seconds=int(max(seconds, 0))))


def write_json_atomically(path, value):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_json(path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def fail(message, code=1):
    print(f"mlx_train: error: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


# --- the training session ------------------------------------------------------------------------

def lr_schedule(c):
    """The learning rate (a number or an mlx schedule over the optimizer's global step)."""
    lr, iters = float(c["learning_rate"]), c["iters"]
    warmup = round(c["warmup_ratio"] * iters)
    decay = max(iters - warmup, 1)
    if c["lr_schedule"] == "cosine":
        spec = {"name": "cosine_decay", "arguments": [lr, decay, 0.0]}
    elif c["lr_schedule"] == "linear":
        spec = {"name": "linear_schedule", "arguments": [lr, 0.0, decay]}
    elif warmup > 0:
        spec = {"name": "linear_schedule", "arguments": [lr, lr, 1]}  # constant after warm-up
    else:
        return lr
    if warmup > 0:
        spec.update(warmup=warmup, warmup_init=0.0)
    return build_schedule(spec)


class Session(TrainingCallback):
    """One run of this script: the TrainingCallback that writes trainer_log.jsonl, and the
    batch stream handed to mlx_lm's train(), which also serves as the hook between steps
    (evaluate, save, stop), since train() itself only calls back on reports."""

    def __init__(self, c, model, train_set, valid_set, start, prior):
        self.c = c
        self.model = model
        self.train_set = train_set
        self.valid_set = valid_set
        self.total = c["iters"]
        self.start = start  # the global step this session starts from
        self.step = start  # the last completed global step
        self.out = Path(c["adapter_path"])
        self.batches_per_epoch = max(len(train_set) // c["batch_size"], 1)
        # Carried over from the stopped run when resuming.
        self.total_tokens = prior.get("total_tokens", 0)
        self.prior_elapsed = prior.get("elapsed_s", 0.0)
        self.loss_sum = prior.get("loss_sum", 0.0)
        self.loss_steps = prior.get("loss_steps", 0)
        self.t0 = None
        self.stopped = False
        self.last_eval_step = None
        self._window = {"loss": 0.0, "steps": 0, "tokens": 0, "seconds": 0.0}
        self._mlx_tokens = 0  # mlx_lm's own token count, for per-report differences
        mode = "a" if start > 0 else "w"  # a fresh run starts a fresh log, like overwrite_output_dir
        self._log = open(self.out / "trainer_log.jsonl", mode, encoding="utf-8")

    # Times and the common fields of a log line.
    def elapsed(self):
        return self.prior_elapsed + (time.perf_counter() - self.t0)

    def _line(self, step, **fields):
        line = {"current_steps": step, "total_steps": self.total, **fields,
                "epoch": round(step / self.batches_per_epoch, 4),
                "percentage": round(100.0 * step / self.total, 2),
                "elapsed_time": hms(self.elapsed())}
        done = step - self.start
        if done > 0:  # unknown before this session's first step: left out (LLaMA-Factory drops nulls)
            session = time.perf_counter() - self.t0
            line["remaining_time"] = hms(session / done * (self.total - step))
        return line

    def write(self, line):
        self._log.write(json.dumps(line, ensure_ascii=False) + "\n")
        self._log.flush()

    # mlx_lm's TrainingCallback interface; train() is asked to report every step and the lines
    # are written at global multiples of steps_per_report, so a resumed run stays on the grid.
    def on_train_loss_report(self, info):
        step = self.start + info["iteration"]
        w = self._window
        w["loss"] += info["train_loss"]
        w["steps"] += 1
        w["seconds"] += 1.0 / info["iterations_per_second"]
        tokens = info["trained_tokens"] - self._mlx_tokens
        self._mlx_tokens = info["trained_tokens"]
        w["tokens"] += tokens
        self.total_tokens += tokens
        self.loss_sum += info["train_loss"]
        self.loss_steps += 1
        self.lr = info["learning_rate"]
        if step % self.c["steps_per_report"] == 0 or step == self.total:
            self.flush_report(step)

    def flush_report(self, step):
        w = self._window
        if w["steps"] == 0:
            return
        self.write(self._line(step, loss=round(w["loss"] / w["steps"], 4), lr=float(self.lr),
                              throughput=round(w["tokens"] / max(w["seconds"], 1e-9), 2),
                              total_tokens=self.total_tokens))
        self._window = {"loss": 0.0, "steps": 0, "tokens": 0, "seconds": 0.0}

    def on_val_loss_report(self, info):
        pass  # evaluations are run by evaluate_now(), at global steps

    def evaluate_now(self, step):
        def check_stop():
            if STOP["signal"]:
                raise StopRequested

        c = self.c
        try:
            loss = evaluate(model=self.model, dataset=self.valid_set,
                            batch_size=min(c["batch_size"], len(self.valid_set)),
                            num_batches=c["val_batches"], max_seq_length=c["max_seq_length"],
                            progress_callback=check_stop)
        except StopRequested:
            return
        finally:
            self.model.train()
        self.last_eval_step = step
        self.write(self._line(step, eval_loss=round(loss, 4)))

    # Saving: the step goes into the adapter's own metadata and into the state file.
    def save(self, step, checkpoint=False):
        weights = dict(tree_flatten(self.model.trainable_parameters()))
        meta = {"step": str(step), "total_steps": str(self.total)}
        names = [ADAPTER_FILE] + ([f"{step:07d}_{ADAPTER_FILE}"] if checkpoint else [])
        for name in names:
            tmp = self.out / f".{name}.tmp.safetensors"
            mx.save_safetensors(str(tmp), weights, metadata=meta)
            os.replace(tmp, self.out / name)
        write_json_atomically(self.out / STATE_FILE, {
            "step": step, "total_steps": self.total, "adapter_file": ADAPTER_FILE,
            "total_tokens": self.total_tokens, "elapsed_s": round(self.elapsed(), 3),
            "loss_sum": self.loss_sum, "loss_steps": self.loss_steps, "finished": step >= self.total,
        })

    def between_steps(self, step):
        """After global step `step` completed (or, for the session's start, before any).
        Returns False to stop."""
        self.step = step
        c = self.c
        if STOP["signal"]:
            return False
        if step == self.start:
            if step == 0:
                self.evaluate_now(0)  # the base model's validation loss, the charts' baseline
        else:
            if step % c["steps_per_eval"] == 0:
                self.evaluate_now(step)
            if c["save_every"] and step % c["save_every"] == 0:
                self.save(step, checkpoint=True)
                print(f"mlx_train: saved step {step}", flush=True)
        return not STOP["signal"]

    def batches(self, dataset, batch_size, max_seq_length, loop=False, seed=None, comm_group=None):
        """Stands in for mlx_lm's iterate_batches in train(): the same batches, from an RNG of
        their own (evaluations draw from numpy's global one too), skipping the batches a stopped
        run already used, and calling between_steps() before each step."""
        np.random.seed(self.c["seed"])
        own_rng = np.random.get_state()
        inner = iterate_batches(dataset=dataset, batch_size=batch_size, max_seq_length=max_seq_length,
                                loop=True, comm_group=comm_group)

        def pull():
            nonlocal own_rng
            outer = np.random.get_state()
            np.random.set_state(own_rng)
            try:
                return next(inner)
            finally:
                own_rng = np.random.get_state()
                np.random.set_state(outer)

        for _ in range(self.start):
            pull()
        step = self.start
        while self.between_steps(step):
            yield pull()
            step += 1
        self.stopped = True  # train() sees the stream end and returns after its own final save

    def close(self):
        self._log.close()


def run(c):
    check_paths(c)
    out = Path(c["adapter_path"])
    out.mkdir(parents=True, exist_ok=True)
    # From here on this folder's train_results.json would be stale: only a completed run writes it.
    (out / "train_results.json").unlink(missing_ok=True)

    # Colours would end up in train.log: mlx_lm's console (rich) honours NO_COLOR (bold stays).
    if not sys.stdout.isatty():
        os.environ.setdefault("NO_COLOR", "1")

    print(f"mlx_train: loading {c['model']}", flush=True)
    try:
        model, tokenizer = load(c["model"])
    except Exception as e:  # a missing or incomplete model is an expected problem
        hint = ""
        if os.environ.get("HF_HUB_OFFLINE") and not Path(c["model"]).exists():
            hint = " (offline: the model must already be in the Hugging Face cache)"
        raise ConfigError(f"cannot load model {c['model']}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}{hint}")

    settings = types.SimpleNamespace(mask_prompt=c["mask_prompt"])  # what create_dataset reads
    data = Path(c["data"])
    try:
        train_set = CacheDataset(create_dataset(read_jsonl(data / "train.jsonl"), tokenizer, settings))
        valid_set = CacheDataset(create_dataset(read_jsonl(data / "valid.jsonl"), tokenizer, settings))
    except ValueError as e:
        raise ConfigError(f"{data}: {e}")
    if len(train_set) < c["batch_size"]:
        raise ConfigError(f"train.jsonl has {len(train_set)} examples, fewer than batch_size {c['batch_size']}")

    # LoRA layers, as mlx_lm's lora command makes them.
    n_layers = len(model.layers)
    if c["num_layers"] > n_layers:
        raise ConfigError(f"num_layers is {c['num_layers']} but the model has {n_layers} layers")
    model.freeze()
    try:
        linear_to_lora_layers(model, c["num_layers"], c["lora_parameters"])
    except ValueError as e:
        raise ConfigError(f"cannot add LoRA layers: {e}")
    trainable = dict(tree_flatten(model.trainable_parameters()))
    if not trainable:
        raise ConfigError(f"no module matches lora_parameters.keys {c['lora_parameters']['keys']}")
    print_trainable_parameters(model)

    # Resume: the weights, and the step they were saved at.
    start, prior = 0, {}
    if c["resume_adapter_file"]:
        resume = Path(c["resume_adapter_file"])
        try:
            weights, meta = mx.load(str(resume), return_metadata=True)
        except Exception as e:
            raise ConfigError(f"cannot read resume_adapter_file {resume}: {e}")
        for k, w in weights.items():
            if k not in trainable:
                raise ConfigError(f"{resume} does not fit this model and LoRA configuration: no {k} here")
            if trainable[k].shape != w.shape:
                raise ConfigError(f"{resume} does not fit this LoRA configuration: {k} is {tuple(w.shape)} "
                                  f"there, {tuple(trainable[k].shape)} here (another rank?)")
        model.load_weights(list(weights.items()), strict=False)
        mx.eval(model.trainable_parameters())  # read it now: the file is rewritten later
        state = read_json(resume.parent / STATE_FILE) or {}
        start = int(meta.get("step", state.get("step", 0)))
        if state.get("step") == start:
            prior = state
        print(f"mlx_train: resuming from step {start} of {c['iters']} ({resume})", flush=True)

    # adapter_config.json in mlx_lm's format (what its train command writes), plus the base model.
    config_out = {k: v for k, v in c.items() if k != "resume_adapter_file"}
    config_out.update(fine_tune_type="lora", base_model_name_or_path=c["model"], train=True,
                      adapter_path=str(out), data=str(data))
    save_config(dict(config_out), out / "adapter_config.json")

    mx.random.seed(c["seed"])
    np.random.seed(c["seed"])
    session = Session(c, model, train_set, valid_set, start, prior)
    session.t0 = time.perf_counter()
    try:
        if start < c["iters"]:
            optimizer = optim.AdamW(learning_rate=lr_schedule(c), weight_decay=c["weight_decay"])
            # The schedule follows the optimizer's step count: continue it from the resumed step.
            optimizer.state["step"] = mx.array(start, mx.uint64)
            args = TrainingArgs(
                batch_size=c["batch_size"], iters=c["iters"] - start, val_batches=c["val_batches"],
                steps_per_report=1,  # every step to the callback; lines are written on our grid
                steps_per_eval=2**62, steps_per_save=2**62,  # both done by Session at global steps
                max_seq_length=c["max_seq_length"], grad_checkpoint=c["grad_checkpoint"],
                adapter_file=str(out / ADAPTER_FILE),
            )
            train(model=model, optimizer=optimizer, train_dataset=train_set, val_dataset=None,
                  args=args, iterate_batches=session.batches, training_callback=session)
        # The stream is not asked again after the last step: unless it ended, every step ran.
        step = session.step if session.stopped or start >= c["iters"] else c["iters"]
        session.step = step
        session.flush_report(step)  # a stop between report steps still charts its last point
        if session.stopped:
            session.save(step)
            print(f"mlx_train: stopped at step {step} of {c['iters']}: adapter saved in {out}", flush=True)
            return 0
        if session.last_eval_step != step and step > session.start:
            session.evaluate_now(step)
        session.save(step)
        steps_done = step - session.start
        runtime = session.elapsed()
        write_json_atomically(out / "train_results.json", {
            "epoch": round(step / session.batches_per_epoch, 4),
            "train_loss": round(session.loss_sum / session.loss_steps, 4) if session.loss_steps else None,
            "train_runtime": round(runtime, 3),
            "train_steps_per_second": round(steps_done / max(time.perf_counter() - session.t0, 1e-9), 3),
            "steps": step,
            "total_tokens": session.total_tokens,
        })
        print(f"mlx_train: finished {step} steps in {hms(runtime)}: adapter in {out}", flush=True)
        return 0
    finally:
        session.close()


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__.split("\n\n")[1] if len(argv) == 2 else "usage: python mlx_train.py CONFIG.json",
              file=sys.stderr)
        return 0 if len(argv) == 2 else 2
    try:
        c = read_config(argv[1])
        return run(c)
    except ConfigError as e:
        fail(str(e))
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except MemoryError:
        fail("out of memory: lower batch_size or max_seq_length, or turn grad_checkpoint on")
    except Exception as e:  # unexpected: keep the traceback for the log, end with one clear line
        traceback.print_exc()
        fail(f"{type(e).__name__}: {e}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
