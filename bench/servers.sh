#!/usr/bin/env bash
# bench/servers.sh -- the server benchmarks: corio's HTTP hello and echo
# servers against libuv's, and Python's asyncio and uvloop, in one run.
#
#   http     wrk -t1 -c64 against each HTTP hello server: requests/s, and the
#            server's CPU time (utime + stime from /proc/PID/stat) per request
#   idle     10,000 idle keep-alive connections: the server's VmRSS growth per
#            connection (bench/servers/idle_client.c)
#   echo     64 connections doing 64-byte round trips (bench/servers/echo_load.c)
#            against samples/echo_server and a libuv echo server: round
#            trips/s and server CPU per round trip
#   profile  corio and libuv servers under valgrind --tool=callgrind: user-space
#            instructions and system calls per request (needs valgrind)
#   reuseport  corio_http with one loop, then with two (--loops 2: two threads,
#            each its own loop and SO_REUSEPORT listener): wrk -t2 -c128
#            requests/s, beside the core count and the load average
#
# Every measurement starts a fresh server process, pinned to CPU 0, with the
# load generator pinned to CPU 1; the servers take turns (A B C A B C ...)
# over BENCH_RUNS rounds, so that a slow spell of the machine hits them
# alike.  Reported: median [min - max], and each server against libuv as
# the median [min - max] of the per-round ratios (the two ran seconds apart
# in the same round, so the ratio cancels most of the machine's drift).  A
# server's CPU per request also depends on how busy it is: an idler server
# wakes up for fewer requests at a time.  Only 127.0.0.1; every run is
# bounded in time.  It prints Markdown (what docs/BENCHMARKS.md quotes) and
# keeps the raw result lines in $BENCH_BUILD/servers-results/.  It prints;
# it asserts nothing.
#
# Usage: bench/servers.sh [SECTION...]   http idle echo profile reuseport (default: all)
#   BENCH_BUILD=dir     build directory (default: build/bench in the source
#                       tree), configured like bench/run's if it is not yet
#   BENCH_RUNS=n        rounds (default 5)
#   BENCH_SECONDS=s     length of each wrk and echo run (default 5)
#   BENCH_WARMUP=s      load before each measured run, not counted (default 1)
#   BENCH_IDLE_CONNS=n  connections of the idle test (default 10000)
#   BENCH_NICE=n        run servers and load at this nice level (e.g. -10, as
#                       root) when other work shares the machine
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BENCH_BUILD:-$src/build/bench}
runs=${BENCH_RUNS:-5}
seconds=${BENCH_SECONDS:-5}
warmup=${BENCH_WARMUP:-1}
idle_conns=${BENCH_IDLE_CONNS:-10000}
python=/usr/bin/python3
bin=$build/bench/servers
results=$build/servers-results
hz=$(getconf CLK_TCK)

sections=(http idle echo profile reuseport)

# ------------------------------------------------------------------ set-up

install_deps() {
    "$src/scripts/deps" wrk libuv1-dev python3-uvloop util-linux
}

build_servers() {
    local log
    if [ ! -f "$build/build.ninja" ]; then
        log=$(meson setup "$build" "$src" --buildtype=release \
            -Dtests=false -Dsamples=false -Dbench=true 2>&1) || { echo "$log" >&2; exit 1; }
    fi
    log=$(meson compile -C "$build" 2>&1) || { echo "$log" >&2; exit 1; }
    if [ ! -x "$bin/corio_http" ]; then
        echo "servers.sh: $bin/corio_http not built (is subdir('servers') in bench/meson.build?)" >&2
        exit 1
    fi
}

# Where servers and load run: CPU 0 and CPU 1, when there are two.
server_cpu=()
load_cpu=()
if command -v taskset >/dev/null && [ "$(nproc)" -gt 1 ]; then
    server_cpu=(taskset -c 0)
    load_cpu=(taskset -c 1)
fi
niced=()
[ -z "${BENCH_NICE:-}" ] || niced=(nice -n "$BENCH_NICE")

# ------------------------------------------------------------ the servers

