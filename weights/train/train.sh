#!/bin/sh
# Start or resume the default-model training in the background (niced, both cores).
# Resumes automatically from work/ckpt/last.pt when it exists (a stop loses <= 10 min).
# Usage: weights/train/train.sh [STOP_UTC]     (default 2026-11-25T21:57:00Z)
# Env: LR, WARMUP, BATCH override the recipe defaults (keep them equal across resumes);
# NEW_CYCLE=1 opens a second LR cycle on resume (warm-up, decay to 0 at STOP_UTC).
set -e
cd "$(dirname "$0")"
STOP_UTC="${1:-2026-11-25T21:57:00Z}"
PY=/usr/bin/python3
# Under CPU contention spinning OpenMP/OpenBLAS threads waste half the CPU: wait passively.
export OMP_WAIT_POLICY=PASSIVE OPENBLAS_THREAD_TIMEOUT=4
mkdir -p work
if [ -f work/train.pid ] && kill -0 "$(cat work/train.pid)" 2>/dev/null; then
    echo "already running: pid $(cat work/train.pid)"; exit 1
fi
nohup nice -n 10 sh -c "
  $PY train.py --stop-utc $STOP_UTC --lr ${LR:-1e-3} --warmup ${WARMUP:-200} --batch ${BATCH:-32} ${NEW_CYCLE:+--new-cycle} \
  && $PY evaluate.py --hf work/hf --n-seq 1000 --write-sample > work/final_eval.log 2>&1
" >> work/train.log 2>&1 &
echo $! > work/train.pid
echo "started pid $(cat work/train.pid); log: $(pwd)/work/train.log; stops at $STOP_UTC"
