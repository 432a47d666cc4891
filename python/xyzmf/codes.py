"""The integer codes of stability maps and sweeps, and their names.

`xyzmf stability` stores the predicted phase of every grid point as an integer (/map/phase) and
`xyzmf sweep` the phase the dynamics formed, the order of the dominant peak and the verdict
against the prediction (/sweep/phase, order, agree, predicted). The files carry the same tables
as text attributes (phase_codes, order_codes, agree_codes, docs/hdf5-layout.md); the constants
below are those tables, kept in one place so every tool names a code alike.
"""
import re

PHASE_NAMES = {-1: "not done", 0: "PM", 1: "FM", 2: "AFM", 3: "SDW", 4: "sXY", 5: "domains",
               6: "not stationary", 7: "blow-up", 8: "FM/AFM"}
"""Phase codes of /map/phase, /sweep/phase and /sweep/predicted. 8 (FM/AFM) occurs only in a
prediction: k = 0 and k = pi grow equally, the first-order line Jx = -Jy."""

ORDER_NAMES = {-1: "not done", 0: "none", 1: "FM", 2: "AFM", 3: "SDW", 4: "sXY", 7: "blow-up"}
"""Codes of /sweep/order: the order the dominant structure-factor peak belongs to."""

AGREE_NAMES = {-1: "not done", 0: "disagree", 1: "agree", 2: "agree as domains of the predicted order",
               3: "blew up"}
"""Codes of /sweep/agree: how the dynamics compare with linear stability."""

PHASE_CODES = {name: code for code, name in PHASE_NAMES.items()}
"""Name -> code, e.g. PHASE_CODES["SDW"] == 3."""


def parse_codes(text):
    """A code table as the files write it, "-1 not done, 0 PM, ..., 8 FM/AFM (predicted only: ...)",
    as a dict {-1: "not done", 0: "PM", ..., 8: "FM/AFM"}; a note in parentheses after a name is dropped."""
    table = {}
    for entry in re.split(r",\s*(?=-?\d+\s)", text.strip()):
        code, name = entry.split(None, 1)
        table[int(code)] = re.sub(r"\s*\(.*\)\s*$", "", name).strip()
    return table
