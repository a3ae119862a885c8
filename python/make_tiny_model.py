"""Makes garden-eden's "tiny demo model": a real Qwen2-architecture causal LM, generated locally
(no download), small enough to train in seconds on a CPU. Used by the tests and offered in the
training wizard for trying the app without a GPU.

    python make_tiny_model.py OUTPUT_DIR [--hidden 64] [--layers 2] [--vocab 2048] [--seed 0]

It trains a byte-level BPE tokenizer (Qwen2's pre-tokenizer split, ChatML special tokens and
chat template) on text that ships with Python itself, initialises the weights at random, and
saves everything in Hugging Face format (config.json, model.safetensors, tokenizer files).
"""
import argparse
import json
import os
import pathlib
import sys

QWEN2_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def corpus():
    """Local text: the docstrings and sources of Python's standard library, plus some Korean."""
    import inspect

    roots = [pathlib.Path(inspect.getfile(json)).parent.parent]
    n = 0
    for root in roots:
        for path in sorted(root.glob("*.py"))[:200]:
            try:
                text = path.read_text(encoding="utf-8", errors="ignore")
            except OSError:
                continue
            n += 1
            yield text
    korean = "안녕하세요 반갑습니다 오늘 날씨가 좋네요 여행 계획을 세워 볼까요 제주도 서울 부산 감사합니다"
    for _ in range(50):
        yield korean
    yield "Hello, how are you? I am fine, thank you. What can I help you with today?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("output")
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--vocab", type=int, default=2048)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    import torch
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    out = pathlib.Path(args.output)
    out.mkdir(parents=True, exist_ok=True)

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=args.vocab,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus(), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>", "<|im_end|>"],
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.model_max_length = 2048
    fast.save_pretrained(out)

    torch.manual_seed(args.seed)
    config = Qwen2Config(
        vocab_size=len(fast),
        hidden_size=args.hidden,
        intermediate_size=args.hidden * 2,
        num_hidden_layers=args.layers,
        num_attention_heads=args.heads,
        num_key_value_heads=max(1, args.heads // 2),
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        bos_token_id=fast.convert_tokens_to_ids("<|endoftext|>"),
        eos_token_id=fast.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=fast.convert_tokens_to_ids("<|endoftext|>"),
        torch_dtype="float32",
    )
    model = Qwen2ForCausalLM(config)
    model.save_pretrained(out)
    # garden-eden reads this to recognise the demo model.
    (out / "garden-eden-tiny.json").write_text(json.dumps({
        "what": "garden-eden tiny demo model (random weights, for trying the app and for tests)",
        "parameters": sum(p.numel() for p in model.parameters()),
        "template": "qwen",
    }, indent=2))
    print(json.dumps({"path": str(out), "parameters": sum(p.numel() for p in model.parameters())}))


if __name__ == "__main__":
    sys.exit(main())
