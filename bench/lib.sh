# shellcheck shell=bash
# What the benchmarks (bench/*/run.sh) share: logging and notes, stopping what they started by PID,
# packages, measuring a process tree's CPU and memory, waiting for an idle machine, running the
# load generator, starting a server and waiting for it, the Tandem node, medians and the report's
# number formats. Sourced by each run.sh after it has set:
#
#   BENCH        the benchmark's name, for the log lines ("dns", "proxy")
#   ROOT, OUT    the repository, and the folder everything the run makes goes to
#   SERVERS      the servers to measure; ADDR and LABEL: associative arrays by server
#   PACKAGES, SYSTEM_SERVICES   the Debian packages it needs, the services they may start
#   READY_TIMEOUT, TANDEM_TIMEOUT, QUIET_WAIT   seconds (see the settings in each run.sh)
#   R_NOTES, R_STATUS, R_HEAP_USED, R_HEAP_LIVE  associative arrays of results, by server
#
# and, where a function below calls them, defines:
#
#   start_SERVER     starts SERVER in the background and sets SERVER_PID (non-zero: did not start)
#   server_answers   SERVER: does it give the right answer yet? (wait_ready polls it)
#   not_ready_note   SERVER TIMEOUT: the note for a server that never answered right
#   cleanup_more     (optional) what else cleanup undoes, after the processes are stopped

CLK_TCK=$(getconf CLK_TCK)
STARTED_PIDS=()   # every server process this script started (the process it forked itself)
CLIENT_PID=       # the load generator's run in progress (under /usr/bin/time)
SERVER_PID=       # the server being measured

log() { echo "[bench/$BENCH] $*" >&2; }
die() { log "error: $*"; exit 1; }
note() { R_NOTES[$1]="${R_NOTES[$1]:-}${R_NOTES[$1]:+; }$2"; }

# --- cleanup: stop what we started, by PID, also on failure or Ctrl-C ------------------------------

