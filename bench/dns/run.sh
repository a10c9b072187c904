#!/usr/bin/env bash
# Authoritative DNS benchmark: Tandem against NSD, Knot DNS and BIND 9, on this machine, one server
# at a time, all on loopback. Run by hand as root (it installs the peers with apt-get):
#
#   bench/dns/run.sh                    # all four servers
#   SERVERS="nsd knot" bench/dns/run.sh # a subset; DURATION=60 etc. (see the settings below)
#
# Everything it makes goes to bench/dns/out/ (the zone, the Tandem cluster document, the query file,
# each server's config, logs and raw dnsperf output); the table goes to stdout and out/results.md.
# See README.md for what is measured and the caveats.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT="$HERE/out"
BENCH=dns

# --- settings (environment overrides) ------------------------------------------------------------
SERVERS=${SERVERS:-"nsd knot bind tandem"}
PORT=${PORT:-5353}
HOSTS=${HOSTS:-10000}            # hostN A records in the zone
QUERIES=${QUERIES:-100000}       # lines in the query file (dnsperf loops over it)
WARMUP=${WARMUP:-10}             # seconds at full speed before measuring (caches, and the JVM's JIT)
DURATION=${DURATION:-20}         # seconds of each measured full-speed run
ROUNDS=${ROUNDS:-3}              # measured rounds per server (full speed + latency); medians reported
LAT_QPS=${LAT_QPS:-10000}        # fixed offered load of the latency run ...
LAT_DURATION=${LAT_DURATION:-10} # ... and its length
CLIENTS=${CLIENTS:-4}            # dnsperf -c: source sockets (spreads over SO_REUSEPORT sockets)
OUTSTANDING=${OUTSTANDING:-100}  # dnsperf -q: queries in flight at full speed
DNSPERF_OPTS=${DNSPERF_OPTS:-}   # extra dnsperf options for every run, e.g. "-e" for EDNS0
READY_TIMEOUT=${READY_TIMEOUT:-30}   # seconds a peer may take to answer after start
TANDEM_TIMEOUT=${TANDEM_TIMEOUT:-60} # seconds Tandem may take to answer after start (JVM + zone load)
QUIET_WAIT=${QUIET_WAIT:-300}    # seconds to wait, before each server, for the machine to go idle

declare -A ADDR=([nsd]=127.0.50.1 [knot]=127.0.50.2 [bind]=127.0.50.3 [tandem]=127.0.50.4)
declare -A LABEL=([nsd]=NSD [knot]="Knot DNS" [bind]="BIND 9" [tandem]=Tandem)
# Debian packages: the peers, the load generator, dig, /usr/bin/time (dnsperf's own CPU use)
PACKAGES=(dnsperf nsd knot bind9 bind9-utils dnsutils time)
# the system services those packages may start on port 53 (we leave none running)
SYSTEM_SERVICES=(nsd knot named)

ADDED_ADDRS=()    # loopback addresses this script added (BIND only listens on configured ones)

# results, by server
declare -A R_VERSION R_STATUS R_QPS R_AVG R_LOST R_CPU R_PER_CPU R_RSS R_PSS R_P50 R_P99 \
    R_LAT_QPS R_LAT_LOST R_CHECKS R_NOTES R_OTHER R_CLIENT_CPU R_HEAP_USED R_HEAP_LIVE

# logging, cleanup (stops what we started, by PID, also on failure or Ctrl-C), measuring, medians
# shellcheck source=../lib.sh
. "$ROOT/bench/lib.sh"

# cleanup, after the processes: the loopback addresses we added
cleanup_more() {
    local a
    for a in "${ADDED_ADDRS[@]}"; do ip addr del "$a/32" dev lo 2>/dev/null || true; done
    ADDED_ADDRS=()
}

# --- 1. packages -----------------------------------------------------------------------------------

install_packages() {
    local missing=()
    mapfile -t missing < <(missing_packages)
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || die "missing packages (${missing[*]}); run as root to install them"
    # dnsperf is in Debian's main archive from bookworm on; say so plainly if this system lacks it
    if [[ " ${missing[*]} " == *" dnsperf "* ]] && ! apt-cache policy dnsperf 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        apt-get update -qq || true
        apt-cache policy dnsperf | grep -q 'Candidate: [0-9]' ||
            die "dnsperf is not in this system's apt sources (it is in Debian bookworm main)"
    fi
    apt_install "${missing[@]}"
}

