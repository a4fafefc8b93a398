#!/usr/bin/env bash
# Usage: screenshot.sh BINARY OUT.png [ARGS...]: runs the app under the current
# X display, waits for it to draw, saves a screenshot, and fails on a blank image.
set -euo pipefail
bin=$1; out=$2; shift 2
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
export XDG_DATA_HOME=$(mktemp -d)   # fresh persistence: the app opens on the first lesson
"$bin" "$@" & pid=$!
sleep "${WAIT:-6}"
# The pointer starts in the middle of the screen, where it would raise a
# tooltip over the canvas: park it on the timeline, then let the app redraw.
if command -v xdotool >/dev/null; then
  xdotool mousemove 4 716 || true
  sleep 1
fi
import -window root "$out"
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
colors=$(identify -format %k "$out")
echo "$out: $colors colours"
[ "$colors" -gt 10 ]
