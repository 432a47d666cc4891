"""A picture of an xyzmf run from its XDMF sidecar, rendered by ParaView without a
display (the renderer is python/xyzmf/paraview_render.py, which xyzmf.picture runs
from Python too):

    xvfb-run -a -s -noreset pvbatch tools/render_paraview.py RUN.xdmf -o picture.png [--time T] [--size 900 700]

Debian's ParaView 5.11 needs an X server even for offscreen pictures: pvbatch
alone aborts on "bad X server connection" and pvpython --force-offscreen-rendering
crashes, so run it under xvfb-run (Debian's xvfb package) as above; -noreset
keeps the virtual server from resetting when pvbatch's first connection closes,
which on a busy machine refused its second one. Write the sidecar with
`xyzmf run --xdmf` or `xyzmf export --xdmf RUN.h5`."""
import os
import runpy
import sys

renderer = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python", "xyzmf", "paraview_render.py")
sys.argv[0] = "render_paraview"
runpy.run_path(renderer, run_name="__main__")
