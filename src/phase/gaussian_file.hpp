// The Gaussian theory at one point or over a parameter grid (`xyzmf gaussian`), each
// point's numbers as one flat record, and the /gaussian group that stores them
// (docs/hdf5-layout.md).
#pragma once

#include <hdf5.h>

#include <complex>
#include <string>
#include <vector>

#include "gaussian.hpp"
#include "param_grid.hpp"

namespace xyzmf {

struct GaussianResult {
    ParamGrid grid;  // one point: both axes of one value
    bool map = false;
    int dim = 2;
    bool finite = false;  // a finite lattice's k (lattice) or the infinite lattice's integral
    Lattice lattice;
    double tol = 0;  // the integral's relative tolerance
    std::vector<GaussianPoint> points;  // C order of (ny, nx)
    std::vector<GaussianMode> modes;    // one point only: the per-mode table
};

// Every point of the grid, in blocks of a few per thread so that a stop signal is seen
// between them (a 3D point on the infinite lattice takes about 15 ms); at one point
// (map false) also `samples` modes.
GaussianResult compute_gaussian(const ParamGrid& grid, bool map, int dim, const Lattice* finite, double tol,
                                int samples);

// Every number of a point, NaN where the theory does not apply (or, for k = pi, where
// the lattice has no such mode).
struct GaussianValues {
    double applies, relaxation_rate, slowest_u, xi2_k0, xi2_kpi, n_k0, n_kpi, sz, sz_error, sz_converged;
    std::complex<double> a_k0, a_kpi;
};
GaussianValues gaussian_values(const GaussianPoint& p);

// Writes /gaussian into a new file.
void write_gaussian_group(hid_t file, const GaussianResult& r);

}  // namespace xyzmf
