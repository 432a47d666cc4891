"""A picture of an xyzmf run from its XDMF sidecar, rendered by ParaView without a
display: the lattice coloured by the sXY phase psi (or s_z where psi is absent),
(a cyclic colour scale) and the vortices as balls coloured by their charge (+1 red, -1 blue), at the last
(or a chosen) time, looked at from +z (2D, 1D) or obliquely (3D).

    xvfb-run -a -s -noreset pvbatch tools/render_paraview.py RUN.xdmf -o picture.png [--time T] [--size 900 700]

or from Python, xyzmf.picture(RUN.xdmf, picture.png). A script for pvbatch, not a
module to import (it needs ParaView's own Python).

Debian's ParaView 5.11 needs an X server even for offscreen pictures: pvbatch
alone aborts on "bad X server connection" and pvpython --force-offscreen-rendering
crashes, so run it under xvfb-run (Debian's xvfb package) as above; -noreset
keeps the virtual server from resetting when pvbatch's first connection closes,
which on a busy machine refused its second one. Write the
sidecar with `xyzmf run --xdmf` or `xyzmf export --xdmf RUN.h5`."""
import argparse
import os
import sys

from paraview import simple as pv
from paraview import servermanager
from vtkmodules.vtkCommonDataModel import vtkImageData


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("xdmf", help="the sidecar, NAME.xdmf")
    ap.add_argument("-o", "--output", required=True, help="PNG file to write")
    ap.add_argument("--time", type=float, help="time of the state to show (default: the last)")
    ap.add_argument("--size", type=int, nargs=2, default=[900, 700], metavar=("W", "H"), help="pixels")
    args = ap.parse_args()
    if not os.path.isfile(args.xdmf):
        sys.exit(f"render_paraview: {args.xdmf}: no such file (write it with `xyzmf export --xdmf RUN.h5`)")

    reader = pv.Xdmf3ReaderS(FileName=[os.path.abspath(args.xdmf)])  # the readers want absolute names
    reader.UpdatePipelineInformation()
    times = list(reader.TimestepValues or [0.0])
    t = times[-1] if args.time is None else min(times, key=lambda x: abs(x - args.time))
    reader.UpdatePipeline(t)

    view = pv.CreateView("RenderView")
    view.ViewSize = args.size
    view.ViewTime = t
    view.OrientationAxesVisibility = 0
    view.Background = [1, 1, 1]
    try:  # 5.10+: the background is the palette's unless this says otherwise
        view.UseColorPaletteForBackground = 0
    except AttributeError:
        pass

    # The two leaves (the lattice image, the vortex points), each in a pipeline of
    # its own (pvbatch runs the pipeline in this process).
    data = servermanager.Fetch(reader)
    leaves = []
    it = data.NewIterator()
    it.InitTraversal()
    while not it.IsDoneWithTraversal():
        leaves.append(it.GetCurrentDataObject())
        it.GoToNextItem()
    image = next(o for o in leaves if o.IsA("vtkImageData"))
    points = next((o for o in leaves if not o.IsA("vtkImageData")), None)

    def source(obj):
        copy = obj.NewInstance()
        copy.DeepCopy(obj)
        p = pv.TrivialProducer()
        p.GetClientSideObject().SetOutput(copy)
        p.UpdatePipeline()
        return p

    lattice = source(image)
    names = [image.GetPointData().GetArrayName(i) for i in range(image.GetPointData().GetNumberOfArrays())]
    field = "psi" if "psi" in names else "sz"
    dims = image.GetDimensions()
    flat = dims[2] == 1

    where = "POINTS"
    if flat:
        # One flat square per site (a cell centred on it): interpolating a phase
        # across its -pi/pi seam would paint every colour in between.
        tiles = vtkImageData()
        tiles.SetDimensions(dims[0] + 1, dims[1] + 1, 1)
        tiles.SetOrigin(-0.5, -0.5 if dims[1] > 1 else -0.5, 0)
        for i in range(image.GetPointData().GetNumberOfArrays()):
            tiles.GetCellData().AddArray(image.GetPointData().GetArray(i))
        shown = pv.Show(source(tiles), view)
        shown.SetRepresentationType("Surface")
        where = "CELLS"
    else:  # 3D: the psi field on the middle z plane, and the box
        cut = pv.Slice(Input=lattice)
        cut.SliceType.Origin = [(dims[0] - 1) / 2, (dims[1] - 1) / 2, (dims[2] - 1) / 2]
        cut.SliceType.Normal = [0, 0, 1]
        shown = pv.Show(cut, view)
        pv.Show(pv.Outline(Input=lattice), view).AmbientColor = [0.3, 0.3, 0.3]
    pv.ColorBy(shown, (where, field))
    lut = pv.GetColorTransferFunction(field)
    if field == "psi":
        lut.ApplyPreset("hsv", True)  # cyclic: -pi and pi, the same angle, the same colour
        lut.RescaleTransferFunction(-3.141592653589793, 3.141592653589793)
        lut.NanColor = [0.6, 0.6, 0.6]
    shown.SetScalarBarVisibility(view, True)
    bar = pv.GetScalarBar(lut, view)
    bar.Title = "psi (rad)" if field == "psi" else "s_z"
    bar.ComponentTitle = ""
    bar.TitleColor = bar.LabelColor = [0.1, 0.1, 0.1]  # the default palette's white text on our white

    count = 0
    if points is not None and points.GetNumberOfPoints() > 0:
        shape = source(points)
        if flat:  # just above the lattice's plane, so always in front of it
            shape = pv.Transform(Input=shape)
            shape.Transform.Translate = [0, 0, 0.5]
        dots = pv.Show(shape, view)
        dots.SetRepresentationType("Point Gaussian")
        dots.ShaderPreset = "Sphere"
        dots.GaussianRadius = max(0.3, max(dims) / 90) if flat else 0.15
        pv.ColorBy(dots, ("POINTS", "charge"))
        clut = pv.GetColorTransferFunction("charge")
        clut.ApplyPreset("Cool to Warm", True)
        clut.RescaleTransferFunction(-1.0, 1.0)
        count = points.GetNumberOfPoints()

    view.ResetCamera()
    if flat:
        view.CameraPosition = [(dims[0] - 1) / 2, (dims[1] - 1) / 2, 10 * max(dims)]
        view.CameraFocalPoint = [(dims[0] - 1) / 2, (dims[1] - 1) / 2, 0]
        view.CameraViewUp = [0, 1, 0]
        view.CameraParallelProjection = 1
        view.ResetCamera()
    else:
        view.CameraPosition = [dims[0] * 2.2, -dims[1] * 1.6, dims[2] * 2.0]
        view.CameraFocalPoint = [(dims[0] - 1) / 2, (dims[1] - 1) / 2, (dims[2] - 1) / 2]
        view.CameraViewUp = [0, 0, 1]
        view.ResetCamera()
    pv.SaveScreenshot(os.path.abspath(args.output), view, ImageResolution=args.size)
    print(f"render_paraview: {args.output}: {field} at t = {t:g} on {dims[0]}x{dims[1]}x{dims[2]}, {count} vortex points")


if __name__ == "__main__":
    main()
