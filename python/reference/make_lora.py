"""Makes a PEFT LoRA adapter with random, non-zero weights for a local base model.

    python make_lora.py --base MODEL_DIR --out ADAPTER_DIR [--rank 8] [--alpha 16]
        [--targets q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj]
        [--dtype f32|f16|bf16] [--seed 0] [--std 0.03] [--rslora]

A freshly initialised LoRA has lora_B = 0, so it changes nothing; here both lora_A and lora_B are
filled with seeded Gaussian noise (std --std), so the adapter visibly changes the model's outputs
without swamping them. Saved with PEFT's save_pretrained (adapter_config.json +
adapter_model.safetensors) in the requested dtype.

Last stdout line: {"adapter": ADAPTER_DIR, "tensors": N, "rank": R, "alpha": A, "dtype": D, ...}
"""
import argparse
import json
import os
import pathlib
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

DTYPES = {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, help="Hugging Face model folder")
    ap.add_argument("--out", required=True, help="adapter folder to write")
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--alpha", type=float, default=16)
    ap.add_argument("--targets", default="q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj")
    ap.add_argument("--dtype", choices=sorted(DTYPES), default="f32")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--std", type=float, default=0.03, help="std of the random lora_A/lora_B values")
    ap.add_argument("--rslora", action="store_true", help="use rank-stabilised scaling alpha/sqrt(r)")
    args = ap.parse_args()

    import torch
    from peft import LoraConfig, get_peft_model
    from safetensors import safe_open
    from transformers import AutoModelForCausalLM

    if not (pathlib.Path(args.base) / "config.json").is_file():
        sys.exit(f"make_lora: {args.base} has no config.json")
    model = AutoModelForCausalLM.from_pretrained(args.base, dtype=torch.float32)
    alpha = int(args.alpha) if float(args.alpha).is_integer() else args.alpha
    config = LoraConfig(
        r=args.rank,
        lora_alpha=alpha,
        target_modules=[t.strip() for t in args.targets.split(",") if t.strip()],
        lora_dropout=0.0,
        bias="none",
        use_rslora=args.rslora,
        task_type="CAUSAL_LM",
    )
    try:
        model = get_peft_model(model, config)
    except ValueError as e:
        sys.exit(f"make_lora: {e}")

    gen = torch.Generator().manual_seed(args.seed)
    dtype = getattr(torch, DTYPES[args.dtype])
    n_filled = 0
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".lora_A." in name or ".lora_B." in name:
                p.data = (torch.randn(p.shape, generator=gen) * args.std).to(dtype)
                n_filled += 1
    if n_filled == 0:
        sys.exit(f"make_lora: no module matched --targets {args.targets}")

    out = pathlib.Path(args.out)
    model.save_pretrained(out, safe_serialization=True)
    weights = out / "adapter_model.safetensors"
    if not weights.is_file():
        sys.exit(f"make_lora: save_pretrained did not write {weights}")
    with safe_open(weights, "pt") as f:
        keys = list(f.keys())
        saved = {str(f.get_slice(k).get_dtype()) for k in keys}
    print(json.dumps({
        "adapter": str(out), "tensors": len(keys), "rank": args.rank, "alpha": alpha,
        "rslora": args.rslora, "dtype": args.dtype, "saved_dtypes": sorted(saved),
    }))


if __name__ == "__main__":
    main()
