#!/usr/bin/env bash
# bench/runtime.sh -- the runtime benchmarks: corio's tasks, timers and loop
# against libuv, libev, one-thread-per-job pthreads, Python's asyncio and
# uvloop, and (for spawn) Rust's tokio, all measured in the same run.
#
# Every measurement is a fresh process (so peak RSS is its own), repeated
# BENCH_RUNS times in rounds -- one process of each library per round, so a
# slow spell of the machine hits all of them alike -- and reported as the
# median with its min-max range.  Single-threaded programs are pinned to
# one CPU with taskset; the threads benchmark gets the whole machine.
# Ratios are ratios of medians.  The script prints Markdown tables (what
# docs/BENCHMARKS.md quotes), keeps every raw result line in
# $BENCH_BUILD/runtime-results/, and draws the threads-vs-corio plot from
# the numbers it measured.  It prints; it asserts nothing about time.
#
# Usage: bench/runtime.sh [SECTION...]   spawn timers sleep0 threads instructions
#                                        (default: all)
#   BENCH_BUILD=dir    build directory (default: build/bench in the source
#                      tree), configured like bench/run's if it is not yet
#   BENCH_RUNS=n       processes per measurement (default 5)
#   BENCH_PLOT=file    the plot (default docs/threads_vs_corio.png; "" for none)
#   BENCH_PY_CAP=s     a Python run at 1M that takes longer than this many
#                      seconds caps Python at 100k (default 60)
#   BENCH_NICE=n       run the measured processes at this nice level (e.g. -10,
#                      as root) when other work shares the machine
#   BENCH_CALLGRIND=0  skip the instruction counts (valgrind --tool=callgrind)
#   BENCH_REPORT=1     measure nothing: print the tables from the raw results
#                      a previous run left in $BENCH_BUILD/runtime-results/
#   BENCH_SMALL=1      every N divided by 100: a quick check of the script
#   BENCH_TOKIO=0      leave tokio out (no install, no cargo build)
#
# tokio is built offline by Debian's /usr/bin/cargo and /usr/bin/rustc from
# the crates of librust-tokio-dev (bench/runtime/tokio/.cargo/config.toml),
# in a copy of bench/runtime/tokio/ under $BENCH_BUILD/tokio/: Cargo.lock and
# the target directory stay there, out of the source tree.  Where cargo or
# the crate is missing (or the build fails), tokio is skipped with a message.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BENCH_BUILD:-$src/build/bench}
runs=${BENCH_RUNS:-5}
plot=${BENCH_PLOT-$src/docs/threads_vs_corio.png}
py_cap=${BENCH_PY_CAP:-60}
callgrind=${BENCH_CALLGRIND:-1}
report_only=${BENCH_REPORT:-0}
scale=1
[ "${BENCH_SMALL:-0}" = 0 ] || scale=100
python=/usr/bin/python3
results=$build/runtime-results
bin=$build/bench/runtime
tokio=${BENCH_TOKIO:-1}
tokio_dir=$build/tokio
tokio_bin=$tokio_dir/target/release/tokio_bench
tokio_skip="" # why tokio is not measured, once build_tokio has tried

sections=(spawn timers sleep0 threads instructions)

# ------------------------------------------------------------------ set-up

install_deps() {
    "$src/scripts/deps" libuv1-dev libev-dev python3-uvloop gnuplot-nox util-linux
    # Rust is a baseline only: without it the rest still runs.
    if [ "$tokio" != 0 ] && ! "$src/scripts/deps" cargo librust-tokio-dev; then
        echo "runtime.sh: could not install cargo and librust-tokio-dev" >&2
    fi
}

