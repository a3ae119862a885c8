# The environment cargo-leptos builds the debug server with. `cargo test` run with the same flags
# and variables reuses its compiled dependencies instead of building everything a second time.
export RUSTFLAGS="--cfg erase_components"
export LEPTOS_OUTPUT_NAME=garden-eden LEPTOS_SITE_ROOT=${LEPTOS_SITE_ROOT:-target/site} LEPTOS_SITE_PKG_DIR=pkg \
  LEPTOS_SITE_ADDR=127.0.0.1:3000 LEPTOS_RELOAD_PORT=3001 LEPTOS_LIB_DIR=frontend \
  LEPTOS_BIN_DIR=server LEPTOS_JS_MINIFY=false LEPTOS_HASH_FILES=false
