#!/usr/bin/env bash
# Regenerates the pictures in docs/screenshots from the desktop app under Xvfb:
# the six canvas lessons (the same lessons and steps app/tests/canvas_fit.rs
# measures) at 1280x720 and 1920x1080, side by side, and presenter mode.
# Needs xvfb-run, ImageMagick's `import` and xdotool (.ci/run installs them).
# Usage: tools/screenshots/make.sh [OUT_DIR]   (default docs/screenshots)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-docs/screenshots}
mkdir -p "$out"
cargo build -q -p pinlab --locked
shot() { # SIZE FILE ARGS...
  local size=$1 file=$2
  shift 2
  WAIT=${WAIT:-6} xvfb-run -a -s "-screen 0 ${size}x24" \
    .ci/screenshot.sh target/debug/pinlab "$out/$file" open "$@" --size "$size"
  # 256 colours: half the bytes, no visible loss on a flat UI.
  convert "$out/$file" -strip -colors 256 "PNG8:$out/$file"
}
while read -r lesson step kernel; do
  for size in 1280x720 1920x1080; do
    shot "$size" "$lesson-${size%x*}.png" "$lesson" --step "$step" --kernel "$kernel"
  done
done <<'LIST'
pin-extraction 6 6.12
fork-cow 9 5.7
dio-across-fork 5 5.19
vmsplice-leak 6 5.7
fsync-pinned 5 6.1
thp-pins 4 6.12
LIST
shot 1280x720 side-by-side-dio-5.8-6.5.png dio-across-fork --step 5 --kernel 5.8 --compare 6.5
shot 1920x1080 presenter-ref-extraction.png ref-extraction --step 6 --present