# Builds bench/runtime/tokio offline with Debian's cargo and rustc, in a
# copy under the build directory; sets tokio_skip to the reason it cannot.
build_tokio() {
    local crate=$src/bench/runtime/tokio log
    if [ "$tokio" = 0 ]; then
        tokio_skip="BENCH_TOKIO=0"
    elif [ ! -x /usr/bin/cargo ] || [ ! -x /usr/bin/rustc ]; then
        tokio_skip="no /usr/bin/cargo or /usr/bin/rustc (Debian's cargo package)"
    elif ! compgen -G "/usr/share/cargo/registry/tokio-1.*" >/dev/null; then
        tokio_skip="no tokio crate in /usr/share/cargo/registry (Debian's librust-tokio-dev)"
    else
        mkdir -p "$tokio_dir/crate"
        # -p keeps the sources' times, so an unchanged crate is not rebuilt
        cp -Rp "$crate/Cargo.toml" "$crate/src" "$crate/.cargo" "$tokio_dir/crate/"
        if ! log=$(cd "$tokio_dir/crate" && RUSTC=/usr/bin/rustc CARGO_HOME="$tokio_dir/home" \
            CARGO_TARGET_DIR="$tokio_dir/target" /usr/bin/cargo build --release --quiet 2>&1); then
            printf '%s\n' "$log" >"$tokio_dir/build.log"
            tokio_skip="cargo build failed (log: $tokio_dir/build.log)"
        fi
    fi
    [ -z "$tokio_skip" ] || echo "runtime.sh: tokio skipped: $tokio_skip" >&2
}

# "tokio X.Y.Z, rustc A.B.C": what the tokio baseline was built with.
tokio_version() {
    local v
    v=$(awk '/^name = "tokio"$/ { getline; gsub(/"/, "", $3); print $3; exit }' \
        "$tokio_dir/crate/Cargo.lock" 2>/dev/null)
    echo "tokio ${v:-?}, $(/usr/bin/rustc --version 2>/dev/null | cut -d' ' -f1-2)"
}

# Configures (once) a release build like bench/run's, and builds it.
build_benchmarks() {
    local log
    if [ ! -f "$build/build.ninja" ]; then
        log=$(meson setup "$build" "$src" --buildtype=release \
            -Dtests=false -Dsamples=false -Dbench=true 2>&1) || { echo "$log" >&2; exit 1; }
    fi
    log=$(meson compile -C "$build" 2>&1) || { echo "$log" >&2; exit 1; }
    if [ ! -x "$bin/corio_bench" ]; then
        echo "runtime.sh: $bin/corio_bench not built (is subdir('runtime') in bench/meson.build?)" >&2
        exit 1
    fi
}

# The prefix of every measured command: a fixed CPU, and a nice level if asked.
pin=()
if command -v taskset >/dev/null && [ "$(nproc)" -gt 1 ]; then
    pin=(taskset -c 1)
fi
if [ -n "${BENCH_NICE:-}" ]; then
    pin=(nice -n "$BENCH_NICE" "${pin[@]}")
fi

# N scaled down by BENCH_SMALL.
n_of() { echo $(($1 / scale)); }

# ------------------------------------------------------------ measuring

# run_rounds FILE CMD...: runs every CMD (a string split on spaces) `runs`
# times, a fresh pinned process each, one of each per round; the result
# lines go to FILE.
run_rounds() {
    local file=$1 r cmd
    local -a argv
    shift
    [ "$report_only" = 0 ] || return 0
    for ((r = 0; r < runs; r++)); do
        for cmd in "$@"; do
            read -ra argv <<<"$cmd"
            if ! "${pin[@]}" "${argv[@]}" >>"$file"; then
                echo "runtime.sh: failed: $cmd" >&2
                exit 1
            fi
        done
    done
}

# Empties a results file before a section measures (not in report mode).
fresh() {
    [ "$report_only" = 0 ] || return 0
    : >"$1"
}

