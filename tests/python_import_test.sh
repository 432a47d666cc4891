#!/usr/bin/env bash
# `import xyzmf` works in Debian's python3 from any directory, with no PYTHONPATH,
# and finds this build's package: what tools/build.sh (the README's set-up
# command) promises. A build made by hand (cmake without tools/build.sh) has no
# .pth file naming it, and fails here on purpose.
#   tests/python_import_test.sh PYTHON BUILD_PYTHON_DIR
set -euo pipefail
py=$1
want=$(realpath "$2")
cd /
got=$(env -u PYTHONPATH "$py" -c 'import os, xyzmf; xyzmf.help_text("run"); print(os.path.dirname(os.path.dirname(os.path.realpath(xyzmf.__file__))))') || {
    echo "python_import_test: 'import xyzmf' fails from / (run tools/build.sh, which writes the .pth file)" >&2; exit 1; }
[[ $got == "$want" ]] || { echo "python_import_test: xyzmf imports from $got, not from this build ($want)" >&2; exit 1; }
echo "python_import_test: /usr/bin/python3 imports xyzmf (compiled module included) from $got"
