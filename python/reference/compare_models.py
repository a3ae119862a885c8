"""Compares two Hugging Face model folders (e.g. garden-eden's merge against peft_merge.py's).

    python compare_models.py A_DIR B_DIR [--atol 1e-5] [--rtol 1e-4] [--logits-atol 1e-4] [--no-logits]

1. Weights: reads each folder's safetensors (model.safetensors.index.json when present, else every
   *.safetensors file) and compares tensor by tensor: same names, shapes and dtypes, and values
   within |a-b| <= atol + rtol*|b|.
2. Logits: loads both folders with transformers' AutoModelForCausalLM (float32) and compares the
   logits over a fixed token sequence (max |a-b| <= --logits-atol). Skipped with --no-logits.

Last stdout line: {"ok", "tensors", "max_abs_diff", "logits_max_abs_diff", "mismatches",
"config_differs"}. Exit status 1 when not ok.
"""
import argparse
import json
import os
import pathlib
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def tensor_files(folder: pathlib.Path) -> dict:
    """name -> safetensors file, for a single-file or sharded checkpoint."""
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        weight_map = json.loads(index.read_text())["weight_map"]
        return {name: folder / f for name, f in weight_map.items()}
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        sys.exit(f"compare_models: no safetensors in {folder}")
    from safetensors import safe_open

    out = {}
    for f in files:
        with safe_open(f, "pt") as h:
            out.update({k: f for k in h.keys()})
    return out


class Tensors:
    """Lazy access to a folder's tensors, one open handle per shard."""

    def __init__(self, folder):
        from safetensors import safe_open

        self.files = tensor_files(pathlib.Path(folder))
        self.handles = {f: safe_open(f, "pt") for f in set(self.files.values())}

    def __getitem__(self, name):
        return self.handles[self.files[name]].get_tensor(name)


def fixed_ids(vocab: int, n: int = 24) -> list:
    return [(7 + 37 * i) % vocab for i in range(n)]


def logits(folder, ids):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--atol", type=float, default=1e-5)
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--logits-atol", type=float, default=1e-4)
    ap.add_argument("--no-logits", action="store_true")
    args = ap.parse_args()
    for d in (args.a, args.b):
        if not (pathlib.Path(d) / "config.json").is_file():
            sys.exit(f"compare_models: {d} has no config.json")

    import torch

    ta, tb = Tensors(args.a), Tensors(args.b)
    mismatches = []
    mismatches += [{"tensor": n, "what": "only in a"} for n in sorted(ta.files.keys() - tb.files.keys())]
    mismatches += [{"tensor": n, "what": "only in b"} for n in sorted(tb.files.keys() - ta.files.keys())]
    common = sorted(ta.files.keys() & tb.files.keys())
    max_diff = 0.0
    for name in common:
        a, b = ta[name], tb[name]
        if a.shape != b.shape:
            mismatches.append({"tensor": name, "what": "shape", "a": list(a.shape), "b": list(b.shape)})
            continue
        if a.dtype != b.dtype:
            mismatches.append({"tensor": name, "what": "dtype", "a": str(a.dtype), "b": str(b.dtype)})
        a, b = a.double(), b.double()
        diff = (a - b).abs()
        d = float(diff.max()) if diff.numel() else 0.0
        max_diff = max(max_diff, d)
        if not bool((diff <= args.atol + args.rtol * b.abs()).all()):
            mismatches.append({"tensor": name, "what": "values", "max_abs_diff": d})

    ca = json.loads((pathlib.Path(args.a) / "config.json").read_text())
    cb = json.loads((pathlib.Path(args.b) / "config.json").read_text())
    config_differs = sorted(k for k in ca.keys() | cb.keys() if ca.get(k) != cb.get(k))

    logits_diff = None
    if not args.no_logits:
        ids = fixed_ids(int(ca["vocab_size"]))
        logits_diff = float((logits(args.a, ids) - logits(args.b, ids)).abs().max())
        if not logits_diff <= args.logits_atol:
            mismatches.append({"what": "logits", "max_abs_diff": logits_diff})

    result = {
        "ok": not mismatches,
        "tensors": len(common),
        "max_abs_diff": max_diff,
        "logits_max_abs_diff": logits_diff,
        "mismatches": mismatches,
        "config_differs": config_differs,
    }
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