# stats FILE KEY FIELD=VALUE...: "median min max" of KEY over the result
# lines of FILE that match every FIELD=VALUE; "- - -" when there are none.
stats() {
    local file=$1 key=$2
    shift 2
    awk -v key="$key" -v want="$*" '
        BEGIN { nw = split(want, w, " ") }
        $1 == "result" {
            split("", f)
            for (i = 2; i <= NF; i++) { eq = index($i, "="); f[substr($i, 1, eq - 1)] = substr($i, eq + 1) }
            for (i = 1; i <= nw; i++) { eq = index(w[i], "="); if (f[substr(w[i], 1, eq - 1)] != substr(w[i], eq + 1)) next }
            if (key in f) v[n++] = f[key] + 0
        }
        END {
            if (n == 0) { print "- - -"; exit }
            for (i = 1; i < n; i++) { x = v[i]; for (j = i - 1; j >= 0 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
            med = n % 2 ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2
            print med, v[0], v[n - 1]
        }' "$file"
}

# show "median min max" DIVISOR DECIMALS: "m [lo - hi]" in the unit the
# divisor makes (1e6: ns to ms; n: a total to a per-item figure).
show() {
    local stats=$1 div=$2 dec=$3
    awk -v s="$stats" -v d="$div" -v p="$dec" 'BEGIN {
        split(s, a, " ")
        if (a[1] == "-") { print "-"; exit }
        f = "%." p "f"
        printf(f " [" f " - " f "]\n", a[1] / d, a[2] / d, a[3] / d)
    }'
}

# What divides a KiB total into bytes per item: n / 1024.
per_kib() { awk -v n="$1" 'BEGIN { print n / 1024 }'; }

# The median alone, divided.
med() { awk -v s="$1" -v d="${2:-1}" 'BEGIN { split(s, a, " "); if (a[1] == "-") print "-"; else print a[1] / d }'; }

# ratio A B: A / B to two decimals, or "-" when either is missing.
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f\n", a / b }'
}

# verdict VALUE OP LIMIT: "met" or "missed" (OP is <= or >=).
verdict() {
    awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
        if (v == "-") { print "not measured"; exit }
        ok = op == "<=" ? v <= l : v >= l
        print ok ? "met" : "MISSED"
    }'
}

# The bytes-per-task target; 0 means the RSS counter did not see the growth.
bytes_verdict() {
    if [ "$(awk -v b="$1" 'BEGIN { print (b < 1) }')" = 1 ]; then
        echo "unresolved"
    else
        verdict "$1" '<=' 96
    fi
}

heading() {
    printf '\n## %s\n\n' "$1"
}

have() { [ -x "$bin/$1" ]; }

# Whether the tokio baseline is built (and not left out).
have_tokio() { [ -z "$tokio_skip" ] && [ -x "$tokio_bin" ]; }

# ------------------------------------------------------------------ spawn

