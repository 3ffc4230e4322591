#!/usr/bin/env bash
# Builds the benchmarks jar and runs CorpusLinearityHarness (issue 18 goal: "rewrite time stays
# linear: the largest corpus graph in under 2 s on 2 cores"): `dks rewrite` with its defaults on
# every corpus model in one JVM, warm (after one untimed rewrite of each), and prints by node count
# the CPU ms of the rewriting thread and of the process (GC, JIT, dks-init's fork-join sampling and
# the rest by thread kind), a least-squares line and power-law exponent of CPU time against nodes,
# and the CPU share of every pass and verifier on the largest graph. CPU times, because the wall
# time of a shared machine is mostly waiting. About 2 minutes of CPU (more wall on a loaded machine).
# Needs the corpus (scripts/fetch-assets.sh --corpus).
#
#   benchmarks/run-corpus-linearity.sh
#   benchmarks/run-corpus-linearity.sh --models facemesh-attention,blazepose-heavy --rounds 5
#   SKIP_BUILD=1 benchmarks/run-corpus-linearity.sh
#
# TF_ENABLE_ONEDNN_OPTS=0 unless set (bench_corpus_java in bench-common.sh says why).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
bench_build
bench_machine
bench_corpus_java dev.dks.benchmarks.CorpusLinearityHarness "$@"
