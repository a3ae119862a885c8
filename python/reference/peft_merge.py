"""The reference LoRA merge: PEFT's merge_and_unload, saved as a Hugging Face model folder.

    python peft_merge.py --base MODEL_DIR --adapter ADAPTER_DIR --out OUT_DIR
        [--dtype auto|f32|f16|bf16] [--max-shard-size 5GB]

Loads the base model (dtype "auto" keeps the dtype its config declares), applies the adapter with
PeftModel.from_pretrained, merges it into the base weights with merge_and_unload(), writes
config.json + safetensors with save_pretrained, and copies the base's tokenizer files unchanged.

Last stdout line: {"out": OUT_DIR, "seconds": total, "merge_seconds": ..., "dtype": ...}
"""
import argparse
import json
import os
import pathlib
import shutil
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

DTYPES = {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}
TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
                   "vocab.json", "merges.txt", "tokenizer.model", "chat_template.jinja", "chat_template.json"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True)
    ap.add_argument("--adapter", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--dtype", choices=["auto", *DTYPES], default="auto")
    ap.add_argument("--max-shard-size", default="5GB")
    args = ap.parse_args()
    for d, f in ((args.base, "config.json"), (args.adapter, "adapter_config.json")):
        if not (pathlib.Path(d) / f).is_file():
            sys.exit(f"peft_merge: {d} has no {f}")

    t0 = time.perf_counter()
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    dtype = "auto" if args.dtype == "auto" else getattr(torch, DTYPES[args.dtype])
    base = AutoModelForCausalLM.from_pretrained(args.base, dtype=dtype)
    model = PeftModel.from_pretrained(base, args.adapter)
    t1 = time.perf_counter()
    merged = model.merge_and_unload()
    merge_seconds = time.perf_counter() - t1

    out = pathlib.Path(args.out)
    merged.save_pretrained(out, safe_serialization=True, max_shard_size=args.max_shard_size)
    copied = []
    for name in TOKENIZER_FILES:
        src = pathlib.Path(args.base) / name
        if src.is_file():
            shutil.copy2(src, out / name)
            copied.append(name)
    print(json.dumps({
        "out": str(out), "seconds": round(time.perf_counter() - t0, 3), "merge_seconds": round(merge_seconds, 3),
        "dtype": str(next(merged.parameters()).dtype).removeprefix("torch."), "tokenizer_files": copied,
    }))


if __name__ == "__main__":
    main()
