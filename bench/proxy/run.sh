#!/usr/bin/env bash
# HTTP reverse-proxy benchmark: wrk through Tandem's proxy, HAProxy and nginx to the same backend
# (an nginx answering a fixed 1 KiB body), on this machine, one proxy at a time, all on loopback,
# keep-alive on both sides. Run by hand as root (it installs the peers and wrk with apt-get):
#
#   bench/proxy/run.sh                            # the backend alone, HAProxy, nginx, then Tandem
#   SERVERS="haproxy tandem" bench/proxy/run.sh   # a subset; DURATION=60 etc. (see the settings below)
#
# Everything it makes goes to bench/proxy/out/ (the body, each server's config and logs, the Tandem
# cluster document, raw wrk output); the table goes to stdout and out/results.md.
# See README.md for what is measured and the caveats.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT="$HERE/out"
BENCH=proxy

# --- settings (environment overrides) ------------------------------------------------------------
SERVERS=${SERVERS:-"backend haproxy nginx tandem"}
PORT=${PORT:-8080}               # every proxy's listening port
BACKEND_PORT=${BACKEND_PORT:-8000}
STATUS_PORT=${STATUS_PORT:-8001}  # the backend's stub_status (connections accepted, requests served)
BODY_BYTES=${BODY_BYTES:-1024}   # the backend's fixed response body
WARMUP=${WARMUP:-30}             # seconds at full speed before measuring: the JVM compiles its hot paths for ~30 s
DURATION=${DURATION:-20}         # seconds of each measured run
ROUNDS=${ROUNDS:-1}              # measured runs per server; medians reported
THREADS=${THREADS:-2}            # wrk -t
CONNECTIONS=${CONNECTIONS:-64}   # wrk -c: client connections, all kept alive
BACKEND_WORKERS=${BACKEND_WORKERS:-auto} # the backend nginx's worker_processes
TANDEM_ACCESS_LOG=${TANDEM_ACCESS_LOG:-} # "false"/"true": written as proxy.access_log; empty: Tandem's default
READY_TIMEOUT=${READY_TIMEOUT:-30}   # seconds a peer may take to answer 200 after start
TANDEM_TIMEOUT=${TANDEM_TIMEOUT:-90} # seconds Tandem may take (JVM start, raft, the pool's first checks)
QUIET_WAIT=${QUIET_WAIT:-300}    # seconds to wait, before each server, for the machine to go idle

declare -A ADDR=([backend]=127.0.60.10 [haproxy]=127.0.60.1 [nginx]=127.0.60.2 [tandem]=127.0.60.3)
declare -A LABEL=([backend]="backend alone" [haproxy]=HAProxy [nginx]=nginx [tandem]=Tandem)
# Debian packages: the peers (nginx is also the backend), the load generator, curl for the checks,
# /usr/bin/time (wrk's own CPU use)
PACKAGES=(haproxy nginx wrk curl time)
# the system services those packages may start (nginx on port 80); we leave none running
SYSTEM_SERVICES=(nginx haproxy)

BACKEND_PID=      # the backend nginx's master, for the whole run

# results, by server
declare -A R_VERSION R_STATUS R_RPS R_P50 R_P99 R_REQ R_SOCKERR R_NON2XX R_CPU R_PER_CPU R_PER_100K \
    R_BACKEND_CPU R_BACKEND_CONNS R_BACKEND_REQ R_RSS R_PSS R_CLIENT_CPU R_OTHER R_HEAP_USED R_HEAP_LIVE R_NOTES

# logging, cleanup (stops what we started, by PID, also on failure or Ctrl-C), measuring, medians
# shellcheck source=../lib.sh
. "$ROOT/bench/lib.sh"

url() { echo "http://${ADDR[$1]}:$(port_of "$1")/"; }
port_of() { if [ "$1" = backend ]; then echo "$BACKEND_PORT"; else echo "$PORT"; fi; }

# --- 1. packages -----------------------------------------------------------------------------------