# "name|command" (the command takes port 0 and prints its port on its first
# line).  Baselines whose binary is missing are left out.  corio-wait-first
# is corio_http waiting for readiness after a short read with an explicit
# CO_WAIT_READABLE (see corio_http.c): once a recv() per request less than
# corio, it now matches what the drained bit makes corio do by itself.
# corio-sample is samples/http_server.c, when it is there.
http_servers() {
    echo "corio|$bin/corio_http 0"
    echo "corio-wait-first|$bin/corio_http 0 --wait-first"
    # the sample's limits, raised for 10,000 idle connections held a while
    [ -x "$bin/http_server" ] &&
        echo "corio-sample|$bin/http_server --port 0 --max-conns 20000 --idle-timeout-ms 120000"
    [ -x "$bin/uv_http" ] && echo "libuv|$bin/uv_http 0"
    echo "asyncio|$python $src/bench/servers/asyncio_http.py 0"
    $python -c 'import uvloop' 2>/dev/null &&
        echo "uvloop|$python $src/bench/servers/asyncio_http.py 0 --uvloop"
    return 0
}

# The idle test leaves corio-wait-first out: it holds what corio holds.
idle_servers() { http_servers | grep -v '^corio-wait-first|'; }

echo_servers() {
    echo "corio|$bin/echo_server --port 0"
    [ -x "$bin/uv_echo" ] && echo "libuv|$bin/uv_echo 0"
    return 0
}

server_pid=
server_port=
server_log=

