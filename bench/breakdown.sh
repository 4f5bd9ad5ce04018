#!/usr/bin/env bash
# bench/breakdown.sh -- where a corio task's instructions and cache misses go,
# stage by stage, beside what libev spends on a timer doing the same job.
#
# It runs bench/breakdown/'s two programs -- bench/runtime.sh's spawn
# benchmark (N tasks that sleep 10 ms and return their number, gathered and
# released; N ev_timers that fire once and are freed) with callgrind dumps at
# each phase's boundary -- under valgrind --tool=callgrind: once for the
# instructions (BREAKDOWN_N tasks) and once with --cache-sim=yes, the
# simulator cachegrind uses, for the cache misses (BREAKDOWN_CACHE_N tasks,
# where the tasks outgrow the caches as in the 1M run of runtime.sh).  Then
# bench/breakdown/report.py charges every instruction to a stage by its
# phase and its source function, and prints the Markdown tables that
# docs/BENCHMARKS.md quotes.  Counts, not times: the same on every run of the
# same build, whatever else the machine does.  perf's counters are not
# needed (nor available on the VMs this was written on).
#
# Usage: bench/breakdown.sh
#   BENCH_BUILD=dir        build directory (default: build/breakdown in the
#                          source tree), configured --buildtype=release with
#                          -g: the same code as bench/runtime.sh's build, with
#                          the line tables callgrind needs to name inlined code
#   BREAKDOWN_N=n          tasks for the instruction counts (default 100000)
#   BREAKDOWN_CACHE_N=n    tasks for the cache simulation (default 1000000;
#                          0 skips it: about a minute of valgrind per library)
#   BREAKDOWN_ROWS=n       functions shown per stage before "(the rest)" (default 8)
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BENCH_BUILD:-$src/build/breakdown}
n=${BREAKDOWN_N:-100000}
ncache=${BREAKDOWN_CACHE_N:-1000000}
out=$build/breakdown-results
bin=$build/bench/breakdown

"$src/scripts/deps" valgrind libev-dev

if [ ! -f "$build/build.ninja" ]; then
    log=$(meson setup "$build" "$src" --buildtype=release -Dc_args=-g \
        -Dtests=false -Dsamples=false -Dbench=true 2>&1) || { echo "$log" >&2; exit 1; }
fi
log=$(meson compile -C "$build" 2>&1) || { echo "$log" >&2; exit 1; }
for exe in corio_phases ev_phases; do
    if [ ! -x "$bin/$exe" ]; then
        echo "breakdown.sh: $bin/$exe not built (valgrind/callgrind.h or libev missing?)" >&2
        exit 1
    fi
done

# callgrind PREFIX N EXE [OPTION...]: one run, its dumps PREFIX.1, PREFIX.2...
callgrind() {
    local prefix=$1 count=$2 exe=$3
    shift 3
    rm -f "$prefix" "$prefix".*
    if ! valgrind --tool=callgrind --callgrind-out-file="$prefix" "$@" "$bin/$exe" "$count" \
        >"$prefix.log" 2>&1; then
        echo "breakdown.sh: $exe $count failed under valgrind (log: $prefix.log)" >&2
        exit 1
    fi
}

# --D1 and --LL from the machine's own L1d and last-level cache (sysfs), where
# it tells: valgrind's guess from cpuid can be far off on a VM (a 256 MiB
# direct-mapped LL on the one this was written on).  valgrind simulates only
# a power-of-two number of sets: a cache of another size (a 480 MiB 16-way
# L3 on another VM) is simulated as the largest such one below it.
pow2_sets() {
    local size=$1 ways=$2 line=$3 sets=1
    while [ $((sets * 2 * ways * line)) -le "$size" ]; do sets=$((sets * 2)); done
    [ $((sets * ways * line)) = "$size" ] ||
        echo "breakdown.sh: a $size-byte $ways-way cache simulated as $((sets * ways * line)) bytes (valgrind needs 2^k sets)" >&2
    echo $((sets * ways * line))
}

cache_geometry() {
    local dir=/sys/devices/system/cpu/cpu0/cache idx level type size ways line
    local -a opts=()
    for idx in "$dir"/index*; do
        [ -r "$idx/size" ] || continue
        level=$(cat "$idx/level") type=$(cat "$idx/type")
        size=$(cat "$idx/size") ways=$(cat "$idx/ways_of_associativity")
        line=$(cat "$idx/coherency_line_size")
        case $size in *K) size=$((${size%K} * 1024)) ;; *M) size=$((${size%M} * 1048576)) ;; esac
        size=$(pow2_sets "$size" "$ways" "$line")
        if [ "$level" = 1 ] && [ "$type" = Data ]; then
            opts[0]="--D1=$size,$ways,$line"
        elif [ "$type" = Unified ] && [ "$level" -ge 2 ]; then
            opts[1]="--LL=$size,$ways,$line" # the highest level wins: it comes last
        fi
    done
    echo "${opts[*]}"
}

mkdir -p "$out"
read -ra geometry <<<"$(cache_geometry)"
callgrind "$out/corio-ir" "$n" corio_phases
callgrind "$out/ev-ir" "$n" ev_phases
if [ "$ncache" != 0 ]; then
    callgrind "$out/corio-cache" "$ncache" corio_phases --cache-sim=yes "${geometry[@]}"
    callgrind "$out/ev-cache" "$ncache" ev_phases --cache-sim=yes "${geometry[@]}"
fi

echo "# Where a task's instructions go: corio and libev, stage by stage"
echo
what="instructions at N = $n"
[ "$ncache" = 0 ] || what="$what; instructions and simulated cache misses at N = $ncache"
echo "$(date -u +%Y-%m-%d), $(uname -m), $(valgrind --version), $(gcc --version | head -1)," \
    "build $build. Per task: $what."
if [ "$ncache" != 0 ]; then
    echo "Simulated caches: $(grep -h '^desc: [DL][1L] cache:' "$out/corio-cache.1" |
        sed 's/^desc: //' | paste -sd';' | sed 's/;/; /g')."
fi
echo
if [ "$ncache" = 0 ]; then
    "$src/bench/breakdown/report.py" "$n" "$out/corio-ir" "$out/ev-ir" - - -
else
    "$src/bench/breakdown/report.py" "$n" "$out/corio-ir" "$out/ev-ir" \
        "$ncache" "$out/corio-cache" "$out/ev-cache"
fi
