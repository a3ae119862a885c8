#!/usr/bin/env python3
"""Writes a PEFT LoRA adapter folder of about SIZE_MB megabytes for scripts/bench-load:
adapter_config.json and adapter_model.safetensors with f32 lora_A [r, in] / lora_B [out, r] for
every projection of every layer of a Qwen2.5-0.5B-shaped model (hidden 896, intermediate 4864,
24 layers, 2 KV heads of 64), with the rank chosen to reach the size. Values are small finite
numbers (registration rejects NaN and infinities). Usage: make_adapter.py DIR [SIZE_MB]
"""
import array
import json
import os
import struct
import sys

HIDDEN, INTER, LAYERS, KV = 896, 4864, 24, 128
PROJ = [("self_attn.q_proj", HIDDEN, HIDDEN), ("self_attn.k_proj", KV, HIDDEN), ("self_attn.v_proj", KV, HIDDEN),
        ("self_attn.o_proj", HIDDEN, HIDDEN), ("mlp.gate_proj", INTER, HIDDEN), ("mlp.up_proj", INTER, HIDDEN),
        ("mlp.down_proj", HIDDEN, INTER)]


def main():
    out = sys.argv[1]
    size_mb = float(sys.argv[2]) if len(sys.argv) > 2 else 1024
    per_rank = sum(o + i for _, o, i in PROJ) * LAYERS * 4
    rank = max(1, round(size_mb * 1024 * 1024 / per_rank))
    os.makedirs(out, exist_ok=True)
    tensors, offset = {}, 0
    for layer in range(LAYERS):
        for module, o, i in PROJ:
            base = f"base_model.model.model.layers.{layer}.{module}"
            for name, shape in ((f"{base}.lora_A.weight", [rank, i]), (f"{base}.lora_B.weight", [o, rank])):
                n = shape[0] * shape[1] * 4
                tensors[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + n]}
                offset += n
    header = json.dumps({"__metadata__": {"format": "pt"}, **tensors}, separators=(",", ":")).encode()
    header += b" " * (-len(header) % 8)
    block = array.array("f", [((k % 97) - 48) * 1e-4 for k in range(1 << 20)]).tobytes()  # 4 MiB
    with open(os.path.join(out, "adapter_model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header)
        left = offset
        while left > 0:
            f.write(block[: min(left, len(block))])
            left -= min(left, len(block))
    config = {
        "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": rank, "lora_alpha": 2 * rank, "lora_dropout": 0.0,
        "target_modules": sorted({m.split(".")[-1] for m, _, _ in PROJ}),
        "base_model_name_or_path": "Qwen/Qwen2.5-0.5B-Instruct", "use_rslora": False, "use_dora": False,
        "bias": "none", "fan_in_fan_out": False,
    }
    with open(os.path.join(out, "adapter_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
    print(f"{out}: rank {rank}, {offset / 2**20:.0f} MiB of weights")


if __name__ == "__main__":
    main()