# N tasks that sleep 10 ms and return a value, gathered: corio, libuv,
# libev, tokio, asyncio, uvloop at 10k, 100k and 1M.
bench_spawn() {
    local file=$results/spawn.txt n lib cmds
    local -a sizes=("$(n_of 10000)" "$(n_of 100000)" "$(n_of 1000000)")
    fresh "$file"
    for n in "${sizes[@]}"; do
        cmds=("$bin/corio_bench spawn $n" "$bin/corio_bench spawn $n --turn-clock")
        have uv_bench && cmds+=("$bin/uv_bench spawn $n")
        have ev_bench && cmds+=("$bin/ev_bench spawn $n")
        have_tokio && cmds+=("$tokio_bin spawn $n")
        run_rounds "$file" "${cmds[@]}"
        # Python at 1M: one untimed try first; past the cap, stop at 100k
        if [ "$report_only" = 0 ] && [ "$n" -ge "$(n_of 1000000)" ] && ! timeout "$py_cap" "${pin[@]}" "$python" \
            "$src/bench/runtime/asyncio_bench.py" spawn "$n" >/dev/null; then
            echo "(Python capped at $(n_of 100000): an asyncio run at $n took over ${py_cap} s)"
            continue
        fi
        run_rounds "$file" "$python $src/bench/runtime/asyncio_bench.py spawn $n" \
            "$python $src/bench/runtime/asyncio_bench.py spawn $n --uvloop"
    done

    heading "1. Spawn, sleep 10 ms, gather: N tasks"
    echo "Each job sleeps 10 ms then returns its number; the gather sums them. Time is from"
    echo "the first task's creation to the last one's end (wall, then CPU of the process);"
    echo "memory is the growth of peak RSS over that span. Median [min - max] of $runs runs."
    if [ -n "$tokio_skip" ] || [ "$(stats "$file" cpu_ns lib=tokio)" = "- - -" ]; then
        echo "tokio: not measured (${tokio_skip:-no tokio results})."
    else
        echo "tokio: tokio::spawn on a current-thread runtime (enable_all), the JoinHandles"
        echo "awaited in order; $(tokio_version), Debian's crates, cargo --release."
    fi
    echo
    echo "| N | library | wall ms | CPU ms | wall ns/task | CPU ns/task | bytes/task |"
    echo "|---|---|---|---|---|---|---|"
    for n in "${sizes[@]}"; do
        for lib in corio corio-tc libuv libev tokio asyncio uvloop; do
            local w c r
            w=$(stats "$file" wall_ns lib=$lib n="$n")
            [ "$w" = "- - -" ] && continue
            c=$(stats "$file" cpu_ns lib=$lib n="$n")
            r=$(stats "$file" rss_kb lib=$lib n="$n")
            printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$n" "$lib" \
                "$(show "$w" 1e6 1)" "$(show "$c" 1e6 1)" "$(show "$w" "$n" 0)" \
                "$(show "$c" "$n" 0)" "$(show "$r" "$(per_kib "$n")" 0)"
        done
    done
    echo
    echo "Ratios of medians, and the targets (corio <= 1.0x libev's CPU time at every N,"
    echo "<= 96 bytes/task), judged on CPU time: wall time also holds the 10 ms sleep (most"
    echo "of it at 10k) and whatever else the machine was doing:"
    echo
    echo "| N | corio/libuv wall | corio/libuv CPU | corio/libev wall | corio/libev CPU | tokio/corio CPU | tokio/corio bytes | asyncio/corio wall | asyncio/corio CPU | uvloop/corio wall | corio bytes/task | targets (libev, bytes) |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    for n in "${sizes[@]}"; do
        local cw cc uw uc ew ec tc aw ac vw bytes tbytes r1 r2 r3 r4 r5 r6 r7 r8 r9
        cw=$(med "$(stats "$file" wall_ns lib=corio n="$n")")
        cc=$(med "$(stats "$file" cpu_ns lib=corio n="$n")")
        uw=$(med "$(stats "$file" wall_ns lib=libuv n="$n")")
        uc=$(med "$(stats "$file" cpu_ns lib=libuv n="$n")")
        ew=$(med "$(stats "$file" wall_ns lib=libev n="$n")")
        ec=$(med "$(stats "$file" cpu_ns lib=libev n="$n")")
        aw=$(med "$(stats "$file" wall_ns lib=asyncio n="$n")")
        ac=$(med "$(stats "$file" cpu_ns lib=asyncio n="$n")")
        vw=$(med "$(stats "$file" wall_ns lib=uvloop n="$n")")
        tc=$(med "$(stats "$file" cpu_ns lib=tokio n="$n")")
        bytes=$(med "$(stats "$file" rss_kb lib=corio n="$n")" "$(per_kib "$n")")
        tbytes=$(med "$(stats "$file" rss_kb lib=tokio n="$n")" "$(per_kib "$n")")
        r1=$(ratio "$cw" "$uw"); r2=$(ratio "$cc" "$uc"); r3=$(ratio "$cw" "$ew")
        r4=$(ratio "$cc" "$ec"); r5=$(ratio "$aw" "$cw"); r6=$(ratio "$ac" "$cc")
        r7=$(ratio "$vw" "$cw"); r8=$(ratio "$tc" "$cc"); r9=$(ratio "$tbytes" "$bytes")
        printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.0f | %s, %s |\n' "$n" \
            "$r1" "$r2" "$r3" "$r4" "$r8" "$r9" "$r5" "$r6" "$r7" "$bytes" \
            "$(verdict "$r4" '<=' 1)" "$(bytes_verdict "$bytes")"
    done
    spawn_growth "$file" "${sizes[0]}" "${sizes[2]}"
    turn_clock_row "$file" "${sizes[@]}"
}

# corio-tc: the same program on a loop made with turn_clock (timers count
# from the turn's clock, as libev's: no clock read per sleep, a sleep may
# end early by the time its turn ran before it), beside the default.
turn_clock_row() {
    local file=$1 n line="" ec cc tc
    shift
    for n in "$@"; do
        ec=$(med "$(stats "$file" cpu_ns lib=libev n="$n")")
        cc=$(med "$(stats "$file" cpu_ns lib=corio n="$n")")
        tc=$(med "$(stats "$file" cpu_ns lib=corio-tc n="$n")")
        line="$line; $n: corio-tc/libev $(ratio "$tc" "$ec"), corio-tc/corio $(ratio "$tc" "$cc")"
    done
    echo
    echo "corio-tc (co_loop_options.turn_clock, an opt-in: timers count from the turn's clock"
    echo "as libev's, so a sleep may end early), CPU:${line#;}."
}