# As root: install what is missing. Otherwise: nginx (the backend), wrk and curl are needed for
# anything at all; without haproxy that peer is skipped.
install_packages() {
    local missing=() p
    mapfile -t missing < <(missing_packages)
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        for p in nginx wrk curl time; do
            [[ " ${missing[*]} " == *" $p "* ]] && die "missing packages (${missing[*]}); run as root to install them"
        done
        log "haproxy is not installed (run as root to install it): skipping HAProxy"
        SKIP_HAPROXY=1
        return 0
    fi
    apt_install "${missing[@]}"
}
SKIP_HAPROXY=

# --- measuring helpers -----------------------------------------------------------------------------

# "STATUS BYTES" of one GET, the body to FILE and the headers to FILE.headers
http_get() { # URL FILE
    curl -s -o "$2" -D "$2.headers" -w '%{http_code} %{size_download}' --max-time 2 "$1" 2>/dev/null || true
}

# Ready: the server answers 200 with the backend's body (wait_ready polls this).
server_answers() { # SERVER
    local f="$OUT/results/$1/response"
    [ "$(http_get "$(url "$1")" "$f")" = "200 $BODY_BYTES" ] && cmp -s "$f" "$OUT/body"
}
not_ready_note() { # SERVER TIMEOUT
    note "$1" "no 200 with the ${BODY_BYTES}-byte body within ${2}s (last try: \"$(http_get "$(url "$1")" "$OUT/results/$1/response")\"); its logs are in ${OUT#"$ROOT"/}/$1/"
}

# Is something (not ours) already listening on ADDR:PORT?
port_busy() { # ADDR PORT
    ss -Hltn 2>/dev/null | awk -v a="$1:$2" '$4 == a || $4 == "0.0.0.0:" substr(a, index(a, ":") + 1) { f = 1 } END { exit !f }'
}

# One wrk run against SERVER (client_run: in the background, so that Ctrl-C stops it at once).
wrk_run() { # SERVER OUTFILE SECONDS [OPTIONS...]
    local s=$1 file=$2 secs=$3; shift 3
    client_run "$s" "$file" wrk -t "$THREADS" -c "$CONNECTIONS" -d "${secs}s" "$@" "$(url "$s")"
}

# wrk's summary: "req/s p50-ms p99-ms requests socket-errors non-2xx" (latencies converted to ms)
parse_wrk() { # FILE
    awk '
        function ms(v,   n, u) {
            n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
            if (u == "us") return n / 1000; if (u == "ms") return n; if (u == "s") return n * 1000
            if (u == "m") return n * 60000; if (u == "h") return n * 3600000; return -1
        }
        /Latency Distribution/ { dist = 1; next }
        dist && $1 == "50%" { p50 = ms($2) }
        dist && $1 == "99%" { p99 = ms($2); dist = 0 }
        / requests in / { req = $1 }
        /Socket errors:/ { gsub(/,/, ""); sock = $4 + $6 + $8 + $10 }
        /Non-2xx or 3xx responses:/ { non2xx = $NF }
        /^Requests\/sec:/ { rps = $2 }
        END {
            printf "%s\t%s\t%s\t%s\t%d\t%d\n", (rps == "" ? "-" : rps), (p50 == "" ? "-" : sprintf("%.3f", p50)),
                (p99 == "" ? "-" : sprintf("%.3f", p99)), (req == "" ? "-" : req), sock, non2xx
        }' "$1"
}

# The backend's counters: "ACCEPTED-CONNECTIONS REQUESTS" (each read itself adds one of each)
backend_counters() {
    curl -s --max-time 2 "http://${ADDR[backend]}:$STATUS_PORT/" 2>/dev/null | awk 'NR == 3 { print $1, $3 }'
}

# --- 2. the servers --------------------------------------------------------------------------------

# nginx runs as root here; its workers switch to an unprivileged user that exists on Debian
nginx_user() { if [ "$(id -u)" -eq 0 ]; then echo "user www-data;"; fi; }

