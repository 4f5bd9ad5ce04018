#!/usr/bin/env bash
# Fuzzes the HTTP samples' parser (samples/http/) with libFuzzer
# for SECONDS (60 by default): builds test/fuzz/fuzz_http.c with clang
# -fsanitize=fuzzer,address,undefined into build/fuzz/, then runs it on a
# scratch corpus seeded from test/fuzz/corpus/ (which stays as it is).
# Exits non-zero if the fuzzer finds anything; the input that did it is
# left in build/fuzz/ (crash-*, leak-*, timeout-*): copy it into
# test/fuzz/corpus/ once fixed, so that the test suite replays it.
# Usage: test/fuzz/run.sh [SECONDS]
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-60}
case "$seconds" in
  '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac

# libFuzzer ships with clang's runtime libraries: on Debian 12, clang-14
# only recommends them, so they are asked for by name.
"$root/scripts/deps" clang
major=$(clang -dumpversion | cut -d. -f1)
"$root/scripts/deps" "libclang-rt-$major-dev"

out="$root/build/fuzz"
mkdir -p "$out/corpus"
clang -std=c11 -g -O1 -Wall -Wextra -Wpedantic -Werror \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -I"$root/samples" "$root/test/fuzz/fuzz_http.c" "$root/samples/http/http_parse.c" \
  "$root/samples/http/http_chunked.c" "$root/samples/http/http_serve.c" \
  -o "$out/fuzz_http"

cd "$out"
echo "fuzzing the HTTP parser for $seconds s (findings go to build/fuzz/)"
# new inputs go to the scratch corpus, the first directory; the seeds are read only
exec ./fuzz_http -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
  -dict="$root/test/fuzz/http.dict" -print_final_stats=1 \
  corpus "$root/test/fuzz/corpus"
