"""Finds the llama.cpp source tree vendored in llama-cpp-python (its reference converters and
gguf-py), the way scripts/lib.sh lays it out, and makes `gguf` importable from it.

Order: $GARDEN_EDEN_LLAMA_CPP_SRC, then the newest
${XDG_CACHE_HOME:-~/.cache}/garden-eden/llama-cpp-python-*/vendor/llama.cpp.
"""
import os
import pathlib
import sys


def llama_cpp_dir() -> pathlib.Path:
    env = os.environ.get("GARDEN_EDEN_LLAMA_CPP_SRC")
    candidates = [pathlib.Path(env)] if env else []
    cache = pathlib.Path(os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache") / "garden-eden"
    candidates += sorted(cache.glob("llama-cpp-python-*/vendor/llama.cpp"), reverse=True)
    for c in candidates:
        if (c / "convert_hf_to_gguf.py").is_file() and (c / "gguf-py" / "gguf").is_dir():
            return c
    sys.exit("llama.cpp source not found: set GARDEN_EDEN_LLAMA_CPP_SRC to llama-cpp-python's vendor/llama.cpp")


def import_gguf():
    """Imports gguf-py from the vendored llama.cpp (so the reader matches the reference writer)."""
    root = llama_cpp_dir()
    sys.path.insert(0, str(root / "gguf-py"))
    import gguf

    return gguf