# The start of both nginx configs, up to inside http {}: in the foreground, its pid and error log
# and temp files under DIR, no access log, client connections kept for ever.
nginx_conf_head() { # DIR WORKER-PROCESSES
    local d=$1
    cat <<EOF
$(nginx_user)
daemon off;
worker_processes $2;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
EOF
}

# nginx with its own prefix, config and logs under out/NAME, in the foreground (daemon off), so $!
# is the master; checked with -t first.
start_nginx_conf() { # NAME
    local d="$OUT/$1"
    nginx -t -q -p "$d" -c "$d/nginx.conf" -e "$d/error.log" >"$d/check.log" 2>&1 ||
        { note "$1" "nginx -t failed: $(tail -1 "$d/check.log")"; return 1; }
    nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" >"$d/stderr.log" 2>&1 </dev/null &
    SERVER_PID=$!
}

# The backend: nginx answering BODY_BYTES bytes to any GET, no logging, connections kept for ever.
start_backend() {
    local d="$OUT/backend"
    rm -rf "$d"; mkdir -p "$d"
    cat >"$d/nginx.conf" <<EOF
# Generated by bench/proxy/run.sh: the backend every proxy forwards to.
$(nginx_conf_head "$d" "$BACKEND_WORKERS")
    server {
        listen ${ADDR[backend]}:$BACKEND_PORT;
        location / {
            default_type text/plain;
            return 200 "$(cat "$OUT/body")";
        }
    }
    # counters for the script: connections accepted and requests served (by both servers)
    server {
        listen ${ADDR[backend]}:$STATUS_PORT;
        location / { stub_status; }
    }
}
EOF
    mkdir -p "$d/tmp"
    start_nginx_conf backend
}

# HAProxy: one process (-db: foreground, no master), a thread per core, connections to the backend
# reused across client connections (http-reuse always), the same health check as Tandem's pool.
start_haproxy() {
    local d="$OUT/haproxy"
    [ -z "$SKIP_HAPROXY" ] || { R_STATUS[haproxy]="not installed"; return 1; }
    rm -rf "$d"; mkdir -p "$d"
    cat >"$d/haproxy.cfg" <<EOF
# Generated by bench/proxy/run.sh
global
    nbthread $(nproc)
    maxconn 4096
    pidfile $d/haproxy.pid

defaults
    mode http
    option http-keep-alive
    http-reuse always
    timeout connect 5s
    timeout client 30s
    timeout server 60s
    timeout http-keep-alive 30s

frontend bench
    bind ${ADDR[haproxy]}:$PORT
    default_backend bench

backend bench
    option httpchk GET /
    server backend ${ADDR[backend]}:$BACKEND_PORT check inter 2s
EOF
    haproxy -c -f "$d/haproxy.cfg" >"$d/check.log" 2>&1 ||
        { note haproxy "haproxy -c failed: $(grep -v '^\s*$' "$d/check.log" | tail -1)"; return 1; }
    haproxy -db -f "$d/haproxy.cfg" >"$d/stderr.log" 2>&1 </dev/null &
    SERVER_PID=$!
}

