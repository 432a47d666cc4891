#!/usr/bin/env bash
# Executes a notebook of examples/ from top to bottom with nbconvert (Debian's
# jupyter-nbconvert and python3-ipykernel), in a scratch directory, as a user
# would run it; any cell that raises fails the test.
#   tests/notebook_test.sh NOTEBOOK.ipynb
set -euo pipefail
nb=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$nb" "$work/"
cd "$work"
jupyter-nbconvert --to notebook --execute --ExecutePreprocessor.timeout=540 --output executed.ipynb "$(basename "$nb")" 2>&1 | tail -5
test -s executed.ipynb
echo "notebook_test: $(basename "$nb") ran; $(grep -c '"output_type": "error"' executed.ipynb || true) error outputs"
