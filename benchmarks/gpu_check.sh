#!/usr/bin/env bash
# The GPU checks of the kernels, in one run on a machine with an NVIDIA GPU and CuPy (about 5 minutes on an H100):
# the gpu tests, the CUDA-graph training step beside PyTorch's, and the kernel benchmark. Logs and figures go to
# $OUT (default benchmarks/results/gpu_run); copy the JSON into benchmarks/results/ with the GPU's name.
#
#     OUT=/some/dir bash benchmarks/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-benchmarks/results/gpu_run}"
mkdir -p "$OUT"
status=0
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$OUT/gpu.txt" 2>&1 || true
python -m pytest -q -p no:cacheprovider -m gpu 2>&1 | tee "$OUT/gpu_tests.log" || status=1
python benchmarks/cuda_graph_step.py --out "$OUT" 2>&1 | tee "$OUT/cuda_graph_step.log" || status=1
python -m kernels.bench --out "$OUT/kernels_bench.json" 2>&1 | tee "$OUT/kernels_bench.txt" || status=1
exit $status