# nginx as the proxy: a worker per core, an upstream keeping up to 64 idle connections to the
# backend (HTTP/1.1, no Connection header passed on), no access log.
start_nginx() {
    local d="$OUT/nginx"
    rm -rf "$d"; mkdir -p "$d/tmp"
    cat >"$d/nginx.conf" <<EOF
# Generated by bench/proxy/run.sh
$(nginx_conf_head "$d" auto)
    upstream bench {
        server ${ADDR[backend]}:$BACKEND_PORT;
        keepalive 64;
        keepalive_requests 100000000;
        keepalive_timeout 300s;
    }
    server {
        listen ${ADDR[nginx]}:$PORT;
        location / {
            proxy_pass http://bench;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF
    start_nginx_conf nginx
}

# The one-node Tandem cluster document: the node's public address is where the proxy listens.
tandem_document() {
    cat <<EOF
# Generated by bench/proxy/run.sh: a one-node Tandem cluster whose proxy fronts the benchmark backend.
schema_version: 1
cluster:
  name: bench
  control_port: 17800
  admin_port: 19000
  ssh_port: 12222
sites:
  - name: home
nodes:
  - name: n1
    site: home
    control_address: ${ADDR[tandem]}
    public_address: ${ADDR[tandem]}
    roles: [services]
proxy:
  http_port: $PORT
EOF
    [ -n "$TANDEM_ACCESS_LOG" ] && echo "  access_log: $TANDEM_ACCESS_LOG"
    cat <<EOF
  routes:
    - {name: bench, hosts: [], path: /, pool: bench}
  pools:
    - name: bench
      members:
        - {name: backend, address: "${ADDR[backend]}:$BACKEND_PORT", site: home}
      check: {path: /, interval: 2s}
EOF
}

# Tandem: a one-node cluster from that document.
start_tandem() {
    tandem_document >"$OUT/tandem-cluster.yaml"
    start_tandem_node
}

version_of() {
    case $1 in
        backend | nginx) nginx -v 2>&1 | sed 's|.*nginx/||' ;;
        haproxy) if command -v haproxy >/dev/null; then haproxy -v | awk 'NR == 1 { print $3 }'; fi ;;
        tandem) tandem_version ;;
    esac
}

# --- 3. one server: start, check, warm up, measure, stop -------------------------------------------

bench_server() {
    local s=$1 dir="$OUT/results/$1" rss pss r
    mkdir -p "$dir"
    if [ "$s" != backend ]; then
        if [ -z "$BACKEND_PID" ] || [ ! -d "/proc/$BACKEND_PID" ]; then
            R_STATUS[$s]="no backend"; return 0
        fi
        if port_busy "${ADDR[$s]}" "$PORT"; then
            R_STATUS[$s]="port busy"; note "$s" "something already listens on ${ADDR[$s]}:$PORT"; return 0
        fi
    fi
    wait_quiet "$s"
    R_VERSION[$s]=$(version_of "$s")
    log "${LABEL[$s]} ${R_VERSION[$s]} on ${ADDR[$s]}:$(port_of "$s")"
    if [ "$s" = backend ]; then
        SERVER_PID=$BACKEND_PID
    else
        start_server "$s" || return 0
    fi
    if [ "$s" = haproxy ] && grep -q 'WARNING\|ALERT' "$OUT/haproxy/stderr.log" "$OUT/haproxy/check.log" 2>/dev/null; then
        note haproxy "warnings: $(grep -h 'WARNING\|ALERT' "$OUT/haproxy/check.log" "$OUT/haproxy/stderr.log" | sort -u | cut -c1-160 | paste -sd'|')"
    fi

    log "  warm-up ${WARMUP}s"
    wrk_run "$s" "$dir/warmup.txt" "$WARMUP"
    for r in $(seq 1 "$ROUNDS"); do measure_round "$s" "$dir" "$r"; done
    [ -d "/proc/$SERVER_PID" ] || { R_STATUS[$s]="died during the run"; note "$s" "server exited during the runs"; }
    summarize_rounds "$s" "$dir/rounds.tsv"

    read -r rss pss <<<"$(mem_kib "$SERVER_PID")"
    R_RSS[$s]=$((rss / 1024)); R_PSS[$s]=$((pss / 1024))
    if [ "$s" = tandem ]; then
        tandem_heap "$SERVER_PID"
        local alog; alog=$(find "$OUT/tandem/cluster/n1" -name proxy-access.log 2>/dev/null | head -1)
        note tandem "access log: $([ -n "$TANDEM_ACCESS_LOG" ] && echo "proxy.access_log: $TANDEM_ACCESS_LOG" || echo "Tandem's default (on)"), $([ -n "$alog" ] && echo "proxy-access.log has $(wc -l <"$alog") lines ($(du -m "$alog" | cut -f1) MiB)" || echo "no proxy-access.log") after the runs"
    fi
    R_STATUS[$s]=${R_STATUS[$s]:-ok}
    [ "$s" = backend ] || stop_server
}