# start_server COMMAND [PREFIX...]: starts the server, pinned, behind the
# prefix (valgrind...); waits for its port, read from its first line.
start_server() {
    local -a argv
    local wait_steps=100 i
    read -ra argv <<<"$1"
    shift
    [ $# -eq 0 ] || wait_steps=600
    server_log=$(mktemp)
    "${niced[@]}" "${server_cpu[@]}" "$@" "${argv[@]}" </dev/null >"$server_log" 2>&1 &
    server_pid=$!
    server_port=
    for ((i = 0; i < wait_steps; i++)); do
        # "listening on 8080", "listening on http://127.0.0.1:8080/", "serving on 127.0.0.1:8080"
        local line
        line=$(grep -vE '^==[0-9]+==' "$server_log" | head -1 || true)
        if [[ $line =~ :([0-9]+) ]] || [[ $line =~ on\ ([0-9]+) ]]; then
            server_port=${BASH_REMATCH[1]}
            return 0
        fi
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "servers.sh: '${argv[*]}' did not start:" >&2
    cat "$server_log" >&2
    exit 1
}

stop_server() {
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
    rm -f "$server_log"
}

# The server's CPU time so far, user + system, in ns.  The fields after the
# command name (which ends with ") ") start at field 3: utime is 14, stime 15.
cpu_ns() {
    sed 's/.*) //' "/proc/$server_pid/stat" |
        awk -v hz="$hz" '{ printf "%.0f\n", ($12 + $13) * 1e9 / hz }'
}

# ------------------------------------------------------------- statistics

# The awk that reads result lines: "result key=value ..." into f[].
read_fields='split("", f); for (i = 2; i <= NF; i++) { eq = index($i, "="); f[substr($i, 1, eq - 1)] = substr($i, eq + 1) }'
# ... and prints the median, min and max of v[0..n).
summarise='if (n == 0) { print "- - -"; exit }
    for (i = 1; i < n; i++) { x = v[i]; for (j = i - 1; j >= 0 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
    print (n % 2 ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2), v[0], v[n - 1]'

# stats FILE KEY NAME: "median min max" of KEY over that server's runs.
stats() {
    awk -v key="$2" -v name="$3" "\$1 == \"result\" { $read_fields
            if (f[\"name\"] == name && key in f) v[n++] = f[key] + 0 }
        END { $summarise }" "$1"
}

# total FILE KEY NAME: the sum of KEY over that server's runs.
total() {
    awk -v key="$2" -v name="$3" "\$1 == \"result\" { $read_fields
            if (f[\"name\"] == name) s += f[key] }
        END { print s + 0 }" "$1"
}

# paired FILE KEY NAME [BASE]: "median min max" of KEY of NAME over KEY of
# BASE (default libuv), round by round.
paired() {
    awk -v key="$2" -v name="$3" -v base="${4:-libuv}" "\$1 == \"result\" { $read_fields
            if (key in f) val[f[\"name\"], f[\"round\"]] = f[key] + 0; rounds[f[\"round\"]] = 1 }
        END {
            for (r in rounds)
                if ((name, r) in val && (base, r) in val && val[base, r] > 0)
                    v[n++] = val[name, r] / val[base, r]
            $summarise }" "$1"
}

# show "median min max" DECIMALS: "m [lo - hi]"
show() {
    awk -v s="$1" -v p="$2" 'BEGIN {
        split(s, a, " "); if (a[1] == "-") { print "-"; exit }
        f = "%." p "f"; printf(f " [" f " - " f "]\n", a[1], a[2], a[3]) }'
}

# The median alone, to two decimals ("-" when missing).
med() { awk -v s="$1" 'BEGIN { split(s, a, " "); if (a[1] == "-") print "-"; else printf "%.2f\n", a[1] }'; }

verdict() {
    awk -v v="$1" -v l="$2" 'BEGIN { if (v == "-") print "not measured"; else print (v <= l ? "met" : "MISSED") }'
}

# --------------------------------------------------------------------- http

# One wrk run against each server per round; a result line per run.
bench_http() {
    local file=$results/http.txt name cmd out before after requests rps errors url
    : >"$file"
    for ((r = 0; r < runs; r++)); do
        while IFS='|' read -r name cmd; do
            start_server "$cmd"
            url=http://127.0.0.1:$server_port/
            [ "$warmup" = 0 ] || "${niced[@]}" "${load_cpu[@]}" wrk -t1 -c64 -d"${warmup}s" "$url" </dev/null >/dev/null
            before=$(cpu_ns)
            out=$("${niced[@]}" "${load_cpu[@]}" wrk -t1 -c64 -d"${seconds}s" "$url" </dev/null) || out=
            after=$(cpu_ns)
            stop_server
            if ! grep -q 'requests in' <<<"$out"; then
                echo "servers.sh: http: $name failed (run left out)" >&2
                continue
            fi
            requests=$(awk '/requests in/ { print $1 }' <<<"$out")
            rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
            errors=$(awk '/Socket errors/ { e = 0; for (i = 4; i <= NF; i += 2) e += $i + 0; print e }
                          /Non-2xx/ { print $NF }' <<<"$out" | awk '{ s += $1 } END { print s + 0 }')
            echo "result round=$r name=$name rps=$rps requests=$requests cpu_ns=$((after - before))" \
                "cpu_per_req_ns=$(awk -v c=$((after - before)) -v n="$requests" 'BEGIN { printf "%.1f", c / n }')" \
                "errors=$errors" >>"$file"
        done < <(http_servers)
    done

    printf '\n### HTTP hello: wrk -t1 -c64 -d%ss, %s rounds\n\n' "$seconds" "$runs"
    echo "| server | requests/s | server CPU ns/request | CPU/request vs libuv | requests/s vs libuv | wrk errors, all runs |"
    echo "|---|---|---|---|---|---|"
    while IFS='|' read -r name cmd; do
        printf '| %s | %s | %s | %s | %s | %s |\n' "$name" \
            "$(show "$(stats "$file" rps "$name")" 0)" \
            "$(show "$(stats "$file" cpu_per_req_ns "$name")" 0)" \
            "$(show "$(paired "$file" cpu_per_req_ns "$name")" 2)" \
            "$(show "$(paired "$file" rps "$name")" 2)" \
            "$(total "$file" errors "$name")"
    done < <(http_servers)
    echo
    echo "| server | CPU/request vs corio |"
    echo "|---|---|"
    for name in corio-wait-first corio-sample; do
        printf '| %s | %s |\n' "$name" "$(show "$(paired "$file" cpu_per_req_ns "$name" corio)" 2)"
    done
    echo
    local c
    c=$(med "$(paired "$file" cpu_per_req_ns corio)")
    [ "$c" = "-" ] || echo "- target, corio: server CPU per request <= 0.9x libuv's: $c, $(verdict "$c" 0.9)"
    c=$(med "$(paired "$file" cpu_per_req_ns corio-sample corio)")
    [ "$c" = "-" ] ||
        echo "- target, corio-sample: server CPU per request <= 1.2x corio's: $c, $(verdict "$c" 1.2)"
}

# --------------------------------------------------------------------- idle

bench_idle() {
    local file=$results/idle.txt name cmd out
    : >"$file"
    for ((r = 0; r < runs; r++)); do
        while IFS='|' read -r name cmd; do
            start_server "$cmd"
            if out=$("${niced[@]}" "${load_cpu[@]}" "$bin/idle_client" "$server_port" "$server_pid" \
                "$idle_conns" </dev/null); then
                awk -v n="$name" -v r="$r" '$1 == "result" {
                    split($3, b, "="); split($4, a, "="); split($2, c, "=")
                    printf "%s round=%s name=%s bytes_per_conn=%.1f\n", $0, r, n, (a[2] - b[2]) * 1024 / c[2] }' \
                    <<<"$out" >>"$file"
            else
                echo "servers.sh: idle: $name failed (run left out)" >&2
            fi
            stop_server
        done < <(idle_servers)
    done

    printf '\n### Idle keep-alive connections: %s open, one request each, %s rounds\n\n' \
        "$idle_conns" "$runs"
    echo "| server | RSS before (KiB) | RSS with the connections (KiB) | bytes/connection | vs libuv |"
    echo "|---|---|---|---|---|"
    while IFS='|' read -r name cmd; do
        printf '| %s | %s | %s | %s | %s |\n' "$name" \
            "$(show "$(stats "$file" rss_before_kb "$name")" 0)" \
            "$(show "$(stats "$file" rss_after_kb "$name")" 0)" \
            "$(show "$(stats "$file" bytes_per_conn "$name")" 0)" \
            "$(show "$(paired "$file" bytes_per_conn "$name")" 2)"
    done < <(idle_servers)
    echo
    local name limit b
    for name in corio corio-sample; do
        limit=256
        [ "$name" = corio-sample ] && limit=1024
        b=$(med "$(stats "$file" bytes_per_conn "$name")")
        [ "$b" = "-" ] && continue
        echo "- target, $name: <= $limit bytes per idle keep-alive connection: $b, $(verdict "$b" $limit)"
    done
}

# --------------------------------------------------------------------- echo

bench_echo() {
    local file=$results/echo.txt name cmd out before after
    : >"$file"
    for ((r = 0; r < runs; r++)); do
        while IFS='|' read -r name cmd; do
            start_server "$cmd"
            [ "$warmup" = 0 ] || "${niced[@]}" "${load_cpu[@]}" "$bin/echo_load" "$server_port" 64 64 "$warmup" </dev/null >/dev/null
            before=$(cpu_ns)
            out=$("${niced[@]}" "${load_cpu[@]}" "$bin/echo_load" "$server_port" 64 64 "$seconds" </dev/null) || out=
            after=$(cpu_ns)
            stop_server
            [ -n "$out" ] || echo "servers.sh: echo: $name failed (run left out)" >&2
            awk -v n="$name" -v r="$r" -v c=$((after - before)) '$1 == "result" {
                split($2, t, "="); split($3, s, "=")
                printf "%s round=%s name=%s rts=%.0f cpu_ns=%.0f cpu_per_rt_ns=%.1f\n", $0, r, n, t[2] / s[2], c, c / t[2] }' \
                <<<"$out" >>"$file"
        done < <(echo_servers)
    done

    printf '\n### Echo: 64 connections, 64-byte round trips for %ss, %s rounds\n\n' "$seconds" "$runs"
    echo "| server | round trips/s | server CPU ns/round trip | CPU/round trip vs libuv | round trips/s vs libuv |"
    echo "|---|---|---|---|---|"
    while IFS='|' read -r name cmd; do
        printf '| %s | %s | %s | %s | %s |\n' "$name" \
            "$(show "$(stats "$file" rts "$name")" 0)" \
            "$(show "$(stats "$file" cpu_per_rt_ns "$name")" 0)" \
            "$(show "$(paired "$file" cpu_per_rt_ns "$name")" 2)" \
            "$(show "$(paired "$file" rts "$name")" 2)"
    done < <(echo_servers)
}

# ------------------------------------------------------------------ profile

# callgrind_counts FILE REQUESTS: "instructions/request recv/request
# send/request epoll_wait/request" from a callgrind output file: its total,
# and the calls made to the libc wrappers of those system calls (read and
# write for libuv, recv and send for corio).
callgrind_counts() {
    awk -v n="$2" '
        /^summary:/ { total = $2 }
        /^c?fn=\([0-9]+\) / { id = substr($1, index($1, "(")); name[id] = $2 }
        /^cfn=/ { id = substr($1, index($1, "(")); callee = name[id] }
        /^calls=/ { split($1, c, "="); calls[callee] += c[2] }
        END {
            printf "%.0f %.2f %.2f %.3f\n", total / n, (calls["recv"] + calls["read"]) / n,
                (calls["send"] + calls["write"]) / n, calls["epoll_wait"] / n
        }' "$1"
}

# One server under callgrind for 3 s of load, counted from after 1 s of
# warm-up (the start-up's dynamic linking is not a request's); prints its
# row.
profile_one() {
    local name=$1 cmd=$2 load=$3 out count
    out=$(mktemp)
    start_server "$cmd" valgrind --tool=callgrind --callgrind-out-file="$out"
    case $load in
    http) "${load_cpu[@]}" wrk -t1 -c64 -d1s "http://127.0.0.1:$server_port/" </dev/null >/dev/null ;;
    echo) "${load_cpu[@]}" "$bin/echo_load" "$server_port" 64 64 1 </dev/null >/dev/null ;;
    esac
    callgrind_control -z "$server_pid" >/dev/null 2>&1 || true
    case $load in
    http) count=$("${load_cpu[@]}" wrk -t1 -c64 -d3s "http://127.0.0.1:$server_port/" </dev/null |
        awk '/requests in/ { print $1 }') ;;
    echo) count=$("${load_cpu[@]}" "$bin/echo_load" "$server_port" 64 64 3 </dev/null |
        awk '{ split($2, t, "="); print t[2] }') ;;
    esac
    callgrind_control -d "$server_pid" >/dev/null 2>&1 || true
    sleep 0.5
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
    rm -f "$server_log"
    printf '| %s | %s | %s |\n' "$load" "$name" \
        "$(callgrind_counts "$out".1 "$count" | awk '{ printf "%s | %s | %s | %s", $1, $2, $3, $4 }')"
    rm -f "$out" "$out".*
}

bench_profile() {
    if ! command -v valgrind >/dev/null || ! command -v callgrind_control >/dev/null; then
        printf '\n(no valgrind: profile left out)\n'
        return 0
    fi
    printf '\n### Per request, in user space: valgrind --tool=callgrind, 3 s of the same load after 1 s of warm-up\n\n'
    echo "| load | server | instructions | recv()/read() | send()/write() | epoll_wait() |"
    echo "|---|---|---|---|---|---|"
    local name cmd
    while IFS='|' read -r name cmd; do
        case $name in corio | corio-wait-first | corio-sample | libuv) profile_one "$name" "$cmd" http ;; esac
    done < <(http_servers)
    while IFS='|' read -r name cmd; do
        profile_one "$name" "$cmd" echo
    done < <(echo_servers)
}

# ---------------------------------------------------------------- reuseport

# One loop against two on SO_REUSEPORT: requests/s under wrk -t2 -c128.
# Two loops can only go twice as fast with two cores free for them, and
# wrk needs cores of its own: with 4 CPUs or more the server gets CPUs 0-1
# and wrk the rest; with fewer, nothing is pinned and all share, which the
# figures then show.
bench_reuseport() {
    local file=$results/reuseport.txt cpus loops out rps load_before load_after r
    local -a saved_server=("${server_cpu[@]}") saved_load=("${load_cpu[@]}")
    cpus=$(nproc)
    server_cpu=()
    load_cpu=()
    if command -v taskset >/dev/null && [ "$cpus" -ge 4 ]; then
        server_cpu=(taskset -c 0-1)
        load_cpu=(taskset -c "2-$((cpus - 1))")
    fi
    load_before=$(cut -d' ' -f1-3 /proc/loadavg)
    : >"$file"
    for ((r = 0; r < runs; r++)); do
        for loops in 1 2; do
            start_server "$bin/corio_http 0 --loops $loops"
            [ "$warmup" = 0 ] || "${niced[@]}" "${load_cpu[@]}" wrk -t2 -c128 -d"${warmup}s" \
                "http://127.0.0.1:$server_port/" </dev/null >/dev/null
            out=$("${niced[@]}" "${load_cpu[@]}" wrk -t2 -c128 -d"${seconds}s" \
                "http://127.0.0.1:$server_port/" </dev/null) || out=
            stop_server
            rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
            if [ -z "$rps" ]; then
                echo "servers.sh: reuseport: $loops loops failed (run left out)" >&2
                continue
            fi
            echo "result round=$r name=$loops-loop rps=$rps" >>"$file"
        done
    done
    load_after=$(cut -d' ' -f1-3 /proc/loadavg)
    server_cpu=("${saved_server[@]}")
    load_cpu=("${saved_load[@]}")

    printf '\n### SO_REUSEPORT: corio_http --loops 1 and 2, wrk -t2 -c128 -d%ss, %s rounds\n\n' \
        "$seconds" "$runs"
    local where="the server on CPUs 0-1, wrk on the rest"
    [ "$cpus" -ge 4 ] || where="nothing pinned: the server's loops and wrk share the $cpus CPUs"
    echo "$cpus CPUs (nproc); load average (1, 5, 15 min) $load_before before, $load_after after; $where"
    echo
    echo "| loops | requests/s | vs one loop |"
    echo "|---|---|---|"
    for loops in 1 2; do
        printf '| %s | %s | %s |\n' "$loops" "$(show "$(stats "$file" rps "$loops-loop")" 0)" \
            "$(show "$(paired "$file" rps "$loops-loop" 1-loop)" 2)"
    done
    echo
    local x
    x=$(med "$(paired "$file" rps 2-loop 1-loop)")
    if [ "$cpus" -ge 4 ]; then
        echo "- target, two loops: >= 1.8x one loop's requests/s with two cores free: $x," \
            "$(awk -v v="$x" 'BEGIN { if (v == "-") print "not measured"; else print (v >= 1.8 ? "met" : "MISSED") }')"
    else
        echo "- target, two loops: >= 1.8x one loop's requests/s with two cores free: $x," \
            "not measurable here ($cpus CPUs shared by the server and wrk)"
    fi
}

# ---------------------------------------------------------------------- main

main() {
    local section wanted=("$@")
    [ ${#wanted[@]} -gt 0 ] || wanted=("${sections[@]}")
    for section in "${wanted[@]}"; do
        if ! declare -F "bench_$section" >/dev/null; then
            echo "servers.sh: no section '$section' (have: ${sections[*]})" >&2
            exit 2
        fi
    done
    install_deps
    build_servers
    mkdir -p "$results"
    trap '[ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true' EXIT
    echo "## Servers"
    echo
    echo "$(date -u +%Y-%m-%d), $(uname -m), $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r)," \
        "$(gcc --version | head -1), $(wrk --version 2>&1 | head -1 | awk '{ print $1, $2 }'), libuv $(pkg-config --modversion libuv 2>/dev/null || echo '?')," \
        "Python $($python -c 'import platform; print(platform.python_version())'); servers on: ${server_cpu[*]:-any CPU}, load on: ${load_cpu[*]:-any CPU}${BENCH_NICE:+, nice $BENCH_NICE}"
    for section in "${wanted[@]}"; do
        "bench_$section"
    done
}

main "$@"