# --- 2. data ---------------------------------------------------------------------------------------

generate_data() {
    awk -v out="$OUT" -v hosts="$HOSTS" -v queries="$QUERIES" -v taddr="${ADDR[tandem]}" -v tport="$PORT" \
        -f "$HERE/gen-data.awk"
}

# config template -> out/, with this run's address, port and scratch directory
render() { # TEMPLATE SERVER
    sed -e "s|@ADDR@|${ADDR[$2]}|g" -e "s|@PORT@|$PORT|g" -e "s|@OUT@|$OUT|g" "$HERE/$1"
}

# --- measuring helpers -----------------------------------------------------------------------------

dig_short() { # SERVER NAME TYPE
    dig @"${ADDR[$1]}" -p "$PORT" "$2" "$3" +short +time=1 +tries=1 2>/dev/null || true
}

# Ready: the server answers host1.bench.test A correctly (wait_ready polls this).
server_answers() { [ "$(dig_short "$1" host1.bench.test A)" = "10.0.0.1" ]; } # SERVER
not_ready_note() { # SERVER TIMEOUT
    note "$1" "no answer for host1.bench.test within ${2}s; its log is in ${OUT#"$ROOT"/}/$1/"
}

# The same answers from every server, or the comparison means nothing.
check_answers() { # SERVER
    local s=$1 ok=0 total=0 got
    expect() { # NAME TYPE EXPECTED (the +short answer, sorted, one line)
        total=$((total + 1))
        got=$(dig_short "$s" "$1" "$2" | sort | paste -sd' ')
        if [ "$got" = "$3" ]; then ok=$((ok + 1)); else note "$s" "$1 $2: got \"$got\", expected \"$3\""; fi
    }
    expect host1.bench.test A "10.0.0.1"
    expect host9999.bench.test A "10.0.39.15"
    expect host10.bench.test AAAA "2001:db8::a"
    expect host50.bench.test MX "10 mail.bench.test."
    expect bench.test MX "10 mail.bench.test. 20 mail2.bench.test."
    expect bench.test NS "ns1.bench.test. ns2.bench.test."
    expect txt7.bench.test TXT '"bench-record-7"'
    # a name that does not exist: NXDOMAIN, with the zone's SOA in the authority section
    total=$((total + 1))
    got=$(dig @"${ADDR[$s]}" -p "$PORT" nx1.bench.test A +time=1 +tries=1 +noall +comments +authority 2>/dev/null || true)
    if grep -q 'status: NXDOMAIN' <<<"$got" && grep -q 'SOA' <<<"$got"; then ok=$((ok + 1)); else
        note "$s" "nx1.bench.test: not NXDOMAIN with the SOA"; fi
    R_CHECKS[$s]="$ok/$total"
}

# One dnsperf run against SERVER (client_run: in the background, so that Ctrl-C stops it at once);
# extra options after the seconds.
dnsperf_run() { # SERVER OUTFILE SECONDS [OPTIONS...]
    local s=$1 file=$2 secs=$3; shift 3
    # shellcheck disable=SC2086
    client_run "$s" "$file" \
        dnsperf -s "${ADDR[$s]}" -p "$PORT" -d "$OUT/queries.txt" -c "$CLIENTS" -l "$secs" $DNSPERF_OPTS "$@"
}

field() { # FILE LABEL -> the first number after "LABEL:" (dnsperf's summary lines)
    awk -v l="$2:" 'i = index($0, l) { split(substr($0, i + length(l)), w, " "); print w[1] + 0; exit }' "$1"
}

# --- 3. one server: start, check, warm up, measure, stop -------------------------------------------

start_nsd() {
    mkdir -p "$OUT/nsd"
    render nsd.conf.in nsd >"$OUT/nsd/nsd.conf"
    nsd-checkconf "$OUT/nsd/nsd.conf" || return 1
    nsd -d -c "$OUT/nsd/nsd.conf" >"$OUT/nsd/stderr.log" 2>&1 </dev/null &
    SERVER_PID=$!
}

