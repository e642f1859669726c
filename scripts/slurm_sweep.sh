#!/bin/bash
# One shard of a sweep per SLURM array task:   sbatch scripts/slurm_sweep.sh
#   PRESET=cpu sbatch --array=0-1 scripts/slurm_sweep.sh --epochs 30     (other preset, extra sweep options)
# All shards write into one results folder (data/results/<preset>; a lock keeps every configuration's
# commit whole) and share checkpoints/ (a shard that needs a checkpoint another shard is training waits
# for it). Resubmit the same array to resume: committed configurations are skipped.
#SBATCH --job-name=sgn-sweep
#SBATCH --array=0-3
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=8
#SBATCH --time=24:00:00
#SBATCH --output=slurm-%A_%a.log
set -euo pipefail
cd "${SLURM_SUBMIT_DIR:-$(dirname "$0")/..}"
exec "${PYTHON:-python}" -m sgnlib.sweep --preset "${PRESET:-paper-recipe}" --runner inprocess \
    --shard "${SLURM_ARRAY_TASK_ID}/${SLURM_ARRAY_TASK_COUNT}" "$@"
