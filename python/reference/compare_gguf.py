"""Compares two GGUF files (e.g. a LoRA adapter written by garden-eden with one written by
llama.cpp's convert_lora_to_gguf.py) using llama.cpp's own gguf-py reader.

    python compare_gguf.py A.gguf B.gguf [--atol 0]

Checked (failures): the tensor names, each tensor's GGML type and shape, its data (bit-exact when
--atol is 0, else max |a-b| <= atol; tensors of different types are compared after
dequantising, for the report only), and the metadata keys general.architecture, general.type,
adapter.type and adapter.lora.alpha. Every other metadata key that is missing on one side or
differs is reported, but does not fail the comparison.

Last stdout line: {"ok", "tensors", "max_abs_diff", "mismatches", "metadata_only_in_a",
"metadata_only_in_b", "metadata_differs", "same_tensor_order"}. Exit status 1 when not ok.
"""
import argparse
import json
import pathlib
import sys

import numpy as np

from llama_cpp_src import import_gguf

REQUIRED_KEYS = ["general.architecture", "general.type", "adapter.type", "adapter.lora.alpha"]
# Pseudo-keys the reader synthesises from the file header.
HEADER_KEYS = {"GGUF.version", "GGUF.tensor_count", "GGUF.kv_count"}


def metadata(reader):
    return {k: f.contents() for k, f in reader.fields.items() if k not in HEADER_KEYS}


def as_f32(gguf, t):
    data = gguf.quants.dequantize(t.data, t.tensor_type)
    return np.asarray(data, dtype=np.float32).reshape(-1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--atol", type=float, default=0.0, help="allowed |a-b| for same-type data (0: bit-exact)")
    args = ap.parse_args()
    for p in (args.a, args.b):
        if not pathlib.Path(p).is_file():
            sys.exit(f"compare_gguf: no such file {p}")

    gguf = import_gguf()
    try:
        ra, rb = gguf.GGUFReader(args.a), gguf.GGUFReader(args.b)
    except Exception as e:  # a malformed file is a failed comparison with a readable message
        sys.exit(f"compare_gguf: cannot read GGUF: {e}")

    mismatches = []
    ta = {t.name: t for t in ra.tensors}
    tb = {t.name: t for t in rb.tensors}
    for name in sorted(ta.keys() - tb.keys()):
        mismatches.append({"tensor": name, "what": "only in a"})
    for name in sorted(tb.keys() - ta.keys()):
        mismatches.append({"tensor": name, "what": "only in b"})
    if len(ta) != len(ra.tensors) or len(tb) != len(rb.tensors):
        mismatches.append({"what": "duplicate tensor names"})

    max_diff = 0.0
    for name in sorted(ta.keys() & tb.keys()):
        a, b = ta[name], tb[name]
        shape_a, shape_b = [int(x) for x in a.shape], [int(x) for x in b.shape]
        if shape_a != shape_b:
            mismatches.append({"tensor": name, "what": "shape", "a": shape_a, "b": shape_b})
            continue
        if a.tensor_type != b.tensor_type:
            mismatches.append({"tensor": name, "what": "type", "a": a.tensor_type.name, "b": b.tensor_type.name})
        diff = float(np.max(np.abs(as_f32(gguf, a) - as_f32(gguf, b)), initial=0.0))
        max_diff = max(max_diff, diff)
        if a.tensor_type == b.tensor_type:
            same = a.data.tobytes() == b.data.tobytes() if args.atol == 0 else diff <= args.atol
            if not same:
                mismatches.append({"tensor": name, "what": "data", "max_abs_diff": diff})

    ma, mb = metadata(ra), metadata(rb)
    for key in REQUIRED_KEYS:
        if key not in ma or key not in mb:
            mismatches.append({"key": key, "what": "missing", "a": ma.get(key), "b": mb.get(key)})
        elif ma[key] != mb[key]:
            mismatches.append({"key": key, "what": "value", "a": ma[key], "b": mb[key]})
    differs = [{"key": k, "a": ma[k], "b": mb[k]} for k in sorted(ma.keys() & mb.keys())
               if k not in REQUIRED_KEYS and ma[k] != mb[k]]

    result = {
        "ok": not mismatches,
        "tensors": len(ta),
        "tensors_b": len(tb),
        "max_abs_diff": max_diff,
        "mismatches": mismatches,
        "metadata_only_in_a": sorted(ma.keys() - mb.keys()),
        "metadata_only_in_b": sorted(mb.keys() - ma.keys()),
        "metadata_differs": differs,
        "same_tensor_order": [t.name for t in ra.tensors] == [t.name for t in rb.tensors],
        "alignment": [ra.alignment, rb.alignment],
    }
    print(json.dumps(result, default=str))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
