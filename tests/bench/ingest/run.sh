#!/usr/bin/env bash
# Ingest benchmark: wrk posting distinct signed API-channel messages to
# warblerd (every 200 = committed, bot-answered, reply in the outbox), and
# the same load against nginx answering a static 200, in one run.
#
#   tests/bench/ingest/run.sh [BUILD_DIR]    (needs wrk, nginx-light, python3)
#
# Prints requests/s and p99 latency for both and the ratio; the numbers are
# recorded in docs/BENCHMARKS.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)
build=${1:-$src/build}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
N=${N:-400000}
tmp=$(mktemp -d)
trap 'kill $(cat "$tmp/nginx.pid" 2>/dev/null) 2>/dev/null; kill "$wpid" 2>/dev/null; rm -rf "$tmp"' EXIT
wpid=
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
NGINX_PORT=${NGINX_PORT:-$(free_port)}
WB_PORT=${WB_PORT:-$(free_port)}

# nginx: the baseline (static 200) and the callback that receives replies
mkdir -p "$tmp/nginx"
cat > "$tmp/nginx.conf" <<NGX
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx;
    proxy_temp_path $tmp/nginx; fastcgi_temp_path $tmp/nginx;
    uwsgi_temp_path $tmp/nginx; scgi_temp_path $tmp/nginx;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / { return 200 '{"ok":true}'; }
    }
}
NGX
nginx -c "$tmp/nginx.conf" -p "$tmp"

secret=$(openssl rand -hex 32)
(umask 077 && printf '%s\n' "$secret" > "$tmp/api.secret")
cat > "$tmp/warbler.conf" <<CONF
state_dir = "$tmp/state";
log = { level = "warn"; sink = "stderr"; };
http = { listen = "127.0.0.1"; port = $WB_PORT; };
bot = { knowledge_dir = "$src/etc/knowledge"; };
channels = ( { id = "api-main"; type = "api"; secret_file = "$tmp/api.secret";
               callback_url = "http://127.0.0.1:$NGINX_PORT/callback"; } );
CONF
python3 "$here/gen_requests.py" "$secret" "$N" "$tmp/reqs.txt"
"$build/src/warblerd" -c "$tmp/warbler.conf" -p "$tmp/port" 2> "$tmp/warblerd.log" &
wpid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done

run_wrk() { # url [script args]
    wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$@"
}
echo "== nginx static 200 (baseline)"
run_wrk "http://127.0.0.1:$NGINX_PORT/" > "$tmp/nginx.out"
cat "$tmp/nginx.out"
echo "== warblerd POST /hooks/api-main (signed, distinct, durable, bot-answered)"
run_wrk -s "$here/post.lua" "http://127.0.0.1:$WB_PORT/hooks/api-main" -- "$tmp/reqs.txt" \
    "$THREADS" > "$tmp/wb.out"
cat "$tmp/wb.out"

rps() { awk '/^Requests\/sec/ {print $2}' "$1"; }
p99() { awk '$1=="99%" {print $2}' "$1"; }
ok=$(awk '/^status_200/ {print $2}' "$tmp/wb.out")
# every 200 must be a stored message with its reply in the outbox
sleep 1
stored=$(sqlite3 "$tmp/state/warbler.db" "SELECT count(*) FROM messages WHERE direction=0")
outboxed=$(sqlite3 "$tmp/state/warbler.db" "SELECT count(*) FROM outbox")
echo
printf 'nginx     %10s req/s  p99 %s\n' "$(rps "$tmp/nginx.out")" "$(p99 "$tmp/nginx.out")"
printf 'warblerd  %10s req/s  p99 %s\n' "$(rps "$tmp/wb.out")" "$(p99 "$tmp/wb.out")"
printf 'ratio     %10s\n' "$(awk -v a="$(rps "$tmp/wb.out")" -v b="$(rps "$tmp/nginx.out")" 'BEGIN {printf "%.2f", a/b}')"
echo "200 answers $ok, inbound messages stored $stored, outbox rows $outboxed"
if [ "$ok" -gt "$stored" ] || [ "$stored" -gt "$outboxed" ]; then
    echo "FAIL: a 200 without a stored, answered message" >&2
    exit 1
fi
