#!/usr/bin/env bash
# The package installed by pip into a venv (python3-venv) whose interpreter is not
# /usr/bin/python3: `pip install --no-build-isolation --no-index .` builds through
# setup.py's CMake (here reusing this build, whose module is already built), and
# the installed package runs a command and says its version.
#   tests/venv_install_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "venv_install_test: FAIL: $*" >&2; exit 1; }
/usr/bin/python3 -m venv --system-site-packages "$work/venv" || fail "python3 -m venv (install python3-venv)"
py=$work/venv/bin/python
(cd "$src" && XYZMF_BUILD_DIR=$build "$py" -m pip install --no-build-isolation --no-index --quiet .) >"$work/pip.txt" 2>&1 ||
    fail "pip install: $(tail -5 "$work/pip.txt")"
cd "$work"
want=$("$build/xyzmf" --version | sed 's/^xyzmf //')
"$py" - "$work/venv" "$want" <<'PY' || fail "the installed package"
import os, sys
import xyzmf
venv, want = sys.argv[1], sys.argv[2]
assert os.path.realpath(sys.executable) != "/usr/bin/python3" or sys.prefix != sys.base_prefix
assert xyzmf.__file__.startswith(venv), xyzmf.__file__  # the installed copy, not the build tree
assert want.startswith(xyzmf.__version__.split(" ")[0]), (xyzmf.__version__, want)
ds = xyzmf.run(size=8, t_end=0.5, Jx=1, Jy=-1)
assert ds.attrs["status"] == "finished: reached t_end" and ds.final_spins.shape == (8, 8, 3)
print(f"venv_install_test: xyzmf {xyzmf.__version__} from {xyzmf.__file__} on {sys.executable}")
PY
