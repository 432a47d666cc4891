#!/usr/bin/env bash
# Executes a notebook of examples/ from top to bottom with nbconvert (Debian's
# jupyter-nbconvert and python3-ipykernel), in a scratch directory, as a user
# would run it; any cell that raises fails the test.
# With a second argument, an extended regular expression that some stderr output of
# the executed notebook must match (what a user sees below a cell).
#   tests/notebook_test.sh NOTEBOOK.ipynb [STDERR_REGEX]
set -euo pipefail
nb=$(realpath "$1")
want_stderr=${2:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$nb" "$work/"
cd "$work"
jupyter-nbconvert --to notebook --execute --ExecutePreprocessor.timeout=540 --output executed.ipynb "$(basename "$nb")" 2>&1 | tail -5
test -s executed.ipynb
echo "notebook_test: $(basename "$nb") ran; $(grep -c '"output_type": "error"' executed.ipynb || true) error outputs"
if [[ -n $want_stderr ]]; then
    /usr/bin/python3 - executed.ipynb "$want_stderr" <<'PY' || { echo "notebook_test: no stderr output matching '$want_stderr'" >&2; exit 1; }
import json, re, sys
nb = json.load(open(sys.argv[1]))
text = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", [])
               if o.get("output_type") == "stream" and o.get("name") == "stderr")
sys.exit(0 if re.search(sys.argv[2], text) else 1)
PY
    echo "notebook_test: stderr shows '$want_stderr'"
fi