# One measured run, with the proxy's, the backend's and the machine's CPU time around it, and the
# backend's counters. Appends one line to DIR/rounds.tsv:
#   req/s p50-ms p99-ms requests socket-errors non-2xx proxy-CPU-s backend-CPU-s wrk-CPU-s other-CPU-s
#   backend-connections-opened backend-requests
measure_round() { # SERVER DIR ROUND
    local s=$1 dir=$2 r=$3 f="$2/run-$3.txt" c0 c1 b0=0 b1=0 m0 m1 cpu bcpu client other k0 k1 conns breq
    log "  run $r/$ROUNDS: ${DURATION}s, wrk -t$THREADS -c$CONNECTIONS"
    k0=$(backend_counters)
    c0=$(cpu_ticks "$SERVER_PID"); [ "$s" = backend ] || b0=$(cpu_ticks "$BACKEND_PID"); m0=$(machine_busy_ticks)
    wrk_run "$s" "$f" "$DURATION" --latency
    c1=$(cpu_ticks "$SERVER_PID"); [ "$s" = backend ] || b1=$(cpu_ticks "$BACKEND_PID"); m1=$(machine_busy_ticks)
    k1=$(backend_counters)
    read -r conns breq <<<"$(awk -v a="$k0" -v b="$k1" 'BEGIN { split(a, x, " "); split(b, y, " ")
        if (a == "" || b == "") print "- -"; else print y[1] - x[1] - 1, y[2] - x[2] - 1 }')"
    cpu=$(cpu_seconds $((c1 - c0)))
    bcpu=$(cpu_seconds $((b1 - b0)))
    client=$(client_cpu "$f")
    # whatever else ran meanwhile (another build, a test suite) took CPU from all three
    other=$(other_cpu $((m1 - m0)) $((c1 - c0 + b1 - b0)) "$client")
    [ "$s" = backend ] && bcpu=-
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(parse_wrk "$f")" "$cpu" "$bcpu" "$client" "$other" "$conns" "$breq" \
        >>"$dir/rounds.tsv"
}

# Each figure's median over the rounds (errors: the sum; other CPU: the worst round), and the
# spread of the main ones in the notes.
summarize_rounds() { # SERVER ROUNDS-FILE
    local s=$1 t=$2
    [ -s "$t" ] || return 0
    R_RPS[$s]=$(median "$t" 1)
    R_P50[$s]=$(median "$t" 2)
    R_P99[$s]=$(median "$t" 3)
    R_REQ[$s]=$(median "$t" 4)
    R_SOCKERR[$s]=$(awk -F'\t' '{ n += $5 } END { print n + 0 }' "$t")
    R_NON2XX[$s]=$(awk -F'\t' '{ n += $6 } END { print n + 0 }' "$t")
    R_CPU[$s]=$(median "$t" 7)
    # requests per proxy CPU-second of each round, the median
    R_PER_CPU[$s]=$(awk -F'\t' '$7 > 0 && $4 != "-" { print $4 / $7 }' "$t" | median_of "%.0f")
    R_PER_100K[$s]=$(awk -v p="${R_PER_CPU[$s]}" 'BEGIN { if (p == "-" || p == 0) print "-"; else printf "%.2f", 100000 / p }')
    R_BACKEND_CPU[$s]=$(median "$t" 8)
    R_CLIENT_CPU[$s]=$(median "$t" 9)
    R_OTHER[$s]=$(cut -f10 "$t" | sort -g | tail -1)
    R_BACKEND_CONNS[$s]=$(awk -F'\t' '$11 != "-" { n += $11; k++ } END { print k ? n : "-" }' "$t")
    R_BACKEND_REQ[$s]=$(awk -F'\t' '$12 != "-" { n += $12; k++ } END { print k ? n : "-" }' "$t")
    # every request wrk counted should have reached the backend once (plus a few health checks)
    local sent; sent=$(awk -F'\t' '$4 != "-" { n += $4 } END { print n + 0 }' "$t")
    if [ "${R_BACKEND_REQ[$s]}" != "-" ] && awk -v a="${R_BACKEND_REQ[$s]}" -v b="$sent" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d > 0.01 * b + 100) }'; then
        note "$s" "the backend served ${R_BACKEND_REQ[$s]} requests while wrk counted $sent responses"
    fi
    if [ "$ROUNDS" -gt 1 ]; then
        note "$s" "over $ROUNDS runs: req/s $(awk -F'\t' 'NR == 1 || $1 < a { a = $1 } NR == 1 || $1 > b { b = $1 } END { printf "%.0f–%.0f", a, b }' "$t"), p99 $(awk -F'\t' 'NR == 1 || $3 < a { a = $3 } NR == 1 || $3 > b { b = $3 } END { printf "%.3f–%.3f ms", a, b }' "$t")"
    fi
}

