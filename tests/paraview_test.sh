#!/usr/bin/env bash
# ParaView is the real client of the XDMF sidecars: for a 3D and a 2D sXY run
# (vortices analysed), a 2D FM run (no psi) and a 1D chain, pvpython opens the
# sidecar with both Xdmf3 readers, and the time steps, array names, components and
# ranges it reports must equal what the HDF5 files hold (read with h5py); and the
# geometry must be the lattice's: node (i, j, k) at (x, y, z) = (i, j, k), 2D and 1D
# lattices in the X-Y plane at z = 0, and every vortex point at the centre of a
# plaquette of that image (where the file puts it).
# Also: export refuses to replace a sidecar without --overwrite, and leaves
# the run file untouched.
#   tests/paraview_test.sh path/to/xyzmf path/to/pvpython
set -euo pipefail
X=$1
PV=$2
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W"
fail() { echo "paraview_test: FAIL: $*" >&2; exit 1; }

"$X" run -q --backend cpu --size 10x8x6 --Jx 1 --Jy -1 --Jz 0 --t-end 1 --snapshot-every 0.25 --analyze --xdmf -o sxy3.h5
"$X" run -q --backend cpu --size 16x12 --Jx 1 --Jy -1 --Jz 0 --t-end 1 --snapshot-every 0.5 --analyze --xdmf -o sxy2.h5
"$X" run -q --backend cpu --size 12x10 --Jx 2 --Jy 0 --Jz 1 --t-end 2 --snapshot-every 0.5 --precision float -o fm2.h5
"$X" export -q --xdmf fm2.h5
"$X" run -q --backend cpu --dim 1 --size 20 --Jx 1 --Jy -1 --Jz 0 --t-end 1 --snapshot-every 0.5 -o sxy1.h5
"$X" export -q sxy1.h5

for name in sxy3 sxy2 fm2 sxy1; do
  [[ -s $name.xdmf && -s $name.fields.h5 ]] || fail "$name: no sidecar"
  "$PV" --force-offscreen-rendering "$HERE/paraview_check.py" "$name.xdmf" >"$name.pv.json" 2>"$name.pv.err" ||
    fail "$name: pvpython: $(tail -3 "$name.pv.err")"
  /usr/bin/python3 - "$name" <<'PY' || fail "$name: ParaView's view differs from the files"
import json, math, sys
import h5py, numpy as np
name = sys.argv[1]
pv = json.loads(open(f"{name}.pv.json").read().strip().splitlines()[-1])
with h5py.File(f"{name}.h5", "r") as f, h5py.File(f"{name}.fields.h5", "r") as g:
    states = [f"/snapshots/{k}" for k in sorted(f["snapshots"])]
    times = [float(f[s]["t"][()]) for s in states]
    tf = float(f["/final/t"][()])
    if tf in times:  # the final state replaces the snapshot at its time
        states[times.index(tf)] = "/final"
    else:
        states.append("/final"); times.append(tf)
    last = states[-1]
    spins = f[last]["spins"][...].astype(float)
    sites = spins.size // 3
    psi_expected = "psi" in g[last]
    vort = f[last + "/analysis/vortex_positions"].shape[0] if (last + "/analysis/vortex_positions") in f else 0
    positions = f[last + "/analysis/vortex_positions"][...] if vort else None
    charges = f[last + "/analysis/vortex_charges"][...] if vort else None
    psi = g[last]["psi"][...] if psi_expected else None
