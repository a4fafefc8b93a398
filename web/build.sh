#!/usr/bin/env bash
# Builds the static site into a folder ready for any static host:
#   web/build.sh [OUT_DIR]      (default: web/dist)
# Needs the wasm32 target and wasm-bindgen-cli of the Cargo.lock version:
#   rustup target add wasm32-unknown-unknown
#   cargo install wasm-bindgen-cli --version <version in Cargo.lock>   (not --locked)
# WASM_OPT=/path/to/wasm-opt runs it with -Oz (binaryen >= 116; Debian's 108
# produces a wasm that crashes, see docs/web.md).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-web/dist}
WB_VER=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')
if ! wasm-bindgen --version 2>/dev/null | grep -qF " $WB_VER"; then
  echo "web/build.sh: needs wasm-bindgen-cli $WB_VER (found: $(wasm-bindgen --version 2>/dev/null || echo none))." >&2
  echo "  cargo install wasm-bindgen-cli --version $WB_VER" >&2
  exit 1
fi
cargo build -p pinlab-web --lib --target wasm32-unknown-unknown --profile web --locked
WASM=target/wasm32-unknown-unknown/web/pinlab_web.wasm
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section --out-dir "$TMP/pkg" --out-name pinlab "$WASM"
if [ -n "${WASM_OPT:-}" ]; then
  "$WASM_OPT" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-simd "$TMP/pkg/pinlab_bg.wasm" -o "$TMP/pkg/opt.wasm"
  mv "$TMP/pkg/opt.wasm" "$TMP/pkg/pinlab_bg.wasm"
fi
# One hash names this build's files, so caches never mix two builds.
BUILD=$(cat "$TMP/pkg/pinlab_bg.wasm" "$TMP/pkg/pinlab.js" web/www/* | sha256sum | cut -c1-12)
rm -rf "$OUT"
mkdir -p "$OUT/pkg"
mv "$TMP/pkg/pinlab_bg.wasm" "$OUT/pkg/pinlab-${BUILD}_bg.wasm"
mv "$TMP/pkg/pinlab.js" "$OUT/pkg/pinlab-${BUILD}.js"
sed "s/__BUILD__/$BUILD/g" web/www/index.html > "$OUT/index.html"
sed "s/__BUILD__/$BUILD/g" web/www/main.js > "$OUT/main-$BUILD.js"
# The monospace font, fetched by the page after its first frame
# (web/src/fonts.rs): egui's own Hack, from the epaint_default_fonts package
# this build compiled against, with its license.
FONTS=$(cargo metadata --format-version 1 --locked | python3 -c '
import json, os, sys
pkgs = json.load(sys.stdin)["packages"]
print(next(os.path.dirname(p["manifest_path"]) for p in pkgs if p["name"] == "epaint_default_fonts") + "/fonts")')
mkdir -p "$OUT/fonts"
cp "$FONTS/Hack-Regular.ttf" "$OUT/fonts/Hack-Regular-$BUILD.ttf"
cp "$FONTS/Hack-Regular.txt" "$OUT/fonts/Hack-Regular-LICENSE.txt"
FILES="[\"./\", \"./index.html\", \"./main-$BUILD.js\", \"./pkg/pinlab-$BUILD.js\", \"./pkg/pinlab-${BUILD}_bg.wasm\", \"./fonts/Hack-Regular-$BUILD.ttf\"]"
sed -e "s/__BUILD__/$BUILD/g" -e "s|__FILES__|$FILES|" web/www/sw.js > "$OUT/sw.js"
cp web/www/embed.html "$OUT/embed.html"
cp web/www/embed.js "$OUT/embed.js"
RAW=$(stat -c %s "$OUT/pkg/pinlab-${BUILD}_bg.wasm")
GZ=$(gzip -9 -c "$OUT/pkg/pinlab-${BUILD}_bg.wasm" | wc -c)
echo "built $OUT (build $BUILD): wasm $RAW bytes raw, $GZ bytes gzip -9"
