#!/bin/sh
# train_gpu.sh — train_gpu.py on a CUDA machine (the project's lent GPU: its image has torch and
# numpy; nothing to install). Needs weights/train/work/data/ (prepare_data.py's output) next to it.
# Results in $OUT/gpu/ (state.safetensors split into 15 MB parts: the device tool returns files of
# at most 16 MB); put them back with `cat state.part* > state.safetensors` and import_gpu.py.
#   OUT=DIR MINUTES=7 weights/train/train_gpu.sh
set -eu
cd "$(dirname "$0")"
OUT=${OUT:?set OUT}
mkdir -p "$OUT/gpu"
nvidia-smi -L
python3 -c "import torch, numpy; print('torch', torch.__version__, 'numpy', numpy.__version__, 'cuda', torch.cuda.is_available())"
PYTHONUNBUFFERED=1 python3 train_gpu.py --minutes "${MINUTES:-7}" --out "$OUT/gpu" 2>&1 | tee "$OUT/train_gpu.log"
cd "$OUT/gpu"
split -b 15000000 -d state.safetensors state.part
rm state.safetensors
ls -l
