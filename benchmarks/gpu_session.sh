#!/usr/bin/env bash
# GPU checks in one run: card, bootstrap B=100k, logistic benchmark, tests of
# streamed sources, float32, stochastic fitting, data boundaries and closed
# forms. Results under $OUT.
export PYTHONPATH=$PWD
OUT=${OUT:-/tmp/gpu_out}; mkdir -p $OUT
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv;
  python -c "import jax, numpy; print('jax', jax.__version__, jax.devices(), 'numpy', numpy.__version__)";
  python -c "import statsmodels, sklearn; print('statsmodels', statsmodels.__version__, 'sklearn', sklearn.__version__)";
  python -c "import pyarrow; print('pyarrow', pyarrow.__version__)"; nproc; } > $OUT/machine.txt 2>&1
timeout 170 python benchmarks/bench_bootstrap_gpu.py --repeats 2 > $OUT/bootstrap_gpu.txt 2>&1
echo "rc=$?" >> $OUT/bootstrap_gpu.txt
timeout 130 python benchmarks/bench_logistic.py --device gpu --repeats 3 --cold-repeats 1 > $OUT/logistic_gpu.txt 2>&1
echo "rc=$?" >> $OUT/logistic_gpu.txt
timeout 110 python -m pytest -q -x -p no:cacheprovider tests/data/test_sources.py tests/properties/test_float32.py tests/engine/test_stochastic.py tests/data/test_data_boundary.py tests/properties/test_closed_forms.py > $OUT/tests_gpu.txt 2>&1
echo "rc=$?" >> $OUT/tests_gpu.txt
