"""Shared by the tools/ scripts: open an xyzmf HDF5 file and pick a state in it, with one-line errors."""
import sys

import h5py


def open_xyzmf(path, prog, group="parameters", what="an xyzmf file"):
    """The open file, or exit with `prog: path: why` if it is unreadable, foreign or lacks `group`."""
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        sys.exit(f"{prog}: {path}: cannot open as HDF5 ({e})")
    if f.attrs.get("schema") != "xyzmf" or (group and group not in f):
        sys.exit(f"{prog}: {path}: not {what}")
    return f


def write_report(path, lines):
    """Writes a Markdown report (a list of lines) to path and echoes it."""
    text = "\n".join(lines)
    with open(path, "w") as f:
        f.write(text)
    print(text)


def pick_state(f, path, prog, snapshot=None):
    """Group name of snapshot N if given, else /final, else the last snapshot."""
    if snapshot is not None:
        name = f"/snapshots/{snapshot:06d}"
        if name not in f:
            sys.exit(f"{prog}: {path}: no snapshot {snapshot} (have {list(f.get('snapshots', []))})")
        return name
    if "final" in f:
        return "/final"
    snaps = sorted(f["snapshots"]) if "snapshots" in f else []
    if not snaps:
        sys.exit(f"{prog}: {path}: no final state and no snapshots")
    return f"/snapshots/{snaps[-1]}"
