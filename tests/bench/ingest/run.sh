#!/usr/bin/env bash
# Ingest benchmark: wrk posting distinct signed API-channel messages to
# warblerd (every 200 = committed, bot-answered, reply in the outbox), and
# the same load (the same wrk script and requests) against nginx answering
# a static 200, in one run.
#
#   tests/bench/ingest/run.sh [BUILD_DIR]    (needs wrk, nginx-light, python3, sqlite3)
#
# Then bench_store runs the store's work for the same messages alone, on
# one thread: the rate no core thread can pass, whatever the rest costs.
#
# Rates are read from each server's own counter (warblerd /metrics, nginx
# stub_status) over a steady window that starts WARM seconds after the
# first answer, because wrk loads its request files while its first thread
# is already sending. Prints requests/s, wrk's p99 latency, the ratio, and
# warblerd's CPU per message by thread; docs/BENCHMARKS.md records them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)
build=${1:-$src/build}
WINDOW=${WINDOW:-10}
WARM=${WARM:-3}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
N=${N:-1200000}
tmp=$(mktemp -d)
wpid=
wrkpid=
cleanup() {
    kill "$(cat "$tmp/nginx.pid" 2>/dev/null)" 2>/dev/null || true
    [ -n "$wpid" ] && kill "$wpid" 2>/dev/null || true
    [ -n "$wrkpid" ] && kill "$wrkpid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
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
        location = /nginx_status { stub_status; }
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
python3 "$here/gen_requests.py" "$secret" "$N" "$tmp/reqs" "$THREADS"

nginx_count() { curl -s "http://127.0.0.1:$NGINX_PORT/nginx_status" | awk 'NR==3 {print $3}'; }
wb_count() {
    curl -s "http://127.0.0.1:$WB_PORT/metrics" |
        awk '/^warbler_inbound_messages_total/ {s += $2} END {print s + 0}'
}
# thread name and utime+stime (clock ticks) of every warblerd thread
wb_threads() {
    for t in /proc/"$wpid"/task/*; do
        printf '%s:%s %s\n' "${t##*/}" "$(tr ' ' _ < "$t/comm")" "$(awk '{print $14 + $15}' "$t/stat")"
    done | sort
}

# measure NAME COUNTER_FN MODE URL: runs wrk, samples COUNTER_FN over the window
measure() {
    local name=$1 count=$2 mode=$3 url=$4
    wrk -t"$THREADS" -c"$CONNS" -d"$((WARM + WINDOW + 30))s" --latency -s "$here/post.lua" \
        "$url" -- "$tmp/reqs" "$mode" > "$tmp/$name.out" &
    wrkpid=$!
    for _ in $(seq 600); do [ "$($count)" -gt 0 ] && break; sleep 0.1; done
    sleep "$WARM"
    [ "$name" = wb ] && wb_threads > "$tmp/cpu1"
    local c1 t1 c2 t2
    c1=$($count); t1=$(date +%s.%N)
    sleep "$WINDOW"
    c2=$($count); t2=$(date +%s.%N)
    [ "$name" = wb ] && wb_threads > "$tmp/cpu2"
    kill -INT "$wrkpid"; wait "$wrkpid" || true
    wrkpid=
    echo "$(( c2 - c1 ))" > "$tmp/$name.n"
    awk -v a="$c1" -v b="$c2" -v s="$t1" -v e="$t2" 'BEGIN {printf "%.0f", (b - a) / (e - s)}' \
        > "$tmp/$name.rps"
}

"$build/src/warblerd" -c "$tmp/warbler.conf" -p "$tmp/port" 2> "$tmp/warblerd.log" &
wpid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done

echo "== nginx: static 200, same wrk script and requests (cycled)"
measure nginx nginx_count cycle "http://127.0.0.1:$NGINX_PORT/hooks/api-main"
echo "== warblerd: POST /hooks/api-main (signed, distinct, durable, bot-answered)"
measure wb wb_count stop "http://127.0.0.1:$WB_PORT/hooks/api-main"
if grep -q '^exhausted [1-9]' "$tmp/wb.out"; then
    echo "warning: a wrk thread used up its requests during the run; raise N" >&2
fi

p99() { awk '$1=="99%" {print $2}' "$1"; }
ok=$(awk '/^status_200/ {print $2}' "$tmp/wb.out")
other=$(awk '/^status_other/ {print $2}' "$tmp/wb.out")
# every 200 must be a stored message with its reply in the outbox
sleep 1
stored=$(sqlite3 "$tmp/state/warbler.db" "SELECT count(*) FROM messages WHERE direction=0")
outboxed=$(sqlite3 "$tmp/state/warbler.db" "SELECT count(*) FROM outbox")
sent=$(sqlite3 "$tmp/state/warbler.db" "SELECT count(*) FROM outbox WHERE state=1")
echo
printf 'nginx     %10s req/s  p99 %s\n' "$(cat "$tmp/nginx.rps")" "$(p99 "$tmp/nginx.out")"
printf 'warblerd  %10s req/s  p99 %s\n' "$(cat "$tmp/wb.rps")" "$(p99 "$tmp/wb.out")"
printf 'ratio     %10s\n' "$(awk -v a="$(cat "$tmp/wb.rps")" -v b="$(cat "$tmp/nginx.rps")" \
    'BEGIN {printf "%.3f", a/b}')"
echo "warblerd CPU per message over the window, by thread:"
join "$tmp/cpu1" "$tmp/cpu2" | awk -v n="$(cat "$tmp/wb.n")" -v hz="$(getconf CLK_TCK)" \
    '{d = $3 - $2; sub(/^[0-9]+:/, "", $1)
      if (d > 0) {printf "  %-16s %6.1f us\n", $1, d * 1e6 / hz / n; s += d}}
     END {printf "  %-16s %6.1f us\n", "total", s * 1e6 / hz / n}'
kill "$wpid"; wait "$wpid" 2>/dev/null || true
wpid=
kill "$(cat "$tmp/nginx.pid")"
echo "== the store alone (bench_store, same calls per message as the core, one thread)"
"$build/tests/unit/store/bench_store" -n 200000 --dir "$tmp" | tee "$tmp/store.out"
store_rate=$(awk '/msg\/s of CPU/ {print $1}' "$tmp/store.out")
printf 'ratio the store alone would allow (one core, nothing else running) %.3f\n' \
    "$(awk -v a="$store_rate" -v b="$(cat "$tmp/nginx.rps")" 'BEGIN {print a/b}')"
echo "200 answers $ok (other $other), inbound messages stored $stored, outbox rows $outboxed" \
    "($sent delivered to the callback)"
if [ "$ok" -gt "$stored" ] || [ "$stored" -gt "$outboxed" ]; then
    echo "FAIL: a 200 without a stored, answered message" >&2
    exit 1
fi
