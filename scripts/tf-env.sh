# Sourced by ./dks, scripts/gpu-check.sh and benchmarks/bench-common.sh before they start a JVM
# that runs TensorFlow: environment TensorFlow's natives read once, at load, so it cannot be set
# from inside the JVM.
#
# ONEDNN_MAX_CPU_ISA=AVX2: on AVX-512 CPUs (measured on a 2-core AMD EPYC with avx512f/bw/vl/
# vnni/bf16) the oneDNN kernels bundled with TF Java 1.1.0 (TF 2.18) corrupt the heap in the first
# training step of small convolutional nets (a ResNet-18 of width 4 at 16x16: "malloc(): unaligned
# fastbin chunk detected", "corrupted size vs. prev_size", SIGSEGV in libc); capped at AVX2
# (or with TF_ENABLE_ONEDNN_OPTS=0) the same step runs. The cap also keeps results the same on
# AVX2-only and AVX-512 machines. A value exported by the caller wins.
#
# oneDNN stays on (TF_ENABLE_ONEDNN_OPTS unset): on a 2-core Intel Xeon with AVX-512, capped at
# AVX2 it computes the trainers' ops and gradients within 1e-5 of float64 (as TF's own kernels)
# and a step costs about 2.5x less CPU than TF's own kernels (TF_ENABLE_ONEDNN_OPTS=0);
# BENCHMARKS.md, "oneDNN". TfEnvKernelsTest checks that a JVM started from this environment
# dispatches to AVX2 and agrees.
export ONEDNN_MAX_CPU_ISA="${ONEDNN_MAX_CPU_ISA:-AVX2}"