# spawn_growth FILE N0 N1: how each library's CPU per task grows from N0 to
# N1 tasks, against the target of a flat cost (corio <= 1.2x).
spawn_growth() {
    local file=$1 a=$2 b=$3 lib g corio="-" line=""
    for lib in corio libuv libev tokio asyncio; do
        g=$(ratio "$(med "$(stats "$file" cpu_ns lib=$lib n="$b")" "$b")" \
            "$(med "$(stats "$file" cpu_ns lib=$lib n="$a")" "$a")")
        [ "$lib" = corio ] && corio=$g
        [ "$g" = "-" ] || line="$line, $lib ${g}x"
    done
    echo
    echo "CPU per task from $a to $b tasks:${line#,} (target: corio <= 1.2x: $(verdict "$corio" '<=' 1.2))."
}

# ----------------------------------------------------------------- timers

# 1M timers with random delays: start, cancel, CPU per fire.
bench_timers() {
    local file=$results/timers.txt n unit lib
    n=$(n_of 1000000)
    fresh "$file"
    local -a cmds=("$bin/corio_bench timers $n --unit ms" "$bin/corio_bench timers-tc $n --unit ms"
        "$bin/heap_bench timers $n --unit ms")
    have ev_bench && cmds+=("$bin/ev_bench timers $n --unit ms")
    have uv_bench && cmds+=("$bin/uv_bench timers $n --unit ms")
    cmds+=("$bin/corio_bench timers $n --unit us" "$bin/corio_bench timers-tc $n --unit us"
        "$bin/heap_bench timers $n --unit us")
    have ev_bench && cmds+=("$bin/ev_bench timers $n --unit us")
    run_rounds "$file" "${cmds[@]}"

    heading "2. Timers: $n random delays"
    echo "Delays are whole ms in [1, 100] (libuv's and CO_SLEEP's resolution: many equal"
    echo "deadlines) or whole us in [1, 100000], the same seeded sequence for every library."
    echo "start: arming all; cancel: cancelling all of that set; restart: a second set armed"
    echo "(the heap's array is grown by then); fire: CPU time until all of it fired."
    echo "ns per timer, median [min - max] of $runs runs."
    echo "corio = timers as task sleeps (start = each task's first step, CO_SLEEP; cancel ="
    echo "co_cancel; fire = heap pop + the task's resume to its end); corio-heap = src/sched/heap.c"
    echo "alone (push, remove, pop; fire is the pops only, no loop); corio-tc = corio on a"
    echo "loop with co_loop_options.turn_clock (the opt-in: no clock read per timer armed)."
    echo
    echo "| unit | library | start ns | cancel ns | restart ns | fire CPU ns | cancelled tasks' unwinding ns |"
    echo "|---|---|---|---|---|---|---|"
    for unit in ms us; do
        for lib in corio corio-tc corio-heap libev libuv; do
            local s c r f u
            s=$(stats "$file" start_ns lib=$lib unit=$unit)
            [ "$s" = "- - -" ] && continue
            c=$(stats "$file" cancel_ns lib=$lib unit=$unit)
            r=$(stats "$file" restart_ns lib=$lib unit=$unit)
            f=$(stats "$file" fire_cpu_ns lib=$lib unit=$unit)
            u=$(stats "$file" unwind_ns lib=$lib unit=$unit)
            printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$unit" "$lib" "$(show "$s" "$n" 1)" \
                "$(show "$c" "$n" 1)" "$(show "$r" "$n" 1)" "$(show "$f" "$n" 1)" "$(show "$u" "$n" 1)"
        done
    done
    echo
    echo "Ratios of medians against libev (target: corio <= 1.0x libev for each):"
    echo
    echo "| unit | library | start | cancel | restart | fire | targets (start, cancel, fire) |"
    echo "|---|---|---|---|---|---|---|"
    for unit in ms us; do
        local es ec er ef
        es=$(med "$(stats "$file" start_ns lib=libev unit=$unit)")
        ec=$(med "$(stats "$file" cancel_ns lib=libev unit=$unit)")
        er=$(med "$(stats "$file" restart_ns lib=libev unit=$unit)")
        ef=$(med "$(stats "$file" fire_cpu_ns lib=libev unit=$unit)")
        for lib in corio corio-tc corio-heap libuv; do
            local s c r f
            s=$(ratio "$(med "$(stats "$file" start_ns lib=$lib unit=$unit)")" "$es")
            [ "$s" = "-" ] && continue
            c=$(ratio "$(med "$(stats "$file" cancel_ns lib=$lib unit=$unit)")" "$ec")
            r=$(ratio "$(med "$(stats "$file" restart_ns lib=$lib unit=$unit)")" "$er")
            f=$(ratio "$(med "$(stats "$file" fire_cpu_ns lib=$lib unit=$unit)")" "$ef")
            printf '| %s | %s/libev | %s | %s | %s | %s | %s, %s, %s |\n' "$unit" "$lib" "$s" "$c" "$r" \
                "$f" "$(verdict "$s" '<=' 1)" "$(verdict "$c" '<=' 1)" "$(verdict "$f" '<=' 1)"
        done
    done
}

