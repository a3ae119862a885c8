"""Converts a Hugging Face model folder to GGUF with llama.cpp's own convert_hf_to_gguf.py,
accepting tokenizers it does not know (such as the tiny demo model's freshly trained one).

    python convert_hf_gguf.py MODEL_DIR OUT.gguf [--outtype f32|f16|bf16|q8_0] [--pre qwen2]

convert_hf_to_gguf.py names the BPE pre-tokenizer (GGUF key tokenizer.ggml.pre) by hashing the
tokenisation of a fixed string and refuses hashes it does not list. This wrapper imports the
converter unchanged and wraps TextModel.get_vocab_base_pre: when the original raises
NotImplementedError ("BPE pre-tokenizer was not recognized"), it returns --pre instead.

Last stdout line: {"out": OUT.gguf, "pre": the tokenizer.ggml.pre written, "overridden": bool,
"seconds": ...}
"""
import argparse
import json
import os
import pathlib
import sys
import time

from llama_cpp_src import llama_cpp_dir

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--outtype", default="f32", choices=["f32", "f16", "bf16", "q8_0"])
    ap.add_argument("--pre", default="qwen2", help="pre-tokenizer name used when the hash is not recognised")
    args = ap.parse_args()
    if not (pathlib.Path(args.model) / "config.json").is_file():
        sys.exit(f"convert_hf_gguf: {args.model} has no config.json")

    t0 = time.perf_counter()
    root = llama_cpp_dir()
    sys.path[:0] = [str(root), str(root / "gguf-py")]
    import convert_hf_to_gguf
    from conversion.base import TextModel

    used = {}
    original = TextModel.get_vocab_base_pre

    def get_vocab_base_pre(self, tokenizer):
        try:
            used["pre"], used["overridden"] = original(self, tokenizer), False
        except NotImplementedError:
            used["pre"], used["overridden"] = args.pre, True
        return used["pre"]

    TextModel.get_vocab_base_pre = get_vocab_base_pre
    sys.argv = ["convert_hf_to_gguf.py", args.model, "--outtype", args.outtype, "--outfile", args.out]
    convert_hf_to_gguf.main()
    if not pathlib.Path(args.out).is_file():
        sys.exit(f"convert_hf_gguf: convert_hf_to_gguf.py wrote no {args.out}")
    print(json.dumps({"out": args.out, "pre": used.get("pre"), "overridden": used.get("overridden"),
                      "seconds": round(time.perf_counter() - t0, 3)}))


if __name__ == "__main__":
    main()
