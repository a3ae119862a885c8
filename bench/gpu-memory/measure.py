"""Peak GPU memory of 10 LoRA training steps, as LLaMA-Factory trains (gradient checkpointing,
AdamW, bf16 compute), on a random-weight Qwen2 of a real shape made on the spot: nothing is
downloaded. Prints one JSON line: {"mode", "shape", "batch", "cutoff", "max_memory_reserved"}.

    python measure.py --shape 7b|1.5b --mode bf16|8|4 --batch B --cutoff N --rank R --dir WORKDIR
"""

import argparse
import json
import os

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, BitsAndBytesConfig, Qwen2Config

SHAPES = {
    # Qwen/Qwen2.5-7B-Instruct and -1.5B-Instruct config.json values.
    "7b": dict(hidden_size=3584, num_hidden_layers=28, intermediate_size=18944, num_attention_heads=28,
               num_key_value_heads=4, vocab_size=152064, tie_word_embeddings=False),
    "1.5b": dict(hidden_size=1536, num_hidden_layers=28, intermediate_size=8960, num_attention_heads=12,
                 num_key_value_heads=2, vocab_size=151936, tie_word_embeddings=True),
}


def base_model(shape, workdir):
    """A random-weight model of this shape saved once in bf16 (so 4/8-bit can load it)."""
    path = os.path.join(workdir, f"qwen2-{shape}-random")
    if not os.path.exists(os.path.join(path, "config.json")):
        config = Qwen2Config(**SHAPES[shape], torch_dtype="bfloat16")
        with torch.device("cuda"):
            model = AutoModelForCausalLM.from_config(config, torch_dtype=torch.bfloat16)
        model.save_pretrained(path)
        del model
        torch.cuda.empty_cache()
    return path


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shape", default="7b", choices=SHAPES)
    p.add_argument("--mode", default="bf16", choices=["bf16", "8", "4"])
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--cutoff", type=int, default=2048)
    p.add_argument("--rank", type=int, default=16)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--dir", default="/tmp/ge-gpu-bench")
    a = p.parse_args()
    path = base_model(a.shape, a.dir)
    torch.cuda.reset_peak_memory_stats()
    quant = None
    if a.mode == "4":
        quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                   bnb_4bit_compute_dtype=torch.bfloat16)
    elif a.mode == "8":
        quant = BitsAndBytesConfig(load_in_8bit=True)
    model = AutoModelForCausalLM.from_pretrained(path, torch_dtype=torch.bfloat16, quantization_config=quant,
                                                 device_map={"": 0})
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.enable_input_require_grads()
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    model = get_peft_model(model, LoraConfig(r=a.rank, lora_alpha=2 * a.rank, lora_dropout=0.05,
                                             target_modules=targets, task_type="CAUSAL_LM"))
    for param in model.parameters():
        if param.requires_grad:
            param.data = param.data.float()  # LLaMA-Factory upcasts the trainable (LoRA) weights
    optim = torch.optim.AdamW([q for q in model.parameters() if q.requires_grad], lr=2e-4)
    vocab = SHAPES[a.shape]["vocab_size"]
    for _ in range(a.steps):
        ids = torch.randint(0, vocab, (a.batch, a.cutoff), device="cuda")
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optim.step()
        optim.zero_grad(set_to_none=True)
    torch.cuda.synchronize()
    print(json.dumps({"mode": a.mode, "shape": a.shape, "batch": a.batch, "cutoff": a.cutoff, "rank": a.rank,
                      "max_memory_reserved": torch.cuda.max_memory_reserved()}))


if __name__ == "__main__":
    main()