# The PID and every descendant of it (NSD forks a main process and one process per server-count,
# nginx's master its workers).
tree_pids() {
    local root=$1 pids=("$1") i=0 p
    while [ $i -lt ${#pids[@]} ]; do
        for p in $(awk -v ppid="${pids[$i]}" '{ sub(/^.*\) /, ""); if ($2 == ppid) print FILENAME }' \
                /proc/[0-9]*/stat 2>/dev/null | cut -d/ -f3); do
            pids+=("$p")
        done
        i=$((i + 1))
    done
    for p in "${pids[@]}"; do if [ -d "/proc/$p" ]; then echo "$p"; fi; done
}

# SIGTERM to the process we started and its descendants, then SIGKILL to whatever is left after 10 s.
stop_tree() {
    local root=$1 pids p
    pids=$(tree_pids "$root")
    [ -n "$pids" ] || return 0
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    for _ in $(seq 1 100); do
        pids=$(for p in $pids; do if [ -d "/proc/$p" ]; then echo "$p"; fi; done)
        [ -z "$pids" ] && break
        sleep 0.1
    done
    # shellcheck disable=SC2086
    [ -n "$pids" ] && kill -KILL $pids 2>/dev/null || true
    wait "$root" 2>/dev/null || true
}

cleanup() {
    local pid
    [ -n "$CLIENT_PID" ] && stop_tree "$CLIENT_PID"
    for pid in "${STARTED_PIDS[@]}"; do stop_tree "$pid"; done
    STARTED_PIDS=()
    if declare -F cleanup_more >/dev/null; then cleanup_more; fi
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# The server being measured: stopped, and no longer among the started ones.
stop_server() {
    local keep=() p
    [ -n "${SERVER_PID:-}" ] || return 0
    stop_tree "$SERVER_PID"
    for p in "${STARTED_PIDS[@]}"; do [ "$p" != "$SERVER_PID" ] && keep+=("$p"); done
    STARTED_PIDS=("${keep[@]}")
    SERVER_PID=
}

# --- packages --------------------------------------------------------------------------------------

missing_packages() {
    local p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
    done
}

# As root: install the packages (once more after an apt-get update if that fails), then stop the
# services they started.
apt_install() { # PACKAGE...
    log "installing $*"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >"$OUT/apt.log" 2>&1; then
        apt-get update -qq >>"$OUT/apt.log" 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >>"$OUT/apt.log" 2>&1 ||
            { tail -20 "$OUT/apt.log" >&2; die "apt-get install failed (log: $OUT/apt.log)"; }
    fi
    stop_system_services
}

# A package's postinst may start its daemon as a system service (under systemd; elsewhere
# policy-rc.d usually forbids it). They would sit on the benchmark's ports and use memory: stop
# them again, through the init system, never by process name.
stop_system_services() {
    local s
    for s in "${SYSTEM_SERVICES[@]}"; do
        if [ -d /run/systemd/system ]; then
            if systemctl is-active --quiet "$s" 2>/dev/null; then
                log "stopping the $s system service the package started"
                systemctl stop "$s" || true
            fi
        elif [ -x "/etc/init.d/$s" ] && "/etc/init.d/$s" status >/dev/null 2>&1; then
            log "stopping the $s system service the package started"
            "/etc/init.d/$s" stop >/dev/null 2>&1 || true
        fi
    done
}

# --- measuring helpers -----------------------------------------------------------------------------

# utime+stime of a process tree in clock ticks (fields 14 and 15; the name field may hold spaces)
cpu_ticks() {
    local pids
    pids=$(tree_pids "$1")
    [ -n "$pids" ] || { echo 0; return; }
    # shellcheck disable=SC2086
    (cd /proc && cat $(printf '%s/stat ' $pids) 2>/dev/null) |
        awk '{ sub(/^.*\) /, ""); t += $12 + $13 } END { print t + 0 }'
}

# CPU time the whole machine spent busy (user, nice, system, irq, softirq), in clock ticks
machine_busy_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }

# clock ticks -> CPU seconds
cpu_seconds() { awk -v t="$1" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", t / hz }'; }

# The load generator's own CPU seconds in the run that wrote FILE (from FILE.time), 0 if unknown
client_cpu() { awk '{ printf "%.2f", $1 + $2 }' "$1.time" 2>/dev/null || echo 0; }

# CPU seconds whatever else ran meanwhile (another build, a test suite) took from the run: the
# machine's busy ticks less the measured processes' ticks, less the load generator's seconds
other_cpu() { # MACHINE-TICKS MEASURED-TICKS CLIENT-SECONDS
    awk -v m="$1" -v c="$2" -v hz="$CLK_TCK" -v cl="$3" \
        'BEGIN { o = (m - c) / hz - cl; if (o < 0) o = 0; printf "%.2f", o }'
}

# memory of a process tree in KiB: "RSS PSS" (PSS counts pages shared between the processes once)
mem_kib() {
    local pids p rss=0 pss=0 v
    pids=$(tree_pids "$1")
    for p in $pids; do
        v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true); rss=$((rss + ${v:-0}))
        v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || true); pss=$((pss + ${v:-0}))
    done
    echo "$rss $pss"
}

# Other work on the machine (a build, a test suite) takes CPU from the load generator and the
# servers, so before each server wait until the machine is idle: under a tenth of a core busy over 2 s.
wait_quiet() { # SERVER
    local deadline=$((SECONDS + QUIET_WAIT)) m0 m1 said=
    while :; do
        m0=$(machine_busy_ticks); sleep 2; m1=$(machine_busy_ticks)
        [ $(((m1 - m0) * 10)) -lt $((2 * CLK_TCK)) ] && return 0
        if [ $SECONDS -ge $deadline ]; then
            note "$1" "the machine was not idle before the run ($(awk -v t=$((m1 - m0)) -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", t / hz / 2 }') cores busy)"
            return 0
        fi
        [ -n "$said" ] || { log "  waiting up to ${QUIET_WAIT}s for the machine to go idle"; said=1; }
    done
}

# One run of the load generator (COMMAND, named in the log by its first word), its output to
# OUTFILE and its own CPU time to OUTFILE.time. In the background plus `wait`, so that Ctrl-C
# reaches our trap at once: run in the foreground, the load generator would catch the SIGINT
# itself, exit normally, and bash would carry on with the next step.
client_run() { # SERVER OUTFILE COMMAND [ARGS...]
    local s=$1 file=$2 name=$3 rc=0; shift 2
    /usr/bin/time -f '%U %S' -o "$file.time" "$@" >"$file" 2>&1 </dev/null &
    CLIENT_PID=$!
    wait "$CLIENT_PID" || rc=$?
    CLIENT_PID=
    if [ $rc -ne 0 ]; then
        log "$name failed: $(tail -1 "$file")"
        note "$s" "$name failed (exit $rc), see ${file#"$OUT"/}"
    fi
    return 0
}

# --- starting a server -----------------------------------------------------------------------------

# Poll until the server answers right (server_answers); fail if it dies (2) or the time is up (1).
wait_ready() { # SERVER PID TIMEOUT
    local deadline=$((SECONDS + $3))
    while [ $SECONDS -lt $deadline ]; do
        [ -d "/proc/$2" ] || return 2
        server_answers "$1" && return 0
        sleep 0.5
    done
    return 1
}

