"""xyzmf from Python: the same engine and files as the `xyzmf` command.

    import xyzmf
    data = xyzmf.run("run.h5", size=64, Jx=0.9, Jy=1.0, Jz=1.0, t_end=100, seed=1)
    again = xyzmf.load("run.h5")  # the same file, read back later

(Without an output path a command writes a temporary file, returns what it
holds and removes it.)

Every function that computes (run, analyze, stability, sweep, gaussian, quantum, dtwa,
merge, export) hands its keyword arguments to the command-line parser of the
`xyzmf` program built into this module, so the defaults, the validation and the
one-line error messages are the command's own. Reading files (load and the
helpers of xyzmf.files) needs only numpy and h5py.
"""

from .commands import Error, analyze, dtwa, export, gaussian, help, help_text, merge, quantum, run, stability, sweep  # noqa: F401
from . import codes, fields, files  # noqa: F401  (pure Python; they work without the compiled module)
from .files import load, netcdf_form  # noqa: F401
from .pictures import picture  # noqa: F401
from .errors import BlowUpError, FileError, OptionError, UsageError  # noqa: F401

__all__ = ["Error", "OptionError", "UsageError", "FileError", "BlowUpError", "run", "analyze", "stability", "gaussian", "quantum", "dtwa", "sweep", "merge", "export", "help", "help_text", "load", "netcdf_form", "picture", "FileError", "files", "fields", "codes"]


def __getattr__(name):
    # The version of the compiled module, read only when asked for, so that a
    # checkout without a build can still read files.
    if name == "__version__":
        from . import _core

        return f"{_core.version} (git {_core.git_revision})"
    raise AttributeError(f"module 'xyzmf' has no attribute {name!r}")
