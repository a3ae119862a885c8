"""Checks a GGUF LoRA adapter end to end: llama.cpp (through llama-cpp-python) running the base
model with the adapter must give the same logits as PEFT running the HF adapter.

    python llama_lora_logits.py --base MODEL_DIR --adapter ADAPTER_DIR --lora-gguf LORA.gguf
        --workdir DIR [--tol 1e-3] [--min-ratio 10] [--tokens 24]

1. Converts the base model to GGUF f32 with convert_hf_gguf.py (llama.cpp's converter; cached in
   --workdir under a key of the model files' paths, sizes and mtimes).
2. In a child process (llama-cpp-python can crash; one retry), evaluates a fixed token id
   sequence with llama_cpp.Llama(base.gguf) and with lora_path=LORA.gguf; logits_all=True.
3. Computes the same logits with transformers (base) and transformers + PeftModel (adapter).
Logits are compared over every position of the sequence.

ok when base_vs_hf_max_diff <= tol, lora_vs_peft_max_diff <= tol, and the adapter's effect
(max |llama.cpp with lora - llama.cpp without|) is > min-ratio times the larger of the two errors.

Last stdout line: {"ok", "base_vs_hf_max_diff", "lora_vs_peft_max_diff", "lora_effect",
"peft_effect", "tokens", "base_gguf", "seconds"}. Exit status 1 when not ok.
"""
import argparse
import hashlib
import json
import os
import pathlib
import subprocess
import sys
import time

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
HERE = pathlib.Path(__file__).resolve().parent
CHILD = "--llama-child"


def llama_child(base_gguf, lora_gguf, ids_json, out_npz):
    """Runs in a child process: llama.cpp logits without and with the adapter."""
    from llama_cpp import GGML_TYPE_F32, Llama

    ids = json.loads(ids_json)
    logits = {}
    for key, lora in (("base", None), ("lora", lora_gguf)):
        # f32 KV cache (the default is f16), so the comparison sees the adapter, not cache rounding.
        llm = Llama(model_path=base_gguf, lora_path=lora, logits_all=True, n_ctx=64, verbose=False,
                    type_k=GGML_TYPE_F32, type_v=GGML_TYPE_F32)
        llm.eval(ids)
        logits[key] = np.array(llm.scores[: len(ids)], dtype=np.float32)
        llm.close()
    np.savez(out_npz, **logits)


def base_gguf_for(base: pathlib.Path, workdir: pathlib.Path) -> pathlib.Path:
    files = sorted(p for p in base.iterdir() if p.suffix in (".json", ".safetensors", ".jinja"))
    key = hashlib.sha1(str(base.resolve()).encode())
    for p in files:
        st = p.stat()
        key.update(f"{p.name}:{st.st_size}:{st.st_mtime_ns};".encode())
    out = workdir / f"base-{key.hexdigest()[:12]}-f32.gguf"
    if not out.is_file():
        tmp = out.with_suffix(".tmp")
        r = subprocess.run([sys.executable, str(HERE / "convert_hf_gguf.py"), str(base), str(tmp)],
                           capture_output=True, text=True)
        if r.returncode != 0 or not tmp.is_file():
            sys.exit(f"llama_lora_logits: converting the base to GGUF failed:\n{r.stderr[-3000:]}")
        tmp.rename(out)
    return out


def llama_logits(base_gguf, lora_gguf, ids, workdir):
    out = workdir / "llama-logits.npz"
    for attempt in range(2):
        out.unlink(missing_ok=True)
        r = subprocess.run([sys.executable, __file__, CHILD, str(base_gguf), str(lora_gguf), json.dumps(ids), str(out)],
                           capture_output=True, text=True)
        if r.returncode == 0 and out.is_file():
            with np.load(out) as z:
                return z["base"], z["lora"]
        if r.returncode >= 0:  # a Python error, not a crash: retrying will not help
            break
    sys.exit(f"llama_lora_logits: llama-cpp-python child failed (status {r.returncode}):\n{r.stderr[-3000:]}")


def hf_logits(base, adapter, ids):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32).eval()
    x = torch.tensor([ids])
    with torch.no_grad():
        plain = model(x).logits[0].numpy()
        peft = PeftModel.from_pretrained(model, adapter).eval()
        with_lora = peft(x).logits[0].numpy()
    return plain, with_lora


def main():
    if len(sys.argv) == 6 and sys.argv[1] == CHILD:
        return llama_child(*sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, type=pathlib.Path)
    ap.add_argument("--adapter", required=True)
    ap.add_argument("--lora-gguf", required=True)
    ap.add_argument("--workdir", required=True, type=pathlib.Path)
    ap.add_argument("--tol", type=float, default=1e-3)
    ap.add_argument("--min-ratio", type=float, default=10.0)
    ap.add_argument("--tokens", type=int, default=24, help="length of the fixed token sequence (< 64)")
    args = ap.parse_args()
    if not (args.base / "config.json").is_file():
        sys.exit(f"llama_lora_logits: {args.base} has no config.json")
    if not (pathlib.Path(args.adapter) / "adapter_config.json").is_file():
        sys.exit(f"llama_lora_logits: {args.adapter} has no adapter_config.json")
    if not pathlib.Path(args.lora_gguf).is_file():
        sys.exit(f"llama_lora_logits: no such file {args.lora_gguf}")
    if not 0 < args.tokens < 64:
        sys.exit("llama_lora_logits: --tokens must be between 1 and 63")
    args.workdir.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    vocab = json.loads((args.base / "config.json").read_text())["vocab_size"]
    ids = [(7 + 37 * i) % vocab for i in range(args.tokens)]
    base_gguf = base_gguf_for(args.base, args.workdir)
    cpp_base, cpp_lora = llama_logits(base_gguf, pathlib.Path(args.lora_gguf).resolve(), ids, args.workdir)
    hf_base, hf_lora = hf_logits(args.base, args.adapter, ids)

    base_err = float(np.abs(cpp_base - hf_base).max())
    lora_err = float(np.abs(cpp_lora - hf_lora).max())
    effect = float(np.abs(cpp_lora - cpp_base).max())
    ok = base_err <= args.tol and lora_err <= args.tol and effect > args.min_ratio * max(base_err, lora_err)
    print(json.dumps({
        "ok": ok, "base_vs_hf_max_diff": base_err, "lora_vs_peft_max_diff": lora_err, "lora_effect": effect,
        "peft_effect": float(np.abs(hf_lora - hf_base).max()), "tokens": len(ids), "base_gguf": str(base_gguf),
        "seconds": round(time.perf_counter() - t0, 3),
    }))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
