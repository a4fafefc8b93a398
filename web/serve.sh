#!/usr/bin/env bash
# Serves the built site locally with live-class rooms (pinlab serve):
#   web/serve.sh [PORT] [DIR]  (default 8080, web/dist)
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${1:-8080}
DIR=${2:-web/dist}
[ -f "$DIR/index.html" ] || { echo "no site in $DIR: run web/build.sh first" >&2; exit 1; }
exec cargo run --release -q -- serve --addr "127.0.0.1:$PORT" --site "$DIR"
