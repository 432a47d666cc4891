"""Opens an xyzmf XDMF sidecar in ParaView (pvpython, offscreen) and prints
what ParaView sees as one JSON object: time steps, and per reader the point
count, the name, components and range of every point array at the last
time step, and the geometry: the lattice's bounds and dimensions and the
vortex points' coordinates. paraview_test.sh compares it with the HDF5 files.
  pvpython --force-offscreen-rendering paraview_check.py FILE.xdmf"""
import json
import os
import sys

from paraview import servermanager
from paraview.simple import Xdmf3ReaderS, Xdmf3ReaderT

path = os.path.abspath(sys.argv[1])  # the Xdmf3 readers resolve relative names against the file's directory
out = {}
for name, make in (("Xdmf3ReaderS", Xdmf3ReaderS), ("Xdmf3ReaderT", Xdmf3ReaderT)):
    r = make(FileName=[path])
    r.UpdatePipelineInformation()
    times = list(r.TimestepValues or [])
    r.UpdatePipeline(times[-1] if times else 0.0)
    data = servermanager.Fetch(r)
    arrays = {}
    # a multiblock (lattice + vortices) or one data set: gather point arrays over the leaves
    leaves = []
    if data.IsA("vtkMultiBlockDataSet"):
        it = data.NewIterator()
        it.InitTraversal()
        while not it.IsDoneWithTraversal():
            leaves.append(it.GetCurrentDataObject())
            it.GoToNextItem()
    else:
        leaves.append(data)
    points = 0
    lattice, vortex_points = None, []
    for leaf in leaves:
        points += leaf.GetNumberOfPoints()
        if leaf.IsA("vtkImageData"):
            lattice = {"bounds": list(leaf.GetBounds()), "dimensions": list(leaf.GetDimensions())}
        else:
            vortex_points += [list(leaf.GetPoint(i)) for i in range(leaf.GetNumberOfPoints())]
        pd = leaf.GetPointData()
        for i in range(pd.GetNumberOfArrays()):
            a = pd.GetArray(i)
            comps = a.GetNumberOfComponents()
            lo, hi = [], []
            for c in range(comps):
                rng = a.GetRange(c)  # NaN-free range (psi is NaN where undefined)
                lo.append(rng[0])
                hi.append(rng[1])
            arrays[a.GetName()] = {"components": comps, "min": lo, "max": hi, "tuples": a.GetNumberOfTuples()}
    out[name] = {"times": times, "points": points, "arrays": arrays, "lattice": lattice, "vortex_points": vortex_points}
print(json.dumps(out))
