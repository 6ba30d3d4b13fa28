#!/usr/bin/env bash
# The benchmark suite on a GPU machine in one run; reports under $OUT.
export PYTHONPATH=$PWD
OUT=${OUT:-/tmp/gpu_out}; mkdir -p $OUT
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > $OUT/machine.txt 2>&1
python -c "import jax; print('jax', jax.__version__, jax.devices())" >> $OUT/machine.txt 2>&1
timeout 130 python benchmarks/bench_glm.py --device gpu --repeats 3 --slow-repeats 1 > $OUT/glm_gpu.txt 2>&1; echo "rc=$?" >> $OUT/glm_gpu.txt
timeout 90 python benchmarks/bench_gmm.py --repeats 3 --sk-repeats 1 > $OUT/gmm_gpu.txt 2>&1; echo "rc=$?" >> $OUT/gmm_gpu.txt
timeout 60 python benchmarks/bench_latency.py --repeats 2 > $OUT/latency_gpu.txt 2>&1; echo "rc=$?" >> $OUT/latency_gpu.txt
timeout 200 python benchmarks/bench_chunked.py --skip sklearn --data-dir /tmp/bd > $OUT/chunked_gpu.txt 2>&1; echo "rc=$?" >> $OUT/chunked_gpu.txt