# start_SERVER, then wait until it answers right (Tandem gets TANDEM_TIMEOUT, the others
# READY_TIMEOUT). When it does not start or answer: its status and notes say why, it is stopped
# again, and this returns non-zero.
start_server() { # SERVER
    local s=$1 timeout=$READY_TIMEOUT rc=0 last
    SERVER_PID=
    "start_$s" || { R_STATUS[$s]=${R_STATUS[$s]:-"did not start"}; SERVER_PID=; return 1; }
    STARTED_PIDS+=("$SERVER_PID")
    [ "$s" = tandem ] && timeout=$TANDEM_TIMEOUT
    wait_ready "$s" "$SERVER_PID" "$timeout" || rc=$?
    [ $rc -eq 0 ] && return 0
    if [ $rc -eq 2 ]; then R_STATUS[$s]="exited"; else R_STATUS[$s]="did not answer"; fi
    not_ready_note "$s" "$timeout"
    last=$(cat "$OUT/$s"/*.log 2>/dev/null | grep -v '^\s*$' | tail -1 | cut -c1-200) || true
    [ -n "$last" ] && note "$s" "last log line: $last"
    stop_server
    return 1
}

# --- Tandem ----------------------------------------------------------------------------------------

# Tandem: a one-node cluster from the document the script wrote to out/tandem-cluster.yaml.
# `tandem init` builds the project first if needed; `tandem run` then execs the JVM (-Xmx256m, as
# the tandem script starts it), so $! is the JVM's PID.
start_tandem_node() {
    rm -rf "$OUT/tandem"
    mkdir -p "$OUT/tandem"
    if ! "$ROOT/tandem" init --config "$OUT/tandem-cluster.yaml" --out "$OUT/tandem/cluster" >"$OUT/tandem/init.log" 2>&1; then
        note tandem "tandem init failed: $(grep -v '^\s*$' "$OUT/tandem/init.log" | tail -1 | cut -c1-200)"
        R_STATUS[tandem]="init failed"
        return 1
    fi
    TANDEM_NO_BUILD=1 "$ROOT/tandem" run --config "$OUT/tandem/cluster/n1/node.yaml" \
        >"$OUT/tandem/node.log" 2>&1 </dev/null &
    SERVER_PID=$!
}

# The commit Tandem was built from, "+wip" when its modules have uncommitted changes
tandem_version() {
    echo "git $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- modules appliance 2>/dev/null || echo +wip)"
}

# The JVM's heap in MiB: in use now (R_HEAP_USED), and live after a full GC (R_HEAP_LIVE: what
# the node really keeps).
tandem_heap() { # PID
    local pid=$1
    R_HEAP_USED[tandem]=$(jstat -gc "$pid" 2>/dev/null | awk 'NR == 2 { printf "%.0f", ($3 + $4 + $6 + $8) / 1024 }') || true
    jcmd "$pid" GC.run >/dev/null 2>&1 || true
    R_HEAP_LIVE[tandem]=$(jstat -gc "$pid" 2>/dev/null | awk 'NR == 2 { printf "%.0f", ($3 + $4 + $6 + $8) / 1024 }') || true
    jcmd "$pid" GC.heap_info >"$OUT/results/tandem/heap_info.txt" 2>&1 || true
    note tandem "JVM heap: ${R_HEAP_USED[tandem]:-?} MiB in use after the runs, ${R_HEAP_LIVE[tandem]:-?} MiB live after a full GC (-Xmx256m)"
}

# --- figures and the report ------------------------------------------------------------------------

# The median of the numbers on stdin, one a line, "-" lines left out (the lower middle for an even
# count; "-" when none are left), as it stands or printed with FORMAT.
median_of() { # [FORMAT]
    { grep -v '^-$' || true; } | sort -g |
        awk -v f="${1:-}" '{ v[NR] = $1 } END { if (!NR) print "-"; else if (f == "") print v[int((NR + 1) / 2)]; else printf f, v[int((NR + 1) / 2)] }'
}

# The median of a column of a rounds file (tab-separated, a round a line)
median() { cut -f"$2" "$1" | median_of; } # FILE COLUMN

num() { [ -n "${1:-}" ] && [ "$1" != "-" ] && awk -v v="$1" 'BEGIN { printf "%.0f", v }' || echo "-"; }
ratio() { # A B -> A/B, or "-" when either is missing
    awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'
}

# The report's line about the machine
machine_line() {
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(uname -r)."
}

# --- the run ---------------------------------------------------------------------------------------

# Every server named in SERVERS is one the script knows (KNOWN: their names, for the message)
check_servers() { # KNOWN
    local s
    for s in $SERVERS; do [ -n "${ADDR[$s]:-}" ] || die "unknown server \"$s\" ($1)"; done
}

# An empty out/results for this run's raw output
fresh_results() {
    rm -rf "$OUT/results"
    mkdir -p "$OUT/results"
}

# The report to stdout and out/results.md
write_report() {
    report | tee "$OUT/results.md"
    log "written to ${OUT#"$ROOT"/}/results.md"
}
