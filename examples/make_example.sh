#!/usr/bin/env bash
# Regenerates the shipped example: a run of the bundled trainer on the tiny config (about two minutes on
# two CPU cores), without its checkpoints, and the reports vae-report makes from it.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf examples/tiny_run examples/report
vae-report train trainer/configs/tiny.yaml --out examples/tiny_run
rm -rf examples/tiny_run/checkpoints
vae-report analyze examples/tiny_run --out examples/report/report.md --json examples/report/summary.json
vae-report analyze examples/tiny_run --out examples/report/report.html --quiet
