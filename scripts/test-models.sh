#!/usr/bin/env bash
# Runs the model tests (engine, eval_cli, summarize_e2e) once per catalog model.
#
#   ISG_TEST_MODELS=all scripts/test-models.sh            # every catalog model
#   ISG_TEST_MODELS=qwen2.5-coder-1.5b scripts/test-models.sh
#
# Each model is set up with `isg setup --model NAME` (the path `cargo test` uses for the default
# model), then the tests run with ISG_TEST_MODEL=NAME. Prints the wall time per model and exits
# non-zero when any model's tests failed.
set -euo pipefail
cd "$(dirname "$0")/.."

wanted="${ISG_TEST_MODELS:-all}"
cargo build --quiet
if [ "$wanted" = all ]; then
    models=$(./target/debug/isg models --json | python3 -c 'import json,sys; print(" ".join(m["name"] for m in json.load(sys.stdin)))')
else
    models=${wanted//,/ }
fi
tests=(--test model --test pipeline -- engine:: eval_cli:: summarize_e2e::)
cargo test --no-run --quiet "${tests[@]}"

failed=()
summary=()
for m in $models; do
    echo "== $m"
    ./target/debug/isg setup --model "$m"
    start=$(date +%s)
    if ISG_TEST_MODEL="$m" cargo test --quiet "${tests[@]}"; then
        status=ok
    else
        status=FAILED
        failed+=("$m")
    fi
    summary+=("$m: $status in $(( $(date +%s) - start )) s")
done
printf '%s\n' "${summary[@]}"
[ ${#failed[@]} -eq 0 ]
