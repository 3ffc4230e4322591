#!/usr/bin/env bash
# Runs VerifySweep (issue 12: `dks verify MODEL` with no flags passes on every shaped model the
# tool writes): builds MLPs, plain CNNs and ResNets (v2/v1, depths 18/34/50; default width and
# 16; TAT leaky_relu, DKS tanh/softplus/...; shortcut weights 0/0.5/0.8; BN models rewritten
# with defaults), verifies each with no flags and prints a table (model, verdict, c and q
# errors, tolerances, draws x pairs, c standard error, CPU s of the verify). The models are
# built once into benchmarks/target/verify-sweep/ and reused. About 15 minutes of CPU.
#
#   benchmarks/run-verify-sweep.sh                                   # all models
#   benchmarks/run-verify-sweep.sh --only 'resnet18_w16'             # names matching a regex
#   benchmarks/run-verify-sweep.sh --only tanh --verify "--draws 96 --pairs 768"   # noise or bias?
#   benchmarks/run-verify-sweep.sh --markdown FILE                   # the table into FILE
#   SKIP_BUILD=1 benchmarks/run-verify-sweep.sh                      # reuse the last build
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"

bench_build "run without SKIP_BUILD=1 first"
bench_machine

TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}" \
  java ${JAVA_OPTS:--Xmx2g} -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -cp "$jar" \
  dev.dks.benchmarks.VerifySweep "$@"
