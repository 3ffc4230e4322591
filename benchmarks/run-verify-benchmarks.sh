#!/usr/bin/env bash
# Measures `dks verify` on large inputs (issue 12, goals: under 60 s on 2 cores, heap under
# 1 GiB): the TAT rewrite of the Teachable Machine MobileNetV2 (224x224x3, from ../shared/models)
# and the TAT rewrite of a built ResNet-50 v2 with batch norm at Keras' ImageNet shapes
# (`dks build --arch resnet --depth 50 --bn --input 224x224x3 --classes 1000`). Each verify runs
# as its own `./dks` process with -Xmx1g (so finishing proves the heap bound) under
# /usr/bin/time: wall and CPU seconds, peak RSS, and the peak heap in use seen by the GC log (the
# largest "before" size of any collection: a lower bound of the true peak, which -Xmx caps).
# The models are built once into benchmarks/target/verify-models/ (about 2 minutes) and reused.
#
#   benchmarks/run-verify-benchmarks.sh                       # both models, -Xmx1g
#   benchmarks/run-verify-benchmarks.sh --heap 512m           # a tighter heap
#   benchmarks/run-verify-benchmarks.sh --models resnet50     # one model
#   benchmarks/run-verify-benchmarks.sh --json FILE           # JSON elsewhere
#   benchmarks/run-verify-benchmarks.sh --markdown FILE       # the table for BENCHMARKS.md
#
# JSON result: benchmarks/target/verify-benchmark.json ({"results": [one object per model]}).
# The load average is recorded before and after each run: other work on the machine stretches the
# wall time, CPU seconds much less. Needs jq. A model whose source is missing is reported as
# skipped (with the reason), or fails the run when DKS_REQUIRE_SHARED is set.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"

heap=1g
models=mnv2,resnet50
json=benchmarks/target/verify-benchmark.json
markdown=benchmarks/target/verify-benchmark.md
while [[ $# -gt 0 ]]; do
  case "$1" in
    --heap) heap="$2"; shift 2 ;;
    --models) models="$2"; shift 2 ;;
    --json) json="$2"; shift 2 ;;
    --markdown) markdown="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (--help lists them)" >&2; exit 2 ;;
  esac
done
command -v jq >/dev/null || { echo "run-verify-benchmarks.sh needs jq" >&2; exit 1; }

bench_machine
work=benchmarks/target/verify-models
mkdir -p "$work" "$(dirname "$json")"
./dks --version >/dev/null # builds the cli jar when stale, outside the measurements

shared="${DKS_SHARED_MODELS:-}"
if [[ -z "$shared" ]]; then
  for d in "$root/../shared/models" "$root/../../shared/models"; do
    [[ -d "$d" ]] && { shared="$(cd "$d" && pwd)"; break; }
  done
fi

# prepare NAME: makes $work/NAME_tat unless it exists; prints a skip reason and returns 1 when the
# source is missing
prepare() {
  local name="$1" out="$work/$1_tat"
  [[ -d "$out" ]] && return 0
  case "$name" in
    mnv2)
      local src="$shared/tm_mobilenetv2_035_tf115"
      if [[ -z "$shared" || ! -d "$src" ]]; then
        echo "skip mnv2: ${src:-shared/models/tm_mobilenetv2_035_tf115} is missing"
        return 1
      fi
      ./dks rewrite "$src" --out "$out" >/dev/null ;;
    resnet50)
      rm -rf "$work/resnet50"
      ./dks build --arch resnet --depth 50 --bn --input 224x224x3 --classes 1000 \
        --out "$work/resnet50" >/dev/null
      ./dks rewrite "$work/resnet50" --out "$out" >/dev/null ;;
    *) echo "unknown model $name (mnv2, resnet50)" >&2; exit 2 ;;
  esac
}

loadavg() { cut -d' ' -f1 /proc/loadavg; }

