// The unit and the axis order of every dataset xyzmf writes, in one table, so
// that a file read without docs/hdf5-layout.md at hand still says what its
// numbers are. The schema (schema.cpp) has the HDF5 wrapper call describe_dataset
// on each new dataset; a dataset whose name is not in the table is a defect that the
// tests catch (every dataset of every kind of file must carry "unit").
//
// Units: rates (couplings, gamma, growth rates, residuals |ds/dt|) are in the
// unit of gamma, written "gamma"; times in "1/gamma"; lengths in "sites";
// wave vectors in "rad/site"; angles in "rad"; pure numbers "1" (Bloch components, <sa sb>,
// fractions, phase codes, flags); counts "count". Axes name the dimensions
// from the slowest to the fastest (the C order h5py and numpy show).
#include "dataset_units.hpp"

#include <cstring>
#include <string>

#include "hdf5.hpp"

namespace xyzmf {
namespace {

struct Rule {
    const char* group;  // the parent group's name; "" = any
    const char* name;
    const char* unit;
    const char* axes;   // "" = a scalar; "@lattice" = the lattice axes, slowest first (z, y, x)
};

// Checked in order; the first rule whose group and name match wins.
constexpr Rule kRules[] = {
    // run files: snapshots, final state, time series
    {"", "spins", "1", "@lattice,component(sx,sy,sz)"},
    {"timeseries", "t", "1/gamma", "row"},
    {"timeseries", "mean", "1", "row,component(sx,sy,sz)"},
    {"timeseries", "staggered", "1", "row,component(sx,sy,sz)"},
    {"timeseries", "residual", "gamma", "row"},
    // analysis of one state
    {"analysis", "peak_k", "rad/site", "axis(x,y,z)"},
    {"analysis", "period", "sites", "axis(x,y,z)"},
    {"analysis", "vortex_positions", "sites", "vortex,axis(x,y,z)"},
    {"analysis", "vortex_charges", "1", "vortex"},
    {"analysis", "vortex_normals", "1", "vortex"},
    // analysis over snapshots
    {"coarsening", "t", "1/gamma", "snapshot"},
    {"coarsening", "vortices", "count", "snapshot"},
    {"coarsening", "antivortices", "count", "snapshot"},
    {"coarsening", "skipped", "count", "snapshot"},
    {"coarsening", "m_perp", "1", "snapshot"},
    {"coarsening", "correlation_length", "sites", "snapshot"},
    {"coarsening", "residual", "gamma", "snapshot"},
    // structure factors (storage "full": the lattice's k axes; 3D large: planes and radial bins)
    {"structure_factor", "k_radial", "rad/site", "bin"},
    {"structure_factor", "count_radial", "count", "bin"},
    {"structure_factor", "*_radial", "1", "bin"},
    {"structure_factor", "*_kz0", "1", "ky,kx"},
    {"structure_factor", "*_ky0", "1", "kz,kx"},
    {"structure_factor", "*_kx0", "1", "kz,ky"},
    {"structure_factor", "*", "1", "@k"},
    // sweeps
    {"sweep", "x", "gamma", "x"},
    {"sweep", "y", "gamma", "y"},
    {"sweep", "batch", "1", "y,x"},
    {"sweep", "predicted", "1", "y,x"},
    {"sweep", "predicted_growth", "gamma", "y,x"},
    {"sweep", "predicted_period", "sites", "y,x"},
    {"sweep", "k", "rad/site", "y,x,replica,axis(x,y,z)"},
    {"sweep", "residual", "gamma", "y,x,replica"},
    {"sweep", "period", "sites", "y,x,replica"},
    {"sweep", "vortices", "count", "y,x,replica"},
    {"sweep", "t_final", "1/gamma", "y,x,replica"},
    {"sweep", "*", "1", "y,x,replica"},  // phase, order, agree, m_perp, peak_weight
    // stability maps
    {"map", "x", "gamma", "x"},
    {"map", "y", "gamma", "y"},
    {"map", "growth", "gamma", "y,x"},
    {"map", "period", "sites", "y,x"},
    {"map", "k", "rad/site", "y,x,axis(x,y,z)"},
    {"map", "lifshitz_points", "gamma", "point,coupling(Jx,Jy)"},
    {"map", "lifshitz_side", "1", "point"},
    {"map", "*", "1", "y,x"},  // u, phase
    // Gaussian fluctuations
    {"gaussian", "x", "gamma", "x"},
    {"gaussian", "y", "gamma", "y"},
    {"gaussian", "relaxation_rate", "gamma", "y,x"},
    {"gaussian", "a_k0", "1", "y,x,(re,im)"},
    {"gaussian", "a_kpi", "1", "y,x,(re,im)"},
    {"gaussian", "*", "1", "y,x"},
    {"modes", "poles", "gamma", "mode,pole,(re,im)"},
    {"modes", "anomalous", "1", "mode,(re,im)"},
    {"modes", "g", "gamma", "mode"},
    {"modes", "w", "gamma", "mode"},  // (Jx + Jy) u - 2 Jz: a frequency
    {"modes", "*", "1", "mode"},  // u, n
    // quantum
    {"quantum", "t", "1/gamma", "sample"},
    {"quantum", "sz_t", "1", "sample"},
    {"quantum", "sz_t_err", "1", "sample"},
    {"quantum", "c1_t", "1", "sample,component(x,y,z)"},
    {"quantum", "trajectory_sz", "1", "trajectory,sample"},
    {"quantum", "trajectory_corr", "1", "trajectory,component(x,y,z),r"},
    {"quantum", "trajectory_jumps", "count", "trajectory"},
    {"quantum", "batch", "1", "trajectory"},
    {"quantum", "eigenvalues", "gamma", "eigenvalue,(re,im)"},
    {"quantum", "gap", "gamma", ""},
    {"quantum", "residual", "gamma", ""},
    {"quantum", "sz", "1", "@sz"},
    {"quantum", "*", "1", "r"},  // cx, cy, cz and their errors
    // DTWA trajectories (per batch: sums over its trajectories, and of their squares)
    {"dtwa", "t", "1/gamma", "record"},
    {"dtwa", "done", "count", "batch"},
    {"dtwa", "scalar_sum", "1", "batch,record,observable(sx,sy,sz,cxx1,cyy1,czz1)"},
    {"dtwa", "scalar_sum2", "1", "batch,record,observable(sx,sy,sz,cxx1,cyy1,czz1)"},
    {"dtwa", "corr_sum", "1", "batch,record,component(x,y,z),r"},
    {"dtwa", "corr_sum2", "1", "batch,record,component(x,y,z),r"},
    {"dtwa", "sk_sum", "1", "batch,component(x,y,z),@k"},
    {"dtwa", "vortex_sum", "count", "batch"},
    {"dtwa", "vortex_sum2", "count", "batch"},
    {"dtwa", "vortices", "count", "(mean,stderr)"},
    {"dtwa", "corr", "1", "record,component(x,y,z),r"},
    {"dtwa", "corr_err", "1", "record,component(x,y,z),r"},
    {"dtwa", "connected", "1", "record,component(x,y,z),r"},
    {"dtwa", "sk", "1", "component(x,y,z),@k"},
    {"dtwa", "*", "1", "record"},  // sx, sy, sz, cxx1, cyy1, czz1 and their errors
    // XDMF fields files (xdmf.hpp): sz and the sXY phase field of a state; 1D spins as a 1 x Lx sheet
    {"", "psi", "rad", "@site"},
    {"", "sz", "1", "@site"},
    {"", "spin", "1", "@lattice,component(sx,sy,sz)"},
    // a snapshot's or the final state's time
    {"", "t", "1/gamma", ""},
};

bool matches(const char* pattern, const std::string& s) {
    const std::size_t n = std::strlen(pattern);
    if (n > 0 && pattern[0] == '*') {  // "*" or "*suffix"
        const std::size_t k = n - 1;
        return s.size() >= k && s.compare(s.size() - k, k, pattern + 1) == 0;
    }
    return s == pattern;
}

// "z,y,x"-style names of a lattice of `rank` axes, slowest first.
std::string axes_of(int rank, const char* x, const char* y, const char* z) {
    const char* names[3] = {x, y, z};
    std::string out;
    for (int a = rank - 1; a >= 0; --a) out += std::string(names[a]) + (a ? "," : "");
    return out;
}

}  // namespace

DatasetMeaning dataset_meaning(const std::string& path, int rank) {
    const std::size_t cut = path.rfind('/');
    const std::string name = cut == std::string::npos ? path : path.substr(cut + 1);
    std::string group;
    if (cut != std::string::npos && cut > 0) {
        const std::size_t up = path.rfind('/', cut - 1);
        group = path.substr(up == std::string::npos ? 0 : up + 1, cut - (up == std::string::npos ? 0 : up + 1));
    }
    for (const Rule& r : kRules) {
        if (*r.group && group != r.group) continue;
        if (!matches(r.name, name)) continue;
        std::string axes = r.axes;
        if (axes.rfind("@lattice", 0) == 0) axes = axes_of(rank - 1, "x", "y", "z") + axes.substr(8);
        else if (axes == "@k") axes = axes_of(rank, "kx", "ky", "kz");
        else if (axes.size() > 3 && axes.compare(axes.size() - 3, 3, ",@k") == 0) {
            // leading named axes, then the lattice's k axes: as many as the rest of the rank
            int named = 1, depth = 0;
            for (std::size_t i = 0; i + 3 < axes.size(); ++i) {
                depth += axes[i] == '(' ? 1 : axes[i] == ')' ? -1 : 0;
                if (axes[i] == ',' && depth == 0) ++named;
            }
            axes = axes.substr(0, axes.size() - 2) + axes_of(rank - named, "kx", "ky", "kz");
        }
        else if (axes == "@site") axes = axes_of(rank, "x", "y", "z");
        else if (axes == "@sz") axes = rank == 0 ? "" : "(mean,stderr)";
        return {r.unit, axes, true};
    }
    return {"", "", false};
}

void describe_dataset(hid_t dataset) {
    const ssize_t n = H5Iget_name(dataset, nullptr, 0);
    if (n <= 0) return;
    std::string path(std::size_t(n) + 1, '\0');
    H5Iget_name(dataset, path.data(), std::size_t(n) + 1);
    path.resize(std::size_t(n));
    h5::Id space(H5Dget_space(dataset), H5Sclose, "dataspace of " + path);
    const DatasetMeaning m = dataset_meaning(path, H5Sget_simple_extent_ndims(space));
    if (!m.known) return;  // the tests require every dataset to be known
    h5::set_attr(dataset, "unit", std::string(m.unit));
    if (!m.axes.empty()) h5::set_attr(dataset, "axes", m.axes);
}

}  // namespace xyzmf
