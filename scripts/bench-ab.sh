#!/usr/bin/env bash
# Interleaved A/B of two edgeformer-bench binaries (two builds) on one model: ROUNDS rounds of
# (A, B) x (1 thread, 2 threads), each a bench run of REPS timed repetitions, optionally beside a
# busy process (LOAD=1). On a noisy shared VM only interleaved runs compare fairly. Prints each
# run, then the median over the rounds per build and thread count.
#
# Usage: ROUNDS=6 REPS=5 LOAD=0 bash scripts/bench-ab.sh A_BENCH B_BENCH MODEL [bench options...]
#   default bench options: -p 0 -n 64 (decode). Example:
#   bash scripts/bench-ab.sh /tmp/old/build/tools/edgeformer-bench build/tools/edgeformer-bench S-int8.edgf
set -euo pipefail
a=$1 b=$2 model=$3
shift 3
opts=("$@")
((${#opts[@]})) || opts=(-p 0 -n 64)
rounds=${ROUNDS:-6}
reps=${REPS:-5}
busy=""
if [[ ${LOAD:-0} == 1 ]]; then
  python3 -c "while True: pass" >/dev/null 2>&1 &
  busy=$!
  trap 'kill $busy' EXIT
fi
out=$(mktemp)
for ((i = 0; i < rounds; ++i)); do
  for build in A B; do
    bin=$a
    [[ $build == B ]] && bin=$b
    for t in 1 2; do
      "$bin" "$model" "${opts[@]}" -t "$t" -r "$reps" --read-buffer-mib 16 -o json 2>/dev/null |
        python3 -c "
import json, sys
for line in sys.stdin:
    j = json.loads(line)  # builds before the median was reported give the mean
    print('$build', $t, j['test'], round(j.get('tokens_per_s_median', j['tokens_per_s_mean']), 1), j.get('active_threads', '-'))
" | tee -a "$out"
    done
  done
done
python3 - "$out" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    build, threads, test, rate, _ = line.split()
    runs[(test, build, int(threads))].append(float(rate))
for key in sorted(runs):
    print("median %s build %s, %d thread(s): %.1f tok/s over %d runs" % (key[0], key[1], key[2], statistics.median(runs[key]), len(runs[key])))
PY
rm -f "$out"
