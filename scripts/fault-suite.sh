#!/usr/bin/env bash
# The fault suite at a size larger than CI's, with its figures: SIGKILL at N random moments of
# real runs of the `isg` binary (default 200) plus every crash point, a kill during compaction,
# two runs on one output folder, a full disk (RLIMIT_FSIZE), a read-only and a deleted output
# folder, source files changed during a run, and damaged caches. The stand-in model
# (ISG_TEST_BACKEND=echo) answers; the files are real.
#
# Usage: scripts/fault-suite.sh [KILLS] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
export ISG_FAULT_KILLS="${1:-200}"
[ -z "${2:-}" ] || export ISG_FAULT_SEED="$2"
nice -n 10 cargo test --test pipeline -- faults_runs:: --test-threads 1 --nocapture 2>&1 |
  grep -E "^(uninterrupted run|kills survived|test |test result)|panicked|ISG_FAULT"
