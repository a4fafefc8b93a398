#!/usr/bin/env bash
# Serves the built site locally: web/serve.sh [PORT] [DIR]  (default 8080, web/dist)
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${1:-8080}
DIR=${2:-web/dist}
[ -f "$DIR/index.html" ] || { echo "no site in $DIR: run web/build.sh first" >&2; exit 1; }
echo "pinlab at http://127.0.0.1:$PORT/"
exec python3 -m http.server "$PORT" --bind 127.0.0.1 -d "$DIR"