start_knot() {
    mkdir -p "$OUT/knot"
    render knot.conf.in knot >"$OUT/knot/knot.conf"
    knotc -c "$OUT/knot/knot.conf" conf-check >/dev/null || return 1
    knotd -c "$OUT/knot/knot.conf" >"$OUT/knot/stderr.log" 2>&1 </dev/null &
    SERVER_PID=$!
}

start_bind() {
    mkdir -p "$OUT/bind"
    render named.conf.in bind >"$OUT/bind/named.conf"
    named-checkconf "$OUT/bind/named.conf" || return 1
    # named listens only on addresses configured on an interface (the others take any 127/8 address)
    if ! ip -4 addr show dev lo | grep -q "inet ${ADDR[bind]}/"; then
        ip addr add "${ADDR[bind]}/32" dev lo
        ADDED_ADDRS+=("${ADDR[bind]}")
    fi
    named -f -n 2 -c "$OUT/bind/named.conf" >"$OUT/bind/stderr.log" 2>&1 </dev/null &
    SERVER_PID=$!
}

# Tandem: a one-node cluster from the document generate_data wrote.
start_tandem() { start_tandem_node; }

version_of() {
    case $1 in
        nsd) nsd -v 2>&1 | awk 'NR == 1 { print $3 }' ;;
        knot) knotd --version | awk '{ print $NF }' ;;
        bind) named -v | awk '{ print $2 }' ;;
        tandem) tandem_version ;;
    esac
}

bench_server() {
    local s=$1 dir="$OUT/results/$1"
    mkdir -p "$dir"
    wait_quiet "$s"
    R_VERSION[$s]=$(version_of "$s")
    log "${LABEL[$s]} ${R_VERSION[$s]} on ${ADDR[$s]}:$PORT"
    start_server "$s" || return 0
    check_answers "$s"

    log "  warm-up ${WARMUP}s"
    dnsperf_run "$s" "$dir/warmup.txt" "$WARMUP" -q "$OUTSTANDING"

    local r
    for r in $(seq 1 "$ROUNDS"); do measure_round "$s" "$dir" "$r"; done
    [ -d "/proc/$SERVER_PID" ] || { R_STATUS[$s]="died during the run"; note "$s" "server exited during the runs"; }
    summarize_rounds "$s" "$dir/rounds.tsv"
    local f="$dir/throughput-1.txt"
    note "$s" "rcodes $(grep 'Response codes:' "$f" | sed 's/.*codes:[ \t]*//'), average response $(awk '/Average packet size/ { print $NF }' "$f") bytes"

    read -r rss pss <<<"$(mem_kib "$SERVER_PID")"
    R_RSS[$s]=$((rss / 1024)); R_PSS[$s]=$((pss / 1024))
    if [ "$s" = tandem ]; then tandem_heap "$SERVER_PID"; fi
    R_STATUS[$s]=${R_STATUS[$s]:-ok}
    stop_server
}