# ----------------------------------------------------------------- sleep0

# One task's sleep(0) round trip against loop iterations with an idle handle.
bench_sleep0() {
    local file=$results/sleep0.txt n npy lib
    n=$(n_of 1000000)
    npy=$(n_of 100000)
    fresh "$file"
    local -a cmds=("$bin/corio_bench sleep0 $n" "$bin/corio_bench epoll0 $n")
    have uv_bench && cmds+=("$bin/uv_bench idle $n" "$bin/uv_bench idle $n --async")
    have ev_bench && cmds+=("$bin/ev_bench idle $n")
    cmds+=("$python $src/bench/runtime/asyncio_bench.py sleep0 $npy"
        "$python $src/bench/runtime/asyncio_bench.py sleep0 $npy --uvloop")
    run_rounds "$file" "${cmds[@]}"

    heading "3. sleep(0) round trip"
    echo "corio: one task doing CO_SLEEP(self, 0) $n times; libuv: a uv_idle_t counting $n loop"
    echo "iterations (libuv+async: with a uv_async_t open too, so that the loop has an fd to"
    echo "poll, as corio's always has); libev: an ev_idle; epoll0: epoll_wait(0) on a set"
    echo "with one eventfd, the syscall every corio turn makes; asyncio/uvloop: await"
    echo "asyncio.sleep(0), $npy times. ns per iteration, median [min - max] of $runs runs."
    echo
    echo "| library | wall ns/iteration | CPU ns/iteration |"
    echo "|---|---|---|"
    for lib in corio epoll0 libuv libuv+async libev asyncio uvloop; do
        local w c
        w=$(stats "$file" wall_ns lib=$lib)
        [ "$w" = "- - -" ] && continue
        c=$(stats "$file" cpu_ns lib=$lib)
        local k=$n
        case $lib in asyncio | uvloop) k=$npy ;; esac
        printf '| %s | %s | %s |\n' "$lib" "$(show "$w" "$k" 1)" "$(show "$c" "$k" 1)"
    done
    local cw uw ua aw
    cw=$(med "$(stats "$file" wall_ns lib=corio)" "$n")
    uw=$(med "$(stats "$file" wall_ns lib=libuv)" "$n")
    ua=$(med "$(stats "$file" wall_ns lib=libuv+async)" "$n")
    aw=$(med "$(stats "$file" wall_ns lib=asyncio)" "$npy")
    echo
    echo "| ratio of medians | value | target |"
    echo "|---|---|---|"
    echo "| corio/libuv | $(ratio "$cw" "$uw") | <= 0.25: $(verdict "$(ratio "$cw" "$uw")" '<=' 0.25) |"
    echo "| corio/(libuv+async) | $(ratio "$cw" "$ua") | (for comparison) |"
    echo "| asyncio/corio | $(ratio "$aw" "$cw") | (for comparison) |"
}

# ---------------------------------------------------------------- threads

