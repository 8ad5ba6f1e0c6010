#!/usr/bin/env bash
# Lints the SAM template and the test events. Usage: bash infra/lint.sh VENV
# VENV holds cfn-lint and cfn-lint-serverless (.ci/requirements.txt pins both). cfn-lint 1.x checks
# SAM resources against SAM's schemas without running the SAM transform; `sam validate --lint` also
# runs the transform itself, so it runs too when VENV has the SAM CLI (a large install, not in the
# CI requirements).
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: bash infra/lint.sh VENV   (a Python venv with cfn-lint and cfn-lint-serverless)" >&2
  exit 2
fi
venv=$(cd "$1" && pwd)
if [ ! -x "$venv/bin/cfn-lint" ]; then
  echo "no cfn-lint in $venv: install .ci/requirements.txt into it (bash .ci/test does)" >&2
  exit 2
fi
cd "$(dirname "$0")/.."

echo "==> cfn-lint infra/template.yaml"
"$venv/bin/cfn-lint" infra/template.yaml

# `--` ends --append-rules, which otherwise takes the template path for a second rules module.
echo "==> cfn-lint with the serverless rules (cfn_lint_serverless)"
"$venv/bin/cfn-lint" --append-rules cfn_lint_serverless.rules -- infra/template.yaml

echo "==> project checks (queue sizing, schedules, environment, events/)"
"$venv/bin/python" infra/check_template.py

if [ -x "$venv/bin/sam" ]; then
  echo "==> sam validate --lint"
  # No credentials needed; the region only satisfies the CLI.
  SAM_CLI_TELEMETRY=0 "$venv/bin/sam" validate --lint -t infra/template.yaml --region us-east-1
else
  echo "==> sam validate skipped: no SAM CLI in $venv (pip install aws-sam-cli==1.170.0 to run it)"
fi
echo "==> infra lint clean"
