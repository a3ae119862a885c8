"""MLX's own forward pass: the logits mlx-lm computes for a fixed token id sequence, with the base
model alone and (when --adapter is given) with the mlx-lm LoRA adapter loaded the way mlx-lm
itself loads it (`mlx_lm.load(model, adapter_path=...)`, unfused LoRA layers).

    python mlx_logits.py --model MODEL_DIR [--adapter ADAPTER_DIR] [--tokens 24 | --ids JSON]

Run with a Python that has mlx and mlx-lm (mlx[cpu] on Linux). Computed in float32 (the tiny
model's dtype; other dtypes are cast up) on MLX's default device.

The token ids are the same fixed sequence llama_lora_logits.py and compare_models.py use:
(7 + 37·i) mod vocab_size, unless --ids gives them.

Last stdout line: {"ids", "vocab", "base_logits": [[...] per position], "adapter_logits" (or null),
"adapter_effect": max |adapter - base| (or null), "device", "seconds"}.
"""
import argparse
import json
import os
import pathlib
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def forward(model, ids):
    import mlx.core as mx
    import numpy as np

    logits = model(mx.array([ids]))
    logits = logits.astype(mx.float32)
    mx.eval(logits)
    return np.array(logits[0], dtype=np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, type=pathlib.Path)
    ap.add_argument("--adapter", type=pathlib.Path)
    ap.add_argument("--tokens", type=int, default=24, help="length of the fixed token sequence")
    ap.add_argument("--ids", help="token ids as a JSON list (instead of the fixed sequence)")
    args = ap.parse_args()
    if not (args.model / "config.json").is_file():
        sys.exit(f"mlx_logits: {args.model} has no config.json")
    if args.adapter and not (args.adapter / "adapter_config.json").is_file():
        sys.exit(f"mlx_logits: {args.adapter} has no adapter_config.json")

    t0 = time.perf_counter()
    import mlx.core as mx
    import numpy as np
    from mlx_lm import load

    vocab = json.loads((args.model / "config.json").read_text())["vocab_size"]
    ids = json.loads(args.ids) if args.ids else [(7 + 37 * i) % vocab for i in range(args.tokens)]
    if not ids or any(not isinstance(i, int) or not 0 <= i < vocab for i in ids):
        sys.exit(f"mlx_logits: token ids must be integers in [0, {vocab})")

    base, _ = load(str(args.model))
    base_logits = forward(base, ids)
    adapter_logits = None
    if args.adapter:
        model, _ = load(str(args.model), adapter_path=str(args.adapter))
        adapter_logits = forward(model, ids)

    print(json.dumps({
        "ids": ids,
        "vocab": vocab,
        "base_logits": base_logits.tolist(),
        "adapter_logits": None if adapter_logits is None else adapter_logits.tolist(),
        "adapter_effect": None if adapter_logits is None else float(np.abs(adapter_logits - base_logits).max()),
        "device": str(mx.default_device()),
        "seconds": round(time.perf_counter() - t0, 3),
    }))


if __name__ == "__main__":
    main()