# The backend runs for the whole benchmark; every proxy forwards to it.
start_backend_once() {
    if port_busy "${ADDR[backend]}" "$BACKEND_PORT"; then
        log "something already listens on ${ADDR[backend]}:$BACKEND_PORT"; return 1
    fi
    SERVER_PID=
    mkdir -p "$OUT/results/backend"
    start_backend || return 1
    BACKEND_PID=$SERVER_PID; SERVER_PID=
    STARTED_PIDS+=("$BACKEND_PID")
    wait_ready backend "$BACKEND_PID" "$READY_TIMEOUT" && return 0
    log "the backend did not answer: $(tail -1 "$OUT/backend/error.log" 2>/dev/null)"
    return 1
}

# --- 4. report -------------------------------------------------------------------------------------

errors() { # SERVER
    [ -n "${R_RPS[$1]:-}" ] || { echo "-"; return; }
    echo "${R_SOCKERR[$1]:-0} / ${R_NON2XX[$1]:-0}"
}

# The issue's aim: >= 0.75x HAProxy's req/s, p99 <= 1.5x HAProxy's, heap under 256 MB.
aim() {
    local rr pr
    rr=$(ratio "${R_RPS[tandem]:-}" "${R_RPS[haproxy]:-}")
    pr=$(ratio "${R_P99[tandem]:-}" "${R_P99[haproxy]:-}")
    [ "$rr" != "-" ] && [ "$pr" != "-" ] || return 0
    echo
    echo "Aim (the issue): req/s at least 0.75× HAProxy's — $rr× ($(awk -v r="$rr" 'BEGIN { print (r >= 0.75 ? "met" : "not met") }'));" \
        "p99 no worse than 1.5× HAProxy's — $pr× ($(awk -v r="$pr" 'BEGIN { print (r <= 1.5 ? "met" : "not met") }'));" \
        "heap under 256 MB — ${R_HEAP_USED[tandem]:-?} MiB in use, ${R_HEAP_LIVE[tandem]:-?} MiB live, -Xmx256m ($([ -n "${R_HEAP_USED[tandem]:-}" ] && [ "${R_HEAP_USED[tandem]}" -lt 256 ] && echo met || echo "?"))."
}

