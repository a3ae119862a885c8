"""Makes a randomly initialised Qwen2 model big enough to time merges and conversions on.

    python make_bench_model.py --out DIR [--hidden 1024] [--layers 12] [--intermediate 2816]
        [--vocab 8192] [--heads HIDDEN/64] [--kv-heads HEADS/4] [--dtype f32|f16|bf16]
        [--max-shard-size 200MB] [--no-tie] [--seed 0]

The tokenizer comes from ../make_tiny_model.py (run as a child process with the same --vocab);
then the config's dimensions are swapped for the requested ones and the weights saved as
safetensors sharded at --max-shard-size (so the defaults, ~570 MB in f32, give several shards
plus model.safetensors.index.json).

Last stdout line: {"out": DIR, "params": N, "bytes": total safetensors bytes, "shards": K}
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

TINY = pathlib.Path(__file__).resolve().parent.parent / "make_tiny_model.py"
DTYPES = {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--hidden", type=int, default=1024)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--intermediate", type=int, default=2816)
    ap.add_argument("--vocab", type=int, default=8192)
    ap.add_argument("--heads", type=int, help="attention heads (default hidden/64)")
    ap.add_argument("--kv-heads", type=int, help="key/value heads (default heads/4)")
    ap.add_argument("--dtype", choices=sorted(DTYPES), default="f32")
    ap.add_argument("--max-shard-size", default="200MB")
    ap.add_argument("--no-tie", action="store_true", help="separate lm_head instead of tied embeddings")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    heads = args.heads or max(1, args.hidden // 64)
    kv_heads = args.kv_heads or max(1, heads // 4)
    if args.hidden % heads or heads % kv_heads:
        sys.exit(f"make_bench_model: hidden {args.hidden}, heads {heads}, kv heads {kv_heads} do not divide")

    out = pathlib.Path(args.out)
    # The tiny model's recipe gives the tokenizer (and a config to start from); its weights are replaced.
    r = subprocess.run([sys.executable, str(TINY), str(out), "--vocab", str(args.vocab), "--hidden", "16",
                        "--layers", "1", "--heads", "2"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"make_bench_model: make_tiny_model.py failed:\n{r.stderr[-2000:]}")
    for f in ["model.safetensors", "model.safetensors.index.json", "garden-eden-tiny.json"]:
        (out / f).unlink(missing_ok=True)

    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config.from_pretrained(out)
    config.vocab_size = max(args.vocab, config.vocab_size)
    config.hidden_size = args.hidden
    config.intermediate_size = args.intermediate
    config.num_hidden_layers = args.layers
    config.layer_types = ["full_attention"] * args.layers
    config.num_attention_heads = heads
    config.num_key_value_heads = kv_heads
    config.tie_word_embeddings = not args.no_tie
    config.dtype = DTYPES[args.dtype]

    torch.manual_seed(args.seed)
    model = Qwen2ForCausalLM(config).to(getattr(torch, DTYPES[args.dtype]))
    model.save_pretrained(out, safe_serialization=True, max_shard_size=args.max_shard_size)
    shards = sorted(out.glob("*.safetensors"))
    print(json.dumps({
        "out": str(out), "params": sum(p.numel() for p in model.parameters()),
        "bytes": sum(s.stat().st_size for s in shards), "shards": len(shards), "dtype": args.dtype,
    }))


if __name__ == "__main__":
    main()
