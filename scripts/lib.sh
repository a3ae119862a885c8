# Shared by scripts/start and scripts/test: install what is missing, idempotently, using only the
# package registries (crates.io, npm, Debian). Nothing is downloaded from anywhere else: cargo-leptos
# finds wasm-bindgen and wasm-opt on PATH instead of fetching them.
# On macOS there is no apt: what the system lacks is named with its Homebrew formula and the script
# stops (`brew install …`, then re-run); the Python packages still come from PyPI.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_LEPTOS_VERSION=0.3.10

say() { printf '\033[1;32m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

is_mac() { [ "$(uname -s)" = Darwin ]; }
is_apple_silicon() { is_mac && [ "$(uname -m)" = arm64 ]; }

# macOS: stop and say which Homebrew formulae to install. Arguments: formula names.
need_brew() {
  die "missing on this Mac: install it with Homebrew (https://brew.sh): brew install $*, then re-run"
}

# macOS: everything the set-up needs from outside the package registries, checked at once so one
# `brew install` line covers it. Nothing on Linux (apt installs as it goes).
ensure_platform() {
  is_mac || return 0
  local missing=()
  xcode-select -p >/dev/null 2>&1 \
    || die "the Xcode command line tools are missing (the linker and git): xcode-select --install, then re-run"
  command -v cargo >/dev/null || [ -x "$HOME/.cargo/bin/cargo" ] || missing+=(rustup)
  command -v npm >/dev/null || missing+=(node)
  mac_python >/dev/null || missing+=(python@3.11)
  if [ ${#missing[@]} -gt 0 ]; then
    case " ${missing[*]} " in *" rustup "*) say "after installing rustup, run: rustup default stable";; esac
    need_brew "${missing[@]}"
  fi
  is_apple_silicon || say "this Mac has an Intel processor: MLX needs Apple silicon, so training runs on the CPU"
}

# macOS: a Python of 3.10 or later (the one Apple ships with the command line tools is 3.9).
mac_python() {
  local py
  for py in python3.11 python3.12 python3.13 python3; do
    if command -v "$py" >/dev/null && "$py" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
      command -v "$py"
      return 0
    fi
  done
  return 1
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root to run: $* (install it yourself, then re-run)"; fi
}

# The wasm-bindgen version the lock file pins (the CLI must match it exactly).
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' "$ROOT/Cargo.lock"
}

ensure_rust() {
  if is_mac && ! command -v cargo >/dev/null && [ ! -x "$HOME/.cargo/bin/cargo" ]; then
    say "after installing rustup, run: rustup default stable"
    need_brew rustup
  fi
  command -v cargo >/dev/null || die "Rust is not installed: see https://rustup.rs, then re-run"
  export PATH="$HOME/.cargo/bin:$PATH"
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32 target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    say "installing cargo-leptos $CARGO_LEPTOS_VERSION (once; ~18 min on 2 cores)"
    cargo install cargo-leptos --locked --version "$CARGO_LEPTOS_VERSION"
  fi
  local wbg
  wbg="$(wasm_bindgen_version)"
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $wbg\$"; then
    say "installing wasm-bindgen-cli $wbg (once; ~4 min)"
    # No --locked: its lock file names a crate version the index no longer has.
    CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo install wasm-bindgen-cli --version "$wbg" --force
  fi
}

ensure_node_deps() {
  is_mac && ! command -v npm >/dev/null && need_brew node
  command -v npm >/dev/null || { say "installing Node.js and npm (Debian)"; as_root apt-get update -qq; as_root apt-get install -y -qq nodejs npm; }
  if [ ! -x "$ROOT/end2end/node_modules/.bin/playwright" ] || [ ! -x "$ROOT/end2end/node_modules/.bin/wasm-opt" ] \
     || [ "$ROOT/end2end/package-lock.json" -nt "$ROOT/end2end/node_modules/.package-lock.json" ]; then
    say "installing npm packages (Playwright, binaryen's wasm-opt)"
    (cd "$ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
  # npm's binaryen first on PATH: Debian's older wasm-opt silently breaks release bundles.
  export PATH="$ROOT/end2end/node_modules/.bin:$PATH"
}

ensure_chromium() {
  if is_mac; then
    [ -d /Applications/Chromium.app ] || need_brew --cask chromium
    return 0
  fi
  if [ ! -x /usr/bin/chromium ]; then
    say "installing Chromium (Debian)"
    as_root apt-get update -qq
    as_root apt-get install -y -qq chromium
  fi
}

# The trainer's Python environment: LLaMA-Factory with the torch trio pinned together (unpinned,
# pip pairs a torch with a torchaudio built for another CUDA and LLaMA-Factory crashes at import).
PY_REQUIREMENTS=(llamafactory==0.9.5 torch==2.11.0 torchvision==0.26.0 torchaudio==2.11.0)
# The data dir is the one garden-eden itself uses (Rust's `dirs::data_dir()`): on macOS
# ~/Library/Application Support/garden-eden, on Linux ~/.local/share/garden-eden.
if is_mac; then DEFAULT_DATA_DIR="$HOME/Library/Application Support/garden-eden"; else DEFAULT_DATA_DIR="$HOME/.local/share/garden-eden"; fi
VENV="${GARDEN_EDEN_VENV:-${GARDEN_EDEN_DATA_DIR:-$DEFAULT_DATA_DIR}/venv}"

ensure_python_env() {
  local stamp="$VENV/.garden-eden-requirements"
  export GARDEN_EDEN_PYTHON="${GARDEN_EDEN_PYTHON:-$VENV/bin/python}"
  if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "${PY_REQUIREMENTS[*]}" ]; then
    return
  fi
  if is_mac; then
    local python
    python="$(mac_python)" || need_brew python@3.11
    if [ ! -x "$VENV/bin/python" ]; then
      say "creating the trainer's Python environment in $VENV"
      mkdir -p "$(dirname "$VENV")"
      "$python" -m venv "$VENV"
    fi
  else
  command -v python3 >/dev/null || { say "installing Python (Debian)"; as_root apt-get update -qq; as_root apt-get install -y -qq python3 python3-venv; }
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating the trainer's Python environment in $VENV"
    python3 -m venv "$VENV" 2>/dev/null || { as_root apt-get install -y -qq python3-venv; python3 -m venv "$VENV"; }
  fi
  fi
  say "installing LLaMA-Factory and torch into $VENV (once; ~6 GB, a few minutes)"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet "${PY_REQUIREMENTS[@]}"
  echo "${PY_REQUIREMENTS[*]}" > "$stamp"
}

# The GPU extras (pins checked with torch 2.11 and LLaMA-Factory 0.9.5; garden-core's extras.rs
# names the same ones): bitsandbytes loads the base model in 4/8 bits (QLoRA), DeepSpeed shards
# training across GPUs (no CUDA ops are built at install). Installed when an NVIDIA GPU is
# present; `ensure_qlora_for_tests` installs bitsandbytes alone so the 4-bit CPU test runs.
GPU_EXTRAS=(bitsandbytes==0.50.2 deepspeed==0.19.8)

ensure_gpu_extras() {
  ensure_python_env
  command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1 || return 0
  local stamp="$VENV/.garden-eden-gpu-extras"
  [ "$(cat "$stamp" 2>/dev/null)" = "${GPU_EXTRAS[*]}" ] && return
  say "NVIDIA GPU found: installing the GPU extras (${GPU_EXTRAS[*]}) into $VENV"
  "$VENV/bin/python" -m pip install --quiet "${GPU_EXTRAS[@]}"
  echo "${GPU_EXTRAS[*]}" > "$stamp"
}

# ensure_in_venv STAMP REQUIREMENT WHY: one pinned package in the trainer's environment, installed
# once (the stamp file in the venv remembers the requirement).
ensure_in_venv() {
  ensure_python_env
  local stamp="$VENV/.garden-eden-$1"
  [ "$(cat "$stamp" 2>/dev/null)" = "$2" ] && return
  say "installing $2 into $VENV ($3)"
  "$VENV/bin/python" -m pip install --quiet "$2"
  echo "$2" > "$stamp"
}

ensure_qlora_for_tests() {
  ensure_in_venv bitsandbytes "${GPU_EXTRAS[0]}" "the 4-bit QLoRA test trains on the CPU"
}

# Ray for the tests that hand runs to a real local Ray head (`ray start --head`): installed into
# the trainer's environment, as on a GPU box (`pip install "ray[default]" llamafactory==0.9.5`), so
# the head's jobs can import LLaMA-Factory.
RAY_REQUIREMENT='ray[default]==2.60.0'

ensure_ray_for_tests() {
  ensure_in_venv ray "$RAY_REQUIREMENT" "the Ray tests start a local head"
}

# llama.cpp through llama-cpp-python (with its OpenAI-compatible server): PyPI carries only the source
# distribution, so pip builds llama.cpp (~6.5 min on 2 cores). The wheel is built once and cached;
# the source distribution is kept too, because its vendored llama.cpp holds the reference converters
# (convert_lora_to_gguf.py, convert_hf_to_gguf.py) the conversion tests compare against.
LLAMA_CPP_VERSION=0.3.36
GE_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/garden-eden"

ensure_llama_cpp() {
  ensure_python_env
  local src="$GE_CACHE/llama-cpp-python-$LLAMA_CPP_VERSION"
  local stamp="$VENV/.garden-eden-llama-cpp"
  export GARDEN_EDEN_LLAMA_CPP_SRC="$src/vendor/llama.cpp"
  if [ ! -f "$src/vendor/llama.cpp/convert_lora_to_gguf.py" ]; then
    say "fetching the llama-cpp-python $LLAMA_CPP_VERSION source distribution (PyPI)"
    mkdir -p "$GE_CACHE/sdist"
    "$VENV/bin/python" -m pip download --quiet --no-deps --no-binary llama-cpp-python \
      -d "$GE_CACHE/sdist" "llama-cpp-python==$LLAMA_CPP_VERSION"
    tar -xzf "$GE_CACHE/sdist/llama_cpp_python-$LLAMA_CPP_VERSION.tar.gz" -C "$GE_CACHE"
    [ -d "$GE_CACHE/llama_cpp_python-$LLAMA_CPP_VERSION" ] && mv "$GE_CACHE/llama_cpp_python-$LLAMA_CPP_VERSION" "$src"
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" = "$LLAMA_CPP_VERSION" ]; then return; fi
  if ! ls "$GE_CACHE/wheels"/llama_cpp_python-"$LLAMA_CPP_VERSION"-*.whl >/dev/null 2>&1; then
    say "building llama.cpp (llama-cpp-python $LLAMA_CPP_VERSION) once; ~7 min on 2 cores"
    CMAKE_ARGS="-DLLAVA_BUILD=OFF" "$VENV/bin/python" -m pip wheel --quiet --no-deps \
      --wheel-dir "$GE_CACHE/wheels" "$GE_CACHE/sdist/llama_cpp_python-$LLAMA_CPP_VERSION.tar.gz"
  fi
  "$VENV/bin/python" -m pip install --quiet --find-links "$GE_CACHE/wheels" \
    "llama-cpp-python[server]==$LLAMA_CPP_VERSION"
  echo "$LLAMA_CPP_VERSION" > "$stamp"
}

# MLX, the trainer on Apple silicon (`python -m mlx_lm lora`, Metal), in an environment of its own
# beside the trainer's: mlx-lm needs a newer transformers than LLaMA-Factory 0.9.5 accepts. It is
# <data dir>/mlx-venv, where garden-eden looks for it (Settings::mlx_python_path; override with
# GARDEN_EDEN_MLX_PYTHON). Installed on an arm64 Mac. On Linux MLX runs on the CPU (`mlx[cpu]`: the
# plain `mlx-cpu` wheel lacks mlx.core), which only the tests need: there it is installed when
# scripts/test calls this, or with `ensure_mlx --for-tests`. Intel Macs and other machines get nothing.
MLX_REQUIREMENTS=(mlx==0.32.4 mlx-lm==0.32.2)
MLX_CPU_REQUIREMENTS=("mlx[cpu]==0.32.4" mlx-lm==0.32.2)
MLX_VENV="${GARDEN_EDEN_MLX_VENV:-${GARDEN_EDEN_DATA_DIR:-$DEFAULT_DATA_DIR}/mlx-venv}"

ensure_mlx() {
  local wanted=() python=python3
  if is_apple_silicon; then
    wanted=("${MLX_REQUIREMENTS[@]}")
    python="$(mac_python)" || need_brew python@3.11
  elif [ "$(uname -s)" = Linux ] && { [ "${1:-}" = --for-tests ] || [ "$(basename "$0")" = test ]; }; then
    wanted=("${MLX_CPU_REQUIREMENTS[@]}")
    command -v python3 >/dev/null || { say "installing Python (Debian)"; as_root apt-get update -qq; as_root apt-get install -y -qq python3 python3-venv; }
  else
    return 0
  fi
  export GARDEN_EDEN_MLX_PYTHON="${GARDEN_EDEN_MLX_PYTHON:-$MLX_VENV/bin/python}"
  local stamp="$MLX_VENV/.garden-eden-requirements"
  [ -x "$MLX_VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "${wanted[*]}" ] && return 0
  if [ ! -x "$MLX_VENV/bin/python" ]; then
    say "creating MLX's Python environment in $MLX_VENV"
    mkdir -p "$(dirname "$MLX_VENV")"
    "$python" -m venv "$MLX_VENV" 2>/dev/null || { as_root apt-get install -y -qq python3-venv; "$python" -m venv "$MLX_VENV"; }
  fi
  say "installing MLX (${wanted[*]}) into $MLX_VENV"
  "$MLX_VENV/bin/python" -m pip install --quiet --upgrade pip
  "$MLX_VENV/bin/python" -m pip install --quiet "${wanted[@]}"
  echo "${wanted[*]}" > "$stamp"
}