rows=()
IFS=, read -r -a names <<<"$models"
for name in "${names[@]}"; do
  if ! reason="$(prepare "$name")"; then
    echo "$reason"
    [[ -n "${DKS_REQUIRE_SHARED:-}" ]] && exit 1
    rows+=("$(jq -n --arg m "$name" --arg r "$reason" '{model: $m, skipped: $r}')")
    continue
  fi
  model="$work/${name}_tat"
  gc="$work/$name-gc.log"
  times="$work/$name-time.txt"
  out="$work/$name-verify.json"
  load0=$(loadavg)
  rc=0
  DKS_JAVA_OPTS="-Xmx$heap -Xlog:gc:file=$gc" /usr/bin/time -f "%e %U %S %M" -o "$times" \
    ./dks verify "$model" --json >"$out" 2>"$work/$name-verify.err" || rc=$?
  load1=$(loadavg)
  read -r wall user sys rss_kb < <(tail -1 "$times")
  peak_mb=$(grep -o '[0-9]*M->' "$gc" | sed 's/M->//' | sort -n | tail -1)
  row="$(jq -n --arg m "$name" --arg path "$model" --arg heap "$heap" --argjson rc "$rc" \
    --argjson wall "$wall" --argjson cpu "$(awk -v a="$user" -v b="$sys" 'BEGIN{print a+b}')" \
    --argjson rss "$((rss_kb / 1024))" --argjson peak "${peak_mb:-null}" \
    --argjson l0 "$load0" --argjson l1 "$load1" --slurpfile v <(cat "$out" 2>/dev/null || true) \
    '{model: $m, path: $path, xmx: $heap, exit: $rc, wallSeconds: $wall, cpuSeconds: $cpu,
      maxRssMb: $rss, peakHeapMb: $peak, loadBefore: $l0, loadAfter: $l1,
      passed: $v[0].passed, maxCError: $v[0].max_c_error, reason: $v[0].reason,
      structureDepth: $v[0].structure_depth, outputs: ($v[0].outputs // [] | length),
      judgedCError: ([$v[0].outputs[]? | select(.checked) | .judged_c_error] | max)}')"
  if [[ $rc -gt 1 ]]; then
    row="$(jq --arg e "$(tail -3 "$work/$name-verify.err")" '. + {error: $e}' <<<"$row")"
  fi
  rows+=("$row")
  printf '%-9s exit %d  wall %6.1f s  CPU %6.1f s  peak heap %5s MB (-Xmx%s)  max RSS %5d MB  load %s -> %s\n' \
    "$name" "$rc" "$wall" "$(jq .cpuSeconds <<<"$row")" "${peak_mb:--}" "$heap" \
    "$((rss_kb / 1024))" "$load0" "$load1"
done
printf '%s\n' "${rows[@]}" | jq -s --argjson cores "$(nproc)" '{cores: $cores, results: .}' \
  >"$json.tmp" && mv "$json.tmp" "$json"
echo "JSON: $json"
# the Markdown table of BENCHMARKS.md's verify section
{
  echo "| model | depth | outputs | verdict | judged c error | wall s | CPU s | peak heap MB | max RSS MB | load before / after | under 60 s | heap under 1 GiB |"
  echo "| --- | ---: | ---: | --- | ---: | ---: | ---: | --- | ---: | --- | --- | --- |"
  jq -r '.results[] | if .skipped then "| \(.model) | - | - | skipped: \(.skipped) | | | | | | | | |" else
    "| \(.model) | \(.structureDepth // "-") | \(.outputs) | \(if .exit == 0 then "pass" elif .exit == 1 then "fail" else "error" end) | \(.judgedCError // "-" | if type == "number" then (. * 10000 | round / 10000) else . end) | \(.wallSeconds) | \(.cpuSeconds) | \(.peakHeapMb // "-") (-Xmx\(.xmx)) | \(.maxRssMb) | \(.loadBefore) / \(.loadAfter) | \(if .wallSeconds < 60 then "yes" else "**no**" end) | \(if .exit <= 1 then "yes" else "**no**" end) |" end' "$json"
} >"$markdown.tmp" && mv "$markdown.tmp" "$markdown"
cat "$markdown"
echo "Markdown: $markdown"
