"""Pictures of runs made by ParaView without a display: picture() runs the
renderer beside this file (paraview_render.py) under pvbatch and a virtual X
server (Debian's python3-paraview, xvfb and xauth)."""
import os
import shutil
import subprocess

from .errors import Error, FileError


def picture(xdmf, png, *, time=None, size=(900, 700)):
    """Renders the XDMF sidecar of a run (xyzmf.export, run(xdmf=True)) to the PNG
    file `png`: the lattice coloured by the sXY phase psi (s_z where psi is absent)
    and the vortices by charge, at the last time or the one nearest `time`.
    Returns the renderer's one-line description of the picture."""
    xdmf, png = os.fspath(xdmf), os.fspath(png)
    if not os.path.isfile(xdmf):
        raise FileError(xdmf, "no such file (write it with xyzmf.export(RUN.h5))")
    missing = [p for p in ("xvfb-run", "pvbatch") if shutil.which(p) is None]
    if missing:
        raise Error(f"picture: {' and '.join(missing)} not found (Debian: apt install xvfb xauth python3-paraview)")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "paraview_render.py")
    args = ["xvfb-run", "-a", "-s", "-noreset", "pvbatch", script, xdmf, "-o", png,
            "--size", str(int(size[0])), str(int(size[1]))]
    if time is not None:
        args += ["--time", repr(float(time))]
    r = subprocess.run(args, capture_output=True, text=True)
    said = [line for line in (r.stdout + r.stderr).splitlines() if line.strip() and "0x" not in line]
    if r.returncode != 0 or not os.path.isfile(png):
        raise Error(f"picture: pvbatch exited with {r.returncode}: {' | '.join(said[-3:])}")
    return next((line for line in reversed(said) if " on " in line), said[-1] if said else "")