for reader, v in pv.items():
    def check(cond, what):
        if not cond:
            print(f"paraview_test: {name} ({reader}): {what}", file=sys.stderr); sys.exit(1)
    check(np.allclose(v["times"], times), f"time steps {v['times']} != {times}")
    check(v["points"] == sites + vort, f"{v['points']} points, expected {sites} sites + {vort} vortices")
    a = v["arrays"]
    want = {"spin", "sz"} | ({"psi"} if psi_expected else set()) | ({"charge", "normal"} if vort else set())
    check(set(a) == want, f"arrays {sorted(a)} != {sorted(want)}")
    check(a["spin"]["components"] == 3 and a["spin"]["tuples"] == sites, "spin is not a 3-vector per site")
    for c in range(3):
        lo, hi = spins[..., c].min(), spins[..., c].max()
        check(math.isclose(a["spin"]["min"][c], lo, abs_tol=1e-6) and math.isclose(a["spin"]["max"][c], hi, abs_tol=1e-6),
              f"spin component {c} range {a['spin']['min'][c]}..{a['spin']['max'][c]} != {lo}..{hi}")
    check(math.isclose(a["sz"]["min"][0], spins[..., 2].min(), abs_tol=1e-6)
          and math.isclose(a["sz"]["max"][0], spins[..., 2].max(), abs_tol=1e-6), "sz range differs from the spins' z")
    if psi_expected:
        check(math.isclose(a["psi"]["min"][0], np.nanmin(psi), abs_tol=1e-12)
              and math.isclose(a["psi"]["max"][0], np.nanmax(psi), abs_tol=1e-12), "psi range differs")
        check(-math.pi <= a["psi"]["min"][0] and a["psi"]["max"][0] <= math.pi, "psi outside [-pi, pi]")
    if vort:
        check(a["charge"]["min"][0] == charges.min() and a["charge"]["max"][0] == charges.max(), "vortex charges differ")
    # Geometry: the image's nodes at integer (x, y, z), unused axes of extent 1 at 0.
    shape = spins.shape[:-1][::-1]  # (Lx[, Ly[, Lz]]) from the stored (.., Ly, Lx, 3)
    dims = list(shape) + [1] * (3 - len(shape))
    lat = v["lattice"]
    check(lat is not None and lat["dimensions"] == dims, f"lattice dimensions {lat and lat['dimensions']} != {dims}")
    want_bounds = [b for d in dims for b in (0.0, float(d - 1))]
    check(np.allclose(lat["bounds"], want_bounds), f"lattice bounds {lat['bounds']} != {want_bounds} (not in the X-Y plane?)")
    if vort:
        pts = np.array(v["vortex_points"])
        check(pts.shape == positions.shape and np.allclose(np.sort(pts, axis=0), np.sort(positions, axis=0)),
              "vortex points differ from /analysis/vortex_positions")
        for p in pts:
            # on a plaquette of the image: half-integer in two axes, a node plane in the third
            half = [abs(c - math.floor(c) - 0.5) < 1e-9 for c in p]
            check(sum(half) == 2, f"vortex point {p} is not at a plaquette centre")
            for c, d, h in zip(p, dims, half):
                check(-0.5 <= c <= d - 0.5 if h else 0 <= c <= d - 1, f"vortex point {p} outside the lattice {dims}")
print(f"paraview_test: {name}: {len(times)} time steps, {sites} sites, {vort} vortices, arrays and geometry as in the files")
PY
done

# An offscreen picture: Debian's ParaView needs an X server even for that, so
# tools/render_paraview.py runs under xvfb-run; the picture must show the lattice
# (most of the frame coloured, in many colours), not a blank or one-colour frame.
command -v xvfb-run >/dev/null || fail "xvfb-run not found: install xvfb and xauth (tools/install-deps.sh)"
PVBATCH=$(dirname "$(command -v "$PV")")/pvbatch
xvfb-run -a -s -noreset "$PVBATCH" "$HERE/../tools/render_paraview.py" sxy2.xdmf -o sxy2.png --size 600 450 >render.txt 2>&1 ||
    fail "render_paraview: $(grep -v "^ *[0-9]* *0x" render.txt | tail -8)"
grep -qE "psi at t = 1 on 16x12x1, [1-9][0-9]* vortex points" render.txt || fail "render_paraview said: $(cat render.txt)"
/usr/bin/python3 - sxy2.png <<'PY' || fail "the rendered picture is blank"
import sys
import matplotlib.image as mpimg, numpy as np
img = mpimg.imread(sys.argv[1])[..., :3]
assert img.shape[:2] == (450, 600), f"picture is {img.shape[1]}x{img.shape[0]}, not 600x450"
coloured = np.mean(np.any(np.abs(img - 1.0) > 0.05, axis=-1))  # not the white background
colours = len(np.unique((img * 255).astype(np.uint8).reshape(-1, 3), axis=0))
print(f"paraview_test: picture: {coloured:.0%} of the frame coloured, {colours} colours")
if coloured < 0.25 or colours < 50:
    sys.exit(f"only {coloured:.0%} of the frame coloured, {colours} colours")
PY

# No silent replacement; the run file is only read.
sum=$(md5sum fm2.h5)
if "$X" export fm2.h5 2>again.txt; then fail "export replaced an existing sidecar without --overwrite"; fi
grep -q "already exists; pass --overwrite" again.txt || fail "export refusal: $(cat again.txt)"
[[ $(wc -l <again.txt) -eq 1 ]] || fail "export refusal is not one line: $(cat again.txt)"
"$X" export -q --overwrite fm2.h5
[[ $(md5sum fm2.h5) == "$sum" ]] || fail "export modified the run file"
echo "paraview_test: ok"