# One round: a full-speed run with the server's and the machine's CPU time around it, then a
# latency run at the fixed load. Appends one line to DIR/rounds.tsv:
#   q/s avg-latency lost completed server-CPU-s dnsperf-CPU-s other-CPU-s p50 p99 lat-q/s lat-lost
measure_round() { # SERVER DIR ROUND
    local s=$1 dir=$2 r=$3 c0 c1 m0 m1 f="$2/throughput-$3.txt" lf="$2/latency-$3.txt" cpu client other p50 p99
    log "  round $r/$ROUNDS: full speed ${DURATION}s, then ${LAT_QPS} q/s for ${LAT_DURATION}s"
    c0=$(cpu_ticks "$SERVER_PID"); m0=$(machine_busy_ticks)
    dnsperf_run "$s" "$f" "$DURATION" -q "$OUTSTANDING"
    c1=$(cpu_ticks "$SERVER_PID"); m1=$(machine_busy_ticks)
    cpu=$(cpu_seconds $((c1 - c0)))
    client=$(client_cpu "$f")
    # whatever else ran meanwhile (another build, a test suite) took CPU from both
    other=$(other_cpu $((m1 - m0)) $((c1 - c0)) "$client")

    # every answer's latency written out (-v): dnsperf itself reports only average, min, max, stddev
    dnsperf_run "$s" "$lf" "$LAT_DURATION" -q "$OUTSTANDING" -Q "$LAT_QPS" -v
    read -r p50 p99 <<<"$(awk '/^> / && NF == 5 { print $5 }' "$lf" | sort -g |
        awk '{ v[NR] = $1 } END { if (NR == 0) { print "- -"; exit }
                 i50 = int(NR * 0.50); if (i50 < NR * 0.50) i50++; i99 = int(NR * 0.99); if (i99 < NR * 0.99) i99++
                 print v[i50], v[i99] }')"
    # the per-query lines are big; keep the summary only
    grep -v '^> ' "$lf" >"${lf%.txt}.summary.txt" || true
    rm -f "$lf"

    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$(field "$f" "Queries per second")" "$(field "$f" "Average Latency (s)")" "$(field "$f" "Queries lost")" \
        "$(field "$f" "Queries completed")" "$cpu" "$client" "$other" "$p50" "$p99" \
        "$(field "${lf%.txt}.summary.txt" "Queries per second")" "$(field "${lf%.txt}.summary.txt" "Queries lost")" \
        >>"$dir/rounds.tsv"
}

# Each figure's median over the rounds (lost queries: the sum; other CPU: the worst round), and
# the spread of the main ones in the notes.
summarize_rounds() { # SERVER ROUNDS-FILE
    local s=$1 t=$2
    R_QPS[$s]=$(median "$t" 1)
    R_AVG[$s]=$(median "$t" 2)
    R_LOST[$s]=$(awk -F'\t' '{ n += $3 } END { print n + 0 }' "$t")
    R_CPU[$s]=$(median "$t" 5)
    R_PER_CPU[$s]=$(awk -F'\t' '$5 > 0 { print $4 / $5 }' "$t" | median_of "%.0f")
    R_CLIENT_CPU[$s]=$(median "$t" 6)
    R_OTHER[$s]=$(cut -f7 "$t" | sort -g | tail -1)
    R_P50[$s]=$(median "$t" 8)
    R_P99[$s]=$(median "$t" 9)
    R_LAT_QPS[$s]=$(median "$t" 10)
    R_LAT_LOST[$s]=$(awk -F'\t' '{ n += $11 } END { print n + 0 }' "$t")
    if [ "$ROUNDS" -gt 1 ]; then
        note "$s" "over $ROUNDS rounds: q/s $(awk -F'\t' 'NR == 1 || $1 < a { a = $1 } NR == 1 || $1 > b { b = $1 } END { printf "%.0f–%.0f", a, b }' "$t"), answers per CPU-s $(awk -F'\t' '$5 > 0 { x = $4 / $5; if (!n++ || x < a) a = x; if (n == 1 || x > b) b = x } END { printf "%.0f–%.0f", a, b }' "$t"), p99 $(awk -F'\t' '$9 != "-" { x = $9 * 1000; if (!n++ || x < a) a = x; if (n == 1 || x > b) b = x } END { printf "%.3f–%.3f ms", a, b }' "$t")"
    fi
}

# --- 4. report -------------------------------------------------------------------------------------

ms() { [ -n "${1:-}" ] && [ "$1" != "-" ] && awk -v v="$1" 'BEGIN { printf "%.3f", v * 1000 }' || echo "-"; }

