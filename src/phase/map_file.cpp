// Stability maps and their /map group (map_file.hpp).
#include "map_file.hpp"

#include "hdf5.hpp"
#include "schema.hpp"
#include "signals.hpp"
#include "sweep.hpp"

namespace xyzmf {

const std::int64_t kMapPhases[6] = {kPM, kFM, kAFM, kSDW, kSXY, kTie};

std::string map_phase_codes_text() {
    std::string s;
    for (std::int64_t c : kMapPhases) s += (s.empty() ? "" : ", ") + std::to_string(int(c)) + " " + phase_name(c);
    return s + " (k = 0 and k = pi grow equally)";
}

StabilityMapResult compute_stability_map(const ParamGrid& grid, int dim, const Lattice* finite, bool lifshitz) {
    StabilityMapResult r;
    r.grid = grid;
    r.dim = dim;
    r.finite = finite != nullptr;
    if (finite) r.lattice = *finite;
    const StabilityMap map(dim, finite);
    const int P = grid.points();
    r.growth.resize(P);
    r.u.resize(P);
    r.period.resize(P);
    r.k.resize(3 * std::size_t(P));
    r.code.resize(P);
    for (int p = 0; p < P; ++p) {
        if (p % 4096 == 0)
            throw_if_interrupted("after " + std::to_string(p) + " of " + std::to_string(P) + " points; nothing written");
        const StabilityPoint s = map.at(grid.at(p));
        r.growth[p] = s.growth;
        r.u[p] = s.u;
        r.period[p] = s.period;
        for (int a = 0; a < 3; ++a) r.k[3 * p + a] = s.k[a];
        r.code[p] = phase_code(s.phase);
        ++r.counts[s.phase];
    }
    if (lifshitz) r.lifshitz = find_lifshitz_points(grid.fixed, map);
    return r;
}

void write_map_group(hid_t f, const StabilityMapResult& m) {
    const ParamGrid& grid = m.grid;
    const int nx = grid.x.n, ny = grid.y.n;
    h5::Id g = h5::create_group(f, "/map");
    h5::set_attr(g, "x_name", grid.x.name);
    h5::set_attr(g, "y_name", grid.y.name);
    h5::set_attr(g, "phase_codes", map_phase_codes_text());
    h5::set_attr(g, "dim", std::int64_t(m.dim));
    h5::set_attr(g, "lattice", m.finite ? lattice_text(m.lattice) : std::string("infinite (continuous k)"));
    write_params(g, couplings_parameters(), grid.fixed);
    h5::set_attr(g, "fixed_note", std::string("Jx, Jy, Jz, gamma_phi attributes hold only where not an axis"));
    const std::vector<double> xs = grid.x.values(), ys = grid.y.values();
    auto dbl = [&](const char* name, const std::vector<hsize_t>& dims, const double* v) {
        h5::write_array(g, name, dims, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, v, false);
    };
    dbl("x", {hsize_t(nx)}, xs.data());
    dbl("y", {hsize_t(ny)}, ys.data());
    dbl("growth", {hsize_t(ny), hsize_t(nx)}, m.growth.data());
    dbl("u", {hsize_t(ny), hsize_t(nx)}, m.u.data());
    dbl("period", {hsize_t(ny), hsize_t(nx)}, m.period.data());
    dbl("k", {hsize_t(ny), hsize_t(nx), 3}, m.k.data());
    h5::write_array(g, "phase", {hsize_t(ny), hsize_t(nx)}, H5T_NATIVE_INT64, H5T_STD_I64LE, m.code.data(), false);
    if (!m.lifshitz.empty()) {
        std::vector<double> lp;
        for (const auto& l : m.lifshitz) { lp.push_back(l.Jx); lp.push_back(l.Jy); }
        dbl("lifshitz_points", {hsize_t(m.lifshitz.size()), 2}, lp.data());
        std::vector<std::int64_t> side;
        for (const auto& l : m.lifshitz) side.push_back(l.side);
        h5::write_array(g, "lifshitz_side", {hsize_t(m.lifshitz.size())}, H5T_NATIVE_INT64, H5T_STD_I64LE, side.data(), 0);
    }
}

}  // namespace xyzmf
