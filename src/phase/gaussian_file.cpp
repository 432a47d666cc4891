// Gaussian points and maps and their /gaussian group (gaussian_file.hpp).
#include "gaussian_file.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <mutex>

#include "hdf5.hpp"
#include "schema.hpp"
#include "signals.hpp"

namespace xyzmf {

GaussianResult compute_gaussian(const ParamGrid& grid, bool map, int dim, const Lattice* finite, double tol,
                                int samples) {
    GaussianResult r;
    r.grid = grid;
    r.map = map;
    r.dim = dim;
    r.finite = finite != nullptr;
    if (finite) r.lattice = *finite;
    r.tol = tol;
    const GaussianTheory theory(dim, finite, tol);
    const int P = grid.points();
    r.points.resize(static_cast<std::size_t>(P));
    // One parallel region for the whole map, each point looking for a stop first:
    // a region per few points (as before) paid a barrier each, where an idle
    // thread spins, and on a core another program holds the spinning took 10 s of
    // a 0.3 s 101 x 101 map (new-user audit).
    StopScope* const call = current_stop_scope();
    // A point stops itself inside its integral (it throws): the exception must not
    // leave its thread's iteration (that would terminate the program), so the first
    // one is kept and thrown after the loop.
    std::atomic<int> done{0};
    std::exception_ptr failed;
    std::mutex failed_mutex;
    std::atomic<bool> any_failed{false};  // (the points left are skipped)
#pragma omp parallel for schedule(dynamic, 1)
    for (int p = 0; p < P; ++p) {
        const SharedStopScope same_stop(call);
        if (interrupt_requested() || any_failed.load(std::memory_order_relaxed)) continue;
        try {
            r.points[std::size_t(p)] = theory.at(grid.at(p));
            done.fetch_add(1, std::memory_order_relaxed);
        } catch (...) {
            std::lock_guard<std::mutex> hold(failed_mutex);
            if (!failed) failed = std::current_exception();
            any_failed = true;
        }
    }
    throw_if_interrupted("after " + std::to_string(done.load()) + " of " + std::to_string(P) + " points; nothing written");
    if (failed) std::rethrow_exception(failed);
    if (!map) r.modes = theory.modes(grid.fixed, r.points[0].on_site, samples);
    return r;
}

GaussianValues gaussian_values(const GaussianPoint& p) {
    GaussianValues v{};
    v.applies = p.applies;
    const double nan = NAN;
    v.relaxation_rate = p.applies ? p.relaxation_rate : nan;
    v.slowest_u = p.applies ? p.slowest_u : nan;
    v.xi2_k0 = p.k0.xi2;
    v.xi2_kpi = p.kpi.xi2;
    v.n_k0 = p.k0.n;
    v.n_kpi = p.kpi.n;
    v.a_k0 = p.k0.anomalous;
    v.a_kpi = p.kpi.anomalous;
    v.sz = p.sz;
    v.sz_error = p.sz_error;
    v.sz_converged = p.applies ? double(p.sz_converged) : nan;
    return v;
}

void write_gaussian_group(hid_t f, const GaussianResult& r) {
    const ParamGrid& grid = r.grid;
    const int nx = grid.x.n, ny = grid.y.n;
    h5::Id g = h5::create_group(f, "/gaussian");
    h5::set_attr(g, "x_name", grid.x.name);
    h5::set_attr(g, "y_name", grid.y.name);
    h5::set_attr(g, "dim", std::int64_t(r.dim));
    h5::set_attr(g, "lattice", r.finite ? lattice_text(r.lattice) : std::string("infinite (continuous k)"));
    h5::set_attr(g, "tol", r.tol);
    write_params(g, couplings_parameters(), grid.fixed);
    h5::set_attr(g, "fixed_note", std::string("Jx, Jy, Jz, gamma_phi attributes hold only where not an axis"));
    h5::set_attr(g, "units", std::string("rates in gamma; occupations per mode; xi2 dimensionless"));
    auto dbl = [&](const char* name, const std::vector<hsize_t>& dims, const double* v) {
        h5::write_array(g, name, dims, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, v, false);
    };
    const std::vector<double> xs = grid.x.values(), ys = grid.y.values();
    dbl("x", {hsize_t(nx)}, xs.data());
    dbl("y", {hsize_t(ny)}, ys.data());
    std::vector<GaussianValues> v;
    for (const GaussianPoint& p : r.points) v.push_back(gaussian_values(p));
    const std::vector<hsize_t> shape = {hsize_t(ny), hsize_t(nx)};
    auto field = [&](const char* name, double GaussianValues::*member) {
        std::vector<double> a;
        for (const GaussianValues& pv : v) a.push_back(pv.*member);
        dbl(name, shape, a.data());
    };
    auto cfield = [&](const char* name, std::complex<double> GaussianValues::*member) {
        std::vector<double> a;
        for (const GaussianValues& pv : v) { a.push_back((pv.*member).real()); a.push_back((pv.*member).imag()); }
        dbl(name, {hsize_t(ny), hsize_t(nx), 2}, a.data());
    };
    field("applies", &GaussianValues::applies);
    field("relaxation_rate", &GaussianValues::relaxation_rate);
    field("slowest_u", &GaussianValues::slowest_u);
    field("xi2_k0", &GaussianValues::xi2_k0);
    field("xi2_kpi", &GaussianValues::xi2_kpi);
    field("n_k0", &GaussianValues::n_k0);
    field("n_kpi", &GaussianValues::n_kpi);
    cfield("a_k0", &GaussianValues::a_k0);
    cfield("a_kpi", &GaussianValues::a_kpi);
    field("sz", &GaussianValues::sz);
    field("sz_error", &GaussianValues::sz_error);
    field("sz_converged", &GaussianValues::sz_converged);
    // One point: why the theory does not hold there, as the command says it (a map's
    // points keep only `applies`: its slowest_u and growth say which mode went unstable).
    if (!r.map && !r.points.empty() && !r.points[0].applies && !r.points[0].reason.empty())
        h5::set_attr(g, "reason", r.points[0].reason);
    if (r.modes.empty()) return;
    h5::Id mg = h5::create_group(g, "modes");
    std::vector<double> u, w, gg, n, poles, an;
    for (const GaussianMode& m : r.modes) {
        u.push_back(m.u); w.push_back(m.w); gg.push_back(m.g); n.push_back(m.n);
        for (const auto& l : m.poles) { poles.push_back(l.real()); poles.push_back(l.imag()); }
        an.push_back(m.anomalous.real());
        an.push_back(m.anomalous.imag());
    }
    const hsize_t M = r.modes.size();
    auto mdbl = [&](const char* name, const std::vector<hsize_t>& dims, const double* p) {
        h5::write_array(mg, name, dims, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, p, false);
    };
    mdbl("u", {M}, u.data());
    mdbl("w", {M}, w.data());
    mdbl("g", {M}, gg.data());
    mdbl("poles", {M, 2, 2}, poles.data());
    mdbl("n", {M}, n.data());
    mdbl("anomalous", {M, 2}, an.data());
}

}  // namespace xyzmf