# Jobs that wait 10 ms then add a number: a thread each, or a corio task each.
bench_threads() {
    local file=$results/threads.txt n lib data=$results/threads_vs_corio.dat
    local -a tsizes=("$(n_of 1000)" "$(n_of 10000)")
    local -a csizes=("$(n_of 1000)" "$(n_of 10000)" "$(n_of 100000)" "$(n_of 1000000)")
    fresh "$file"
    for n in "${tsizes[@]}"; do
        # threads are not pinned: one thread per job gets the whole machine
        local saved=("${pin[@]}")
        pin=()
        [ -z "${BENCH_NICE:-}" ] || pin=(nice -n "$BENCH_NICE")
        run_rounds "$file" "$bin/threads_bench $n"
        pin=("${saved[@]}")
    done
    for n in "${csizes[@]}"; do
        run_rounds "$file" "$bin/corio_bench spawn $n --add"
    done

    heading "4. Threads vs coroutines: N jobs that wait 10 ms, then add a number"
    echo "threads: one pthread per job (default attributes, 8 MiB stack reserved), all"
    echo "created then joined, not pinned; corio: a task per job (CO_NEW + co_spawn,"
    echo "CO_GATHER, co_release), pinned to one CPU. Median [min - max] of $runs runs."
    echo
    echo "| N | jobs as | wall ms | CPU ms | peak RSS growth KiB | bytes/job |"
    echo "|---|---|---|---|---|---|"
    : >"$data"
    for n in "${csizes[@]}"; do
        for lib in threads corio; do
            local w c r
            w=$(stats "$file" wall_ns lib=$lib n="$n")
            [ "$w" = "- - -" ] && continue
            c=$(stats "$file" cpu_ns lib=$lib n="$n")
            r=$(stats "$file" rss_kb lib=$lib n="$n")
            printf '| %s | %s | %s | %s | %s | %s |\n' "$n" "$lib" "$(show "$w" 1e6 1)" \
                "$(show "$c" 1e6 1)" "$(show "$r" 1 0)" "$(show "$r" "$(per_kib "$n")" 0)"
            # gnuplot: N, then wall ms median/min/max and RSS MiB median/min/max
            echo "$lib $n $(awk -v w="$w" -v r="$r" 'BEGIN { split(w, a, " "); split(r, b, " ");
                printf "%g %g %g %g %g %g", a[1] / 1e6, a[2] / 1e6, a[3] / 1e6,
                    b[1] / 1024, b[2] / 1024, b[3] / 1024 }')" >>"$data"
        done
    done
    echo
    for n in "${tsizes[@]}"; do
        local tw cw tr cr
        tw=$(med "$(stats "$file" wall_ns lib=threads n="$n")")
        cw=$(med "$(stats "$file" wall_ns lib=corio n="$n")")
        tr=$(med "$(stats "$file" rss_kb lib=threads n="$n")")
        cr=$(med "$(stats "$file" rss_kb lib=corio n="$n")")
        if [ "$(ratio "$tr" "$cr")" = "-" ]; then
            echo "- N = $n: threads take $(ratio "$tw" "$cw")x corio's time; corio's memory growth is" \
                "below what the peak-RSS counter resolves (it counts in batches of pages)."
        else
            echo "- N = $n: threads take $(ratio "$tw" "$cw")x corio's time and $(ratio "$tr" "$cr")x its memory."
        fi
    done
    draw_plot "$data"
}

# Time and memory against N, threads and corio, log-log, from the .dat file.
draw_plot() {
    local data=$1
    [ -n "$plot" ] || return 0
    if ! command -v gnuplot >/dev/null; then
        echo "(no gnuplot: plot not drawn)"
        return 0
    fi
    mkdir -p "$(dirname "$plot")"
    gnuplot <<EOF
set terminal pngcairo size 1100,460 font "sans,10"
set output "$plot"
set multiplot layout 1,2 title "N jobs that wait 10 ms then add a number: one pthread each vs one corio task each ($(date -u +%Y-%m-%d), median of $runs runs, bars: min-max)"
set logscale xy
set xlabel "N (jobs)"
set grid
set key top left
set format x "10^{%L}"
set ylabel "wall time (ms)"
set title "time"
plot "< grep '^threads ' $data" using 2:3:4:5 with yerrorlines lw 2 pt 7 title "pthreads", \
     "< grep '^corio ' $data" using 2:3:4:5 with yerrorlines lw 2 pt 5 title "corio tasks"
set ylabel "peak RSS growth (MiB)"
set title "memory"
plot "< grep '^threads ' $data" using 2:6:7:8 with yerrorlines lw 2 pt 7 title "pthreads", \
     "< grep '^corio ' $data" using 2:6:7:8 with yerrorlines lw 2 pt 5 title "corio tasks"
unset multiplot
EOF
    echo
    echo "Plot: $plot"
}

