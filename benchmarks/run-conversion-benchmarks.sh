#!/usr/bin/env bash
# Builds and runs ConversionBenchmarkHarness (issue 4, performance): for the largest real models
# (Teachable Machine MobileNetV2 SavedModel, nsfwjs MobileNetV2 as TF.js graph model and as Keras
# layers model, MLPerf Tiny Keras ResNet-8 HDF5) it measures side by side, median of the measured
# rounds after warm-up: TensorFlow's own SavedModelBundle.load of the source (SavedModels only),
# our read (ModelReaders.read), the serving export (ServingExporter.export), convert = read +
# export, TF's import of the read GraphDef and TF's load of the exported SavedModel; then heap
# (retained after GC, pool peaks) and peak RSS (VmHWM, reset per phase) of each phase. Prints
# convert / TF load (goal: within 2x). About 2 minutes on 2 cores, build included.
#
#   benchmarks/run-conversion-benchmarks.sh                          # full run
#   benchmarks/run-conversion-benchmarks.sh --runs 3 --warmup 1      # quicker
#   benchmarks/run-conversion-benchmarks.sh --model my=path/to/model.json
#   SKIP_BUILD=1 benchmarks/run-conversion-benchmarks.sh             # reuse the last build
#   PROFILE=1 benchmarks/run-conversion-benchmarks.sh --runs 20      # + JFR recording and hot spots
#
# Extra arguments go to the harness (--help lists them). JSON result:
# benchmarks/target/conversion-benchmark.json; with PROFILE=1 also benchmarks/target/conversion.jfr. JAVA_OPTS overrides the JVM options (default -Xmx4g).
# The nsfwjs models come from scripts/fetch-assets.sh (data-cache/), the others from ../shared.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
module=benchmarks

bench_build "run without SKIP_BUILD=1 first"
bench_machine

jfr_opts=()
if [[ "${PROFILE:-0}" == 1 ]]; then
  jfr_opts=("-XX:StartFlightRecording=filename=$module/target/conversion.jfr,settings=profile")
fi
# TF_CPP_MIN_LOG_LEVEL=2 hides TensorFlow's INFO/WARNING lines on stderr.
TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}" \
  java ${JAVA_OPTS:--Xmx4g} "${jfr_opts[@]}" -cp "$jar" \
  dev.dks.benchmarks.ConversionBenchmarkHarness "$@"

if [[ "${PROFILE:-0}" == 1 ]]; then
  # Hot spots: top frames and top dks frames of the JFR execution samples.
  jfr print --events jdk.ExecutionSample "$module/target/conversion.jfr" | awk '
    /stackTrace = \[/ { inStack = 1; depth = 0; seenDks = 0; next }
    inStack && /^[[:space:]]*\]/ { inStack = 0; next }
    inStack {
      line = $0; sub(/^[[:space:]]+/, "", line); sub(/[[:space:]]+line:.*/, "", line)
      if (line == "...") next
      if (depth == 0) top[line]++
      if (!seenDks && line ~ /^dev\.dks\./) { dks[line]++; seenDks = 1 }
      depth++
    }
    END {
      print "\nJFR hot spots: top frames (self samples)"
      n = 0; for (f in top) { a[n++] = sprintf("%7d  %s", top[f], f) }
      cmd = "sort -rn | head -25"; for (i = 0; i < n; i++) print a[i] | cmd; close(cmd)
      print "\nJFR: innermost dev.dks frame of each sample"
      n = 0; delete a; for (f in dks) { a[n++] = sprintf("%7d  %s", dks[f], f) }
      for (i = 0; i < n; i++) print a[i] | cmd; close(cmd)
    }'
fi
