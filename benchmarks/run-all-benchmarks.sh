#!/usr/bin/env bash
# Runs every benchmark suite in sequence and writes the report (issue 7): the machine (CPU,
# cores, memory, OS, Java and TensorFlow versions), the date, a summary and per suite a Markdown
# table of the ratios it measured side by side:
#   solver       run-solver-benchmarks.sh     DKS/TAT solve time per activation (JMH)
#   rewrite      run-rewrite-benchmarks.sh    rewrite time vs graph size, ratio to TF's import
#   conversion   run-conversion-benchmarks.sh convert vs TF's SavedModel load
#   training     run-training-benchmarks.sh   Java overhead vs TF kernel time, GFLOP/s vs MatMul
#   kfac         run-kfac-benchmarks.sh       K-FAC vs SGD step time
#   verify       run-verify-benchmarks.sh     dks verify time and heap, MobileNetV2 / ResNet-50
#   time-to-accuracy run-time-to-accuracy.sh  plain TAT + K-FAC defaults vs BN-ResNet + SGD, on the clock
#   convergence  run-kfac-convergence.sh      the headline K-FAC vs SGD convergence table + plot
#
#   benchmarks/run-all-benchmarks.sh                  # full settings: ~35 min on 2 cores
#   benchmarks/run-all-benchmarks.sh --quick          # small settings: ~8 min on 2 cores
#   benchmarks/run-all-benchmarks.sh --out /tmp/B.md  # report elsewhere (default BENCHMARKS.md)
#   benchmarks/run-all-benchmarks.sh --suites kfac,convergence   # only some suites
#   SKIP_BUILD=1 benchmarks/run-all-benchmarks.sh     # reuse benchmarks/target/benchmarks.jar
#
# Full = each script's defaults (their own estimates: solver ~3 min, rewrite ~4, conversion ~2,
# training ~2, K-FAC step time ~5, verify ~2 (+2 to build its models once), convergence ~15;
# plus one build). The verify suite runs the same in both modes. --quick = each script's
# quick/small settings: JMH 2 warm-up + 3 measured iterations of 0.5/0.3 s, rewrite graphs of
# 1k and 10k nodes without the ResNets, 1 warm-up + 3 conversion rounds, QUICK=1 for the
# training and K-FAC step-time suites, and a 100-step convergence run (the length of its tuning pass).
#
# A suite that fails (non-zero exit or no JSON result) gets a "failed" section with the end of its
# output, and the next suite still runs. Per suite the output goes to the terminal and to
# benchmarks/target/bench-report/SUITE.log; the JSON results go to that folder too (the solver's
# JMH result stays at benchmarks/target/solver-bench.json), collected one line per suite in
# benchmarks/target/bench-report/results.jsonl. dev.dks.benchmarks.BenchmarkReport writes the
# Markdown to a temporary file and renames it onto --out, and copies the convergence plot to
# docs/benchmarks/kfac-convergence.png next to the report, which links it.
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"

quick=0
out=BENCHMARKS.md
suites=solver,rewrite,conversion,training,kfac,verify,time-to-accuracy,convergence
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --out) out="$2"; shift 2 ;;
    --suites) suites="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (--help lists them)" >&2; exit 2 ;;
  esac
done

