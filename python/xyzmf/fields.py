"""Lattice fields computed from stored spins, as the xyzmf program defines them.

Spins are numpy arrays shaped as the files store them: the lattice axes ((z,) y,) x, then the
Bloch components (sx, sy, sz) -- (Lx, 3) in 1D, (Ly, Lx, 3) in 2D, (Lz, Ly, Lx, 3) in 3D.
Sublattice A holds the sites whose lattice indices sum to an even number, B the others.

- psi: the sXY phase field of docs/physics.md section 5, which is smooth inside an sXY domain
  where the plain angle atan2(y, x) alternates between the sublattices; plaquette_windings and
  vortices find where it winds (the C++ analysis's find_vortices, in 2D).
- effective_field and ds_dt: the mean-field equations of docs/physics.md section 2, to check
  how stationary a stored state is.
"""
import numpy as np

from .errors import UsageError


def sublattice_b(shape):
    """True on the B sites (i + j + k odd) of a lattice of the given shape (without the component axis)."""
    return np.indices(shape).sum(0) % 2 == 1


def psi(spins, Jx, Jy, min_amplitude=0.0):
    """The sXY phase field: atan2(y, x) on A sites, atan2(Jx x, -Jy y) on B sites (the direction
    of M s, M = [[0, -Jy], [Jx, 0]]), NaN where the in-plane amplitude sqrt(x^2 + y^2) is below
    min_amplitude (there the angle means nothing; the analysis's threshold_vortex_amplitude,
    0.02 by default). Shape: the lattice's. Needs Jx Jy != 0."""
    if Jx * Jy == 0:
        raise UsageError(f"the sXY phase field needs Jx Jy != 0 (Jx = {Jx:g}, Jy = {Jy:g})")
    x, y = spins[..., 0], spins[..., 1]
    field = np.where(sublattice_b(x.shape), np.arctan2(Jx * x, -Jy * y), np.arctan2(y, x))
    if min_amplitude > 0:
        field = np.where(np.hypot(x, y) < min_amplitude, np.nan, field)
    return field


def plaquette_windings(angle):
    """Winding number of a 2-D periodic angle field (ny, nx) around every plaquette, as an int
    array (ny, nx): entry (j, i) is the plaquette with corners (i, j), (i+1, j), (i+1, j+1),
    (i, j+1), counter-clockwise, centred at x = i + 0.5, y = j + 0.5. Each step is wrapped into
    [-pi, pi); a plaquette with a NaN corner (psi too small there) counts 0."""
    corners = [angle, np.roll(angle, -1, 1), np.roll(angle, (-1, -1), (0, 1)), np.roll(angle, -1, 0)]
    total = sum((corners[(q + 1) % 4] - corners[q] + np.pi) % (2 * np.pi) - np.pi for q in range(4))
    return np.nan_to_num(np.rint(total / (2 * np.pi))).astype(int)


def vortices(angle):
    """The plaquettes around which a 2-D periodic angle field (such as psi of one plane) winds:
    positions (n, 2) as plaquette centres (x, y) and windings (n,): +1 a vortex, -1 an
    antivortex, ordered by y, then x, as the xyzmf analysis lists them."""
    w = plaquette_windings(angle)
    j, i = np.nonzero(w)
    return np.column_stack([i + 0.5, j + 0.5]), w[j, i]


def plane_vortices(analysis, dim):
    """The vortices stored by `xyzmf analyze` in an analysis group (h5py or a loaded Record)
    that a picture of the lattice shows: all of them in 2D; in 3D those on the xy plaquettes of
    the z = 0 plane. Returns positions (n, 3) as (x, y, z) and charges (n,)."""
    pos, q = analysis["vortex_positions"][...].reshape(-1, 3), analysis["vortex_charges"][...]
    if dim == 3:
        keep = (analysis["vortex_normals"][...] == 2) & (pos[:, 2] == 0)
        pos, q = pos[keep], q[keep]
    return pos, q


def effective_field(spins, params):
    """h_n = 1/(2d) sum over the 2d neighbours m of (Jx x_m, Jy y_m, Jz z_m) on the periodic
    lattice, shaped like spins; params: a mapping with Jx, Jy, Jz (a file's /parameters attributes)."""
    dim = spins.ndim - 1
    nn = sum(np.roll(spins, shift, axis=ax) for ax in range(dim) for shift in (1, -1))
    return nn * np.array([params["Jx"], params["Jy"], params["Jz"]]) / (2 * dim)


def ds_dt(spins, params, h=None):
    """The mean-field right-hand side ds/dt = 2 h x s - (G x, G y, gamma (z + 1)), G = gamma/2
    + 2 gamma_phi, shaped like spins; small everywhere only for a stationary state. params: Jx,
    Jy, Jz, gamma, gamma_phi; h: the effective field when already computed."""
    if h is None:
        h = effective_field(spins, params)
    g, G = params["gamma"], params["gamma"] / 2 + 2 * params["gamma_phi"]
    return 2 * np.cross(h, spins) - np.stack([G * spins[..., 0], G * spins[..., 1], g * (spins[..., 2] + 1)], axis=-1)
