#!/usr/bin/env bash
# Idle memory: start warblerd with every channel type that exists configured
# (today: the API channel) on the sample knowledge base, wait until it is
# listening, and print its resident set size after a few seconds idle.
#   tests/bench/idle/run.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)
build=${1:-$src/build}
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
(umask 077 && openssl rand -hex 32 > "$tmp/api.secret")
cat > "$tmp/warbler.conf" <<CONF
state_dir = "$tmp/state";
log = { level = "warn"; sink = "stderr"; };
http = { listen = "127.0.0.1"; port = 0; };
bot = { knowledge_dir = "$src/etc/knowledge"; };
channels = ( { id = "api-main"; type = "api"; secret_file = "$tmp/api.secret";
               callback_url = "http://127.0.0.1:9/callback"; } );
CONF
"$build/src/warblerd" -c "$tmp/warbler.conf" -p "$tmp/port" &
pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
sleep 3
awk '/^VmRSS|^VmHWM|^Threads/ {print}' "/proc/$pid/status"