report() {
    local s
    echo "# Authoritative DNS: Tandem vs NSD, Knot DNS, BIND 9"
    echo
    machine_line
    echo "Zone bench.test: $(grep -vc '^\$' "$OUT/bench.test.zone") records ($HOSTS hosts). Queries: $QUERIES-line file, ~90% existing names" \
        "(A, AAAA, MX, TXT), ~10% NXDOMAIN, UDP$([ -n "$DNSPERF_OPTS" ] && echo ", dnsperf $DNSPERF_OPTS")."
    echo "Per server: a ${WARMUP}s warm-up, then $ROUNDS rounds of a ${DURATION}s full-speed run (dnsperf -c $CLIENTS -q $OUTSTANDING) and a"
    echo "${LAT_DURATION}s run at a fixed ${LAT_QPS} q/s; figures are medians over the rounds."
    echo "dnsperf and the server share the machine's $(nproc) CPUs."
    echo
    echo "| server | version | status | answers | q/s | avg ms | lost | server CPU-s | answers per CPU-s | p50 ms @${LAT_QPS} | p99 ms @${LAT_QPS} | lost @${LAT_QPS} | RSS MiB | PSS MiB | dnsperf CPU-s | other CPU-s |"
    echo "|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    for s in $SERVERS; do
        echo "| ${LABEL[$s]} | ${R_VERSION[$s]:-} | ${R_STATUS[$s]:-} | ${R_CHECKS[$s]:--} | $(num "${R_QPS[$s]:-}") | $(ms "${R_AVG[$s]:-}") | ${R_LOST[$s]:--} | ${R_CPU[$s]:--} | $(num "${R_PER_CPU[$s]:-}") | $(ms "${R_P50[$s]:-}") | $(ms "${R_P99[$s]:-}") | ${R_LAT_LOST[$s]:--} | ${R_RSS[$s]:--} | ${R_PSS[$s]:--} | ${R_CLIENT_CPU[$s]:--} | ${R_OTHER[$s]:--} |"
    done
    if [[ " $SERVERS " == *" tandem "* ]]; then
        echo
        echo "Tandem relative to each peer (q/s and answers per CPU-s: higher is better; p99 and PSS: lower is better):"
        echo
        echo "| Tandem vs | q/s ratio | answers per CPU-s ratio | p99 ratio | PSS ratio |"
        echo "|---|--:|--:|--:|--:|"
        for s in $SERVERS; do
            [ "$s" = tandem ] && continue
            echo "| ${LABEL[$s]} | $(ratio "${R_QPS[tandem]:-}" "${R_QPS[$s]:-}") | $(ratio "${R_PER_CPU[tandem]:-}" "${R_PER_CPU[$s]:-}") | $(ratio "${R_P99[tandem]:-}" "${R_P99[$s]:-}") | $(ratio "${R_PSS[tandem]:-}" "${R_PSS[$s]:-}") |"
        done
    fi
    echo
    echo "Columns: *answers* = identical-answer checks passed (dig); *q/s*, *avg ms* = dnsperf at full speed (the average is mostly"
    echo "queueing: $OUTSTANDING queries in flight); *lost* = lost queries, all full-speed runs together; *server CPU-s* = utime+stime of"
    echo "the server's processes during a full-speed run; *answers per CPU-s* = completed queries / server CPU-s; *p50/p99"
    echo "@${LAT_QPS}* = percentiles of every answer's latency at the fixed load (dnsperf -v); *RSS* = VmRSS summed over the server's"
    echo "processes after the runs, *PSS* = the same with shared pages counted once; *dnsperf CPU-s* = the load generator's CPU in a"
    echo "full-speed run; *other CPU-s* = the most anything else used during a full-speed run (should be ~0, else the run was"
    echo "disturbed)."
    echo
    echo "Notes:"
    echo
    for s in $SERVERS; do
        [ -n "${R_NOTES[$s]:-}" ] && echo "- ${LABEL[$s]}: ${R_NOTES[$s]}"
        if [ -n "${R_LAT_QPS[$s]:-}" ] && awk -v a="${R_LAT_QPS[$s]}" -v t="$LAT_QPS" 'BEGIN { exit !(a < 0.95 * t) }'; then
            echo "- ${LABEL[$s]}: reached only $(num "${R_LAT_QPS[$s]}") of the ${LAT_QPS} q/s offered in the latency run"
        fi
    done
    return 0
}

main() {
    local s
    mkdir -p "$OUT"
    [ "$(id -u)" -eq 0 ] || log "warning: not root; packages cannot be installed and BIND needs a loopback address added"
    check_servers "nsd, knot, bind, tandem"
    install_packages
    fresh_results
    generate_data
    for s in $SERVERS; do bench_server "$s"; done
    write_report
}

main "$@"