work=benchmarks/target/bench-report
mkdir -p "$work"
bench_build || exit 1
# the load and what else was busy (the report shows both, at the start and at the end): other
# work on the machine skews every absolute number
load_now() {
  local busy
  busy="$(ps -eo pcpu=,args= --sort=-pcpu | awk '$1 > 20 {
    name = $2; sub(/.*\//, "", name)
    for (i = 2; i < NF; i++)
      if ($i == "-jar") { jar = $(i + 1); sub(/.*\//, "", jar); name = name " -jar " jar }
    for (i = 2; i <= NF; i++) if ($i ~ /^dev\.dks\./) name = name " " $i
    printf "%s%s (%.0f%% CPU)", sep, name, $1; sep = ", " }')"
  echo "$(cut -d' ' -f1-3 /proc/loadavg)${busy:+ (busy: $busy)}"
}
load="at start $(load_now)"
began=$(date +%s)
bench_machine

report_args=()

# run_suite ID JSON [ENV=VALUE...] -- COMMAND...: runs one suite with SKIP_BUILD=1, output to the
# terminal and to $work/ID.log, and adds its outcome to report_args.
run_suite() {
  local id="$1" json="$2"; shift 2
  local envs=()
  while [[ "$1" != -- ]]; do envs+=("$1"); shift; done
  shift
  local log="$work/$id.log"
  rm -f "$json"
  echo
  echo "=== $id: ${envs[*]}${envs[*]:+ }$* ($(date +%H:%M:%S))"
  local t0 rc
  t0=$(date +%s.%N)
  env SKIP_BUILD=1 "${envs[@]}" "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  local secs status=ok
  secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  [[ $rc -eq 0 && -s "$json" ]] || status=failed
  echo "=== $id: $status (exit $rc) after ${secs%.*} s"
  report_args+=(--suite "$id" --status "$status" --exit "$rc" --seconds "$secs" --json "$json"
    --log "$log" --run "${envs[*]}${envs[*]:+ }$*")
}

want() { [[ ",$suites," == *",$1,"* ]]; }

if [[ $quick == 1 ]]; then
  want solver && run_suite solver benchmarks/target/solver-bench.json -- \
    benchmarks/run-solver-benchmarks.sh -wi 2 -w 500ms -i 3 -r 300ms
  want rewrite && run_suite rewrite "$work/rewrite-scaling.json" -- \
    benchmarks/run-rewrite-benchmarks.sh --sizes 1000,10000 --families chain,plain-cnn,mlp \
    --runs 3 --budget 40 --json "$work/rewrite-scaling.json"
  want conversion && run_suite conversion "$work/conversion-benchmark.json" -- \
    benchmarks/run-conversion-benchmarks.sh --runs 3 --warmup 1 \
    --json "$work/conversion-benchmark.json"
  want training && run_suite training "$work/training-throughput.json" QUICK=1 -- \
    benchmarks/run-training-benchmarks.sh --json "$work/training-throughput.json"
  want kfac && run_suite kfac "$work/kfac-step-time.json" QUICK=1 -- \
    benchmarks/run-kfac-benchmarks.sh --json "$work/kfac-step-time.json"
  want verify && run_suite verify "$work/verify-benchmark.json" -- \
    benchmarks/run-verify-benchmarks.sh --json "$work/verify-benchmark.json"
  # before convergence: the convergence plot goes with the last --suite
  want time-to-accuracy && run_suite time-to-accuracy "$work/time-to-accuracy/summary.json" \
    STEPS=100 EVAL_EVERY=25 EVAL_EXAMPLES=2000 -- \
    benchmarks/run-time-to-accuracy.sh --out "$work/time-to-accuracy"
  want convergence && run_suite convergence "$work/kfac-convergence/summary.json" STEPS=100 -- \
    benchmarks/run-kfac-convergence.sh --eval-every 50 --eval-examples 1000 \
    --out "$work/kfac-convergence"
else
  want solver && run_suite solver benchmarks/target/solver-bench.json -- \
    benchmarks/run-solver-benchmarks.sh
  want rewrite && run_suite rewrite "$work/rewrite-scaling.json" -- \
    benchmarks/run-rewrite-benchmarks.sh --json "$work/rewrite-scaling.json"
  want conversion && run_suite conversion "$work/conversion-benchmark.json" -- \
    benchmarks/run-conversion-benchmarks.sh --json "$work/conversion-benchmark.json"
  want training && run_suite training "$work/training-throughput.json" -- \
    benchmarks/run-training-benchmarks.sh --json "$work/training-throughput.json"
  want kfac && run_suite kfac "$work/kfac-step-time.json" -- \
    benchmarks/run-kfac-benchmarks.sh --json "$work/kfac-step-time.json"
  want verify && run_suite verify "$work/verify-benchmark.json" -- \
    benchmarks/run-verify-benchmarks.sh --json "$work/verify-benchmark.json"
  want time-to-accuracy && run_suite time-to-accuracy "$work/time-to-accuracy/summary.json" -- \
    benchmarks/run-time-to-accuracy.sh --out "$work/time-to-accuracy"
  want convergence && run_suite convergence "$work/kfac-convergence/summary.json" -- \
    benchmarks/run-kfac-convergence.sh --out "$work/kfac-convergence"
fi

# the convergence plot: where the harness says it wrote it
# (the last suite, so --plot goes with its --suite)
plot=""
want convergence && plot="$(sed -n 's/^plot: \([^;]*\);.*/\1/p' "$work/convergence.log" | tail -1)"
if [[ -n "$plot" && -f "$plot" ]]; then
  report_args+=(--plot "$plot")
fi

load="$load; at end $(load_now)"
cmd="benchmarks/run-all-benchmarks.sh"
[[ $quick == 1 ]] && cmd="$cmd --quick"
all=solver,rewrite,conversion,training,kfac,verify,time-to-accuracy,convergence
[[ "$suites" != "$all" ]] && cmd="$cmd --suites $suites"
echo
java -cp "$jar" dev.dks.benchmarks.BenchmarkReport --out "$out" \
  --mode "$([[ $quick == 1 ]] && echo quick || echo full)" --command "$cmd" --load "$load" \
  --jsonl "$work/results.jsonl" "${report_args[@]}" || exit 1
echo "all suites: $(( $(date +%s) - began )) s; JSON lines: $work/results.jsonl"