report() {
    local s
    echo "# HTTP reverse proxy: Tandem vs HAProxy, nginx"
    echo
    machine_line
    echo "wrk $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }'), $(java -version 2>&1 | head -1), Tandem $(version_of tandem)."
    echo "Backend: nginx $(version_of backend) on ${ADDR[backend]}:$BACKEND_PORT answering a fixed ${BODY_BYTES}-byte body (worker_processes $BACKEND_WORKERS)."
    echo "Per server: a ${WARMUP}s warm-up, then $ROUNDS measured run(s) of ${DURATION}s: \`wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency\`,"
    echo "keep-alive from wrk to the proxy and from the proxy to the backend$([ "$ROUNDS" -gt 1 ] && echo "; figures are medians over the runs")."
    echo "wrk, the proxy and the backend share the machine's $(nproc) CPUs."
    echo
    echo "| server | version | status | req/s | p50 ms | p99 ms | errors (socket / non-2xx) | CPU-s | req per CPU-s | CPU-s per 100k req | backend CPU-s | backend conns opened | RSS MiB | PSS MiB | wrk CPU-s | other CPU-s |"
    echo "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    for s in $SERVERS; do
        echo "| ${LABEL[$s]} | ${R_VERSION[$s]:-} | ${R_STATUS[$s]:-} | $(num "${R_RPS[$s]:-}") | ${R_P50[$s]:--} | ${R_P99[$s]:--} | $(errors "$s") | ${R_CPU[$s]:--} | $(num "${R_PER_CPU[$s]:-}") | ${R_PER_100K[$s]:--} | ${R_BACKEND_CPU[$s]:--} | ${R_BACKEND_CONNS[$s]:--} | ${R_RSS[$s]:--} | ${R_PSS[$s]:--} | ${R_CLIENT_CPU[$s]:--} | ${R_OTHER[$s]:--} |"
    done
    if [[ " $SERVERS " == *" tandem "* ]] && [[ " $SERVERS " == *" haproxy "* || " $SERVERS " == *" nginx "* ]]; then
        echo
        echo "Tandem relative to each peer (req/s and req per CPU-s: higher is better; p99, RSS and PSS: lower is better):"
        echo
        echo "| Tandem vs | req/s ratio | p99 ratio | req per CPU-s ratio | RSS ratio | PSS ratio |"
        echo "|---|--:|--:|--:|--:|--:|"
        for s in $SERVERS; do
            [ "$s" = tandem ] || [ "$s" = backend ] && continue
            echo "| ${LABEL[$s]} | $(ratio "${R_RPS[tandem]:-}" "${R_RPS[$s]:-}") | $(ratio "${R_P99[tandem]:-}" "${R_P99[$s]:-}") | $(ratio "${R_PER_CPU[tandem]:-}" "${R_PER_CPU[$s]:-}") | $(ratio "${R_RSS[tandem]:-}" "${R_RSS[$s]:-}") | $(ratio "${R_PSS[tandem]:-}" "${R_PSS[$s]:-}") |"
        done
        aim
    fi
    echo
    echo "Columns: *req/s*, *p50*, *p99* = wrk's figures for the measured run (at full speed with $CONNECTIONS connections the latency is"
    echo "mostly queueing); *errors* = wrk's socket errors (connect, read, write, timeout) / responses that were not 2xx or 3xx;"
    echo "*CPU-s* = utime+stime of all the server's processes (nginx master and workers, haproxy, the JVM) during the measured"
    echo "run — for the backend-alone row, the backend's; *req per CPU-s* = requests / CPU-s, the figure least distorted by"
    echo "sharing the machine; *backend CPU-s* = the backend's CPU in the same run; *backend conns opened* = connections the"
    echo "backend accepted during the run (its stub_status; health checks included, near 0 otherwise when the proxy keeps"
    echo "its backend connections alive); *RSS* = VmRSS summed over the server's processes after the runs, *PSS* = the same"
    echo "with shared pages counted once; *wrk CPU-s* = the load generator's CPU; *other CPU-s* = the machine's busy time"
    echo "during the run not spent by these three (should be ~0, else the run was disturbed)."
    echo
    echo "Notes:"
    echo
    for s in $SERVERS; do
        [ -n "${R_NOTES[$s]:-}" ] && echo "- ${LABEL[$s]}: ${R_NOTES[$s]}"
    done
    return 0
}

main() {
    local s
    mkdir -p "$OUT"
    [ "$(id -u)" -eq 0 ] || log "warning: not root; missing packages cannot be installed"
    check_servers "backend, haproxy, nginx, tandem"
    install_packages
    fresh_results
    # the body: BODY_BYTES printable bytes (no newline: it goes into nginx's config as a string)
    head -c "$BODY_BYTES" /dev/zero | tr '\0' 'x' >"$OUT/body"
    start_backend_once || die "the backend did not start; its logs are in ${OUT#"$ROOT"/}/backend/"
    for s in $SERVERS; do bench_server "$s"; done
    write_report
}

main "$@"