# ----------------------------------------------------------- instructions

# Instructions one run of CMD executes in user space (callgrind).
instructions() {
    local out total
    out=$(mktemp)
    valgrind --tool=callgrind --callgrind-out-file="$out" "$@" >/dev/null 2>&1
    total=$(awk '/^summary:/ { print $2 }' "$out")
    rm -f "$out"
    echo "$total"
}

# per_item N CMD: instructions per item of CMD (a string with @N@ for the
# count): the difference between runs at 2N and N, so start-up cancels out.
per_item() {
    local n=$1 cmd=$2 a b
    local -a argv
    read -ra argv <<<"${cmd//@N@/$n}"
    a=$(instructions "${argv[@]}")
    read -ra argv <<<"${cmd//@N@/$((2 * n))}"
    b=$(instructions "${argv[@]}")
    awk -v a="$a" -v b="$b" -v n="$n" 'BEGIN { printf "%.0f\n", (b - a) / n }'
}

# User-space instructions per task (spawn) and per loop iteration (sleep0),
# under callgrind: exact and repeatable where times on a shared machine are
# not.  The kernel's share (epoll_wait, page faults) is not in them.
bench_instructions() {
    local file=$results/instructions.txt n spec bench lib cmd exe
    n=$(n_of 100000)
    if [ "$report_only" = 0 ]; then
        if [ "$callgrind" = 0 ] || ! command -v valgrind >/dev/null; then
            echo "(no valgrind, or BENCH_CALLGRIND=0: instruction counts skipped)"
            return 0
        fi
        : >"$file"
        for spec in "spawn corio corio_bench spawn @N@" "spawn libuv uv_bench spawn @N@" \
            "spawn libev ev_bench spawn @N@" "sleep0 corio corio_bench sleep0 @N@" \
            "sleep0 libuv uv_bench idle @N@" "sleep0 libev ev_bench idle @N@"; do
            read -r bench lib exe cmd <<<"$spec"
            have "$exe" || continue
            echo "result bench=$bench lib=$lib n=$n ir=$(per_item "$n" "$bin/$exe $cmd")" >>"$file"
        done
        if have_tokio; then
            echo "result bench=spawn lib=tokio n=$n ir=$(per_item "$n" "$tokio_bin spawn @N@")" >>"$file"
        fi
    fi

    heading "5. Instructions (callgrind)"
    echo "User-space instructions per task of benchmark 1 and per iteration of benchmark 3:"
    echo "the difference between runs at $((2 * n)) and $n, under valgrind --tool=callgrind."
    echo "Exact and repeatable; the kernel's part (the epoll_wait syscall, page faults) is"
    echo "not counted."
    echo
    echo "| library | per spawned task | per loop iteration |"
    echo "|---|---|---|"
    for lib in corio libuv libev tokio; do
        [ "$lib" != tokio ] || [ "$(stats "$file" ir lib=tokio)" != "- - -" ] || continue
        printf '| %s | %s | %s |\n' "$lib" "$(med "$(stats "$file" ir lib=$lib bench=spawn)")" \
            "$(med "$(stats "$file" ir lib=$lib bench=sleep0)")"
    done
}

# ---------------------------------------------------------------------- main

main() {
    local section wanted=("$@")
    [ ${#wanted[@]} -gt 0 ] || wanted=("${sections[@]}")
    for section in "${wanted[@]}"; do
        if ! declare -F "bench_$section" >/dev/null; then
            echo "runtime.sh: no section '$section' (have: ${sections[*]})" >&2
            exit 2
        fi
    done
    if [ "$report_only" = 0 ]; then
        install_deps
        build_benchmarks
        build_tokio
    fi
    mkdir -p "$results"
    echo "# corio runtime benchmarks"
    echo
    echo "$(date -u +%Y-%m-%d), $(uname -m), $(nproc) CPUs, kernel $(uname -r)," \
        "$(gcc --version | head -1), build $build, run as: ${pin[*]:-not pinned}"
    for section in "${wanted[@]}"; do
        "bench_$section"
    done
}

main "$@"
