#!/usr/bin/env bash
# Builds the benchmarks jar and runs RewriteScalingHarness: the DKS/TAT rewrite (DksRewrite, TAT
# defaults) on built graphs of about 1k, 10k and 100k nodes (synthetic residual chains, BN plain
# CNNs and MLPs of width 8) and on BN ResNet-50/101/152/200 (base width 8). Per graph it prints the
# full pipeline time with its verifiers, the time with only the structural verifier ("no-TF"), the
# time TensorFlow takes to import the same GraphDef, per-pass and per-verifier times, all as µs per
# node with the growth from one size to the next (1.0 = linear), in wall and in CPU time. About
# 4 minutes on 2 cores, build included.
#
#   benchmarks/run-rewrite-benchmarks.sh                                # full run
#   benchmarks/run-rewrite-benchmarks.sh --sizes 1000,10000 --families chain,resnet
#   benchmarks/run-rewrite-benchmarks.sh --runs 3 --budget 120         # fewer rounds / less time
#   SKIP_BUILD=1 benchmarks/run-rewrite-benchmarks.sh                   # reuse benchmarks.jar
#
# Extra arguments go to the harness (--help lists them). JSON result:
# benchmarks/target/rewrite-scaling.json. JAVA_OPTS overrides the JVM options (default -Xmx6g);
# e.g. JAVA_OPTS="-Xmx6g -Dorg.bytedeco.javacpp.maxPhysicalBytes=0" shows what JavaCPP's
# per-allocation memory check costs every TensorFlow import.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
bench_build
bench_machine
# TF_CPP_MIN_LOG_LEVEL=1 hides TensorFlow's oneDNN banner on stderr.
TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-1}" \
  java ${JAVA_OPTS:--Xmx6g} -cp "$jar" dev.dks.benchmarks.RewriteScalingHarness "$@"
