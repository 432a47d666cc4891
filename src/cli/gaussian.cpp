// `xyzmf gaussian`: Gaussian fluctuations of the paramagnet (docs/physics.md
// section 6) at one parameter point or over a map, like `xyzmf stability`.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "json_number.hpp"
#include "options.hpp"
#include "xyzmf/error.hpp"
#include "xyzmf/signals.hpp"
#include "xyzmf/gaussian.hpp"
#include "xyzmf/output_file.hpp"
#include "xyzmf/param_grid.hpp"
#include "xyzmf/schema.hpp"

namespace xyzmf::cli {
namespace {

struct GaussianOptions {
    std::string x, y, size, out;
    Couplings fixed{0, 0, 0, 1, 0};
    int dim = 2, samples = 21;
    double tol = 0;  // 0: 1e-9 at a point, 1e-7 for a map
    bool json = false, overwrite = false;
};

nlohmann::json complex_pair(std::complex<double> v) {
    return std::isfinite(v.real()) ? nlohmann::json{v.real(), v.imag()} : nlohmann::json(nullptr);
}

// Every number of a point, NaN where the theory does not apply (or, for
// k = pi, where the lattice has no such mode).
struct PointValues {
    double applies, relaxation_rate, slowest_u, xi2_k0, xi2_kpi, n_k0, n_kpi, sz, sz_error, sz_converged;
    std::complex<double> a_k0, a_kpi;
};

PointValues values_of(const GaussianPoint& p) {
    PointValues v{};
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

nlohmann::json point_json(const GaussianPoint& p, const std::vector<GaussianMode>& modes) {
    const PointValues v = values_of(p);
    nlohmann::json j = {{"applies", p.applies},
                        {"reason", p.applies ? nlohmann::json(nullptr) : nlohmann::json(p.reason)},
                        {"relaxation_rate", json_number(v.relaxation_rate)},
                        {"slowest_u", json_number(v.slowest_u)},
                        {"xi2_k0", json_number(v.xi2_k0)},
                        {"xi2_kpi", json_number(v.xi2_kpi)},
                        {"n_k0", json_number(v.n_k0)},
                        {"n_kpi", json_number(v.n_kpi)},
                        {"a_k0", complex_pair(v.a_k0)},
                        {"a_kpi", complex_pair(v.a_kpi)},
                        {"sz", json_number(v.sz)},
                        {"sz_error", json_number(v.sz_error)},
                        {"sz_converged", p.applies ? nlohmann::json(p.sz_converged) : nlohmann::json(nullptr)}};
    nlohmann::json mj = nlohmann::json::array();
    for (const GaussianMode& m : modes)
        mj.push_back({{"u", m.u}, {"w", m.w}, {"g", m.g},
                      {"poles", {{m.poles[0].real(), m.poles[0].imag()}, {m.poles[1].real(), m.poles[1].imag()}}},
                      {"n", json_number(m.n)}, {"anomalous", complex_pair(m.anomalous)}});
    j["modes"] = mj;
    return j;
}

void print_point(const GaussianPoint& p, const Couplings& c, const std::string& lattice) {
    std::printf("Gaussian theory of the paramagnet: Jx = %g, Jy = %g, Jz = %g, gamma = %g, gamma_phi = %g; %s\n", c.Jx,
                c.Jy, c.Jz, c.gamma, c.gamma_phi, lattice.c_str());
    if (!p.applies) {
        std::printf("  does not apply: %s\n", p.reason.c_str());
        return;
    }
    std::printf("  slowest relaxation rate   %.10g gamma (mode u = %.6g)\n", p.relaxation_rate, p.slowest_u);
    std::printf("  <sz>                      %.12g +- %.2g%s\n", p.sz, p.sz_error,
                p.sz_converged ? "" : "  (integral did not reach its tolerance)");
    auto mode = [](const char* name, const GaussianMode& m) {
        if (!std::isfinite(m.u)) {
            std::printf("  %-6s  no such mode on this lattice (odd side)\n", name);
            return;
        }
        std::printf("  %-6s  <b^+ b> = %.10g   <b b> = %.10g %+.10gi   xi^2 = %.10g\n", name, m.n, m.anomalous.real(),
                    m.anomalous.imag(), m.xi2);
    };
    mode("k = 0", p.k0);
    mode("k = pi", p.kpi);
    if (p.sz > -0.5)
        std::printf("  note: <sz> is far from -1, so the hard-core constraint this theory relaxes matters here: "
                    "trust the numbers qualitatively only\n");
}

}  // namespace

Command add_gaussian_command(CLI::App& app, const std::string& command_line) {
    auto o = std::make_shared<GaussianOptions>();
    CLI::App* sub = app.add_subcommand(
        "gaussian",
        "Gaussian (hard-core boson) fluctuations of the paramagnet at one point or over a map: relaxation rates, "
        "occupations, squeezing xi^2 of k = 0 and k = pi, excitation density <sz> (docs/physics.md 6)");
    add_config_option(sub);
    auto* xo = sub->add_option("--x", o->x,
                               "Map: horizontal axis PARAM:MIN:MAX:N, PARAM in Jx, Jy, Jz, gamma_phi (units of gamma); "
                               "without --x/--y one point is computed");
    auto* yo = sub->add_option("--y", o->y, "Map: vertical axis PARAM:MIN:MAX:N");
    xo->needs(yo);
    yo->needs(xo);
    add_couplings(sub, o->fixed, " (where not an axis)");
    sub->add_option("--dim", o->dim, "Lattice dimension 1, 2, 3")->check(CLI::Range(1, 3))->capture_default_str();
    sub->add_option("--size", o->size,
                    "Finite periodic lattice (N or LxxLy...): sum over its k; default: infinite lattice (integral)");
    sub->add_option("--tol", o->tol,
                    "Relative tolerance of the Brillouin-zone integral on the infinite lattice "
                    "(default 1e-9 at a point, 1e-7 for a map)")
        ->check(CLI::Range(1e-13, 1e-2));
    sub->add_option("--modes", o->samples,
                    "At a point on the infinite lattice: how many u in [-1, 1] the per-mode table lists")
        ->check(CLI::Range(1, 100001))
        ->capture_default_str();
    sub->add_option("-o,--output", o->out, "Write the result to this HDF5 file (/gaussian/...)");
    sub->add_flag("--overwrite", o->overwrite, "Replace an existing output file");
    sub->add_flag("--json", o->json, "Print the result as one JSON object");

    auto run = [o, command_line]() -> int {
        const bool map = !o->x.empty();
        if (std::isnan(o->tol)) throw Error("--tol: must be a number in [1e-13, 0.01]", exit_code::usage);
        check_all(couplings_parameters(), o->fixed, ParamSource::command_line());
        ParamGrid grid;
        if (map) {
            grid = ParamGrid{parse_axis(o->x, "--x"), parse_axis(o->y, "--y"), o->fixed};
            if (grid.x.name == grid.y.name) throw Error("--x and --y must be different parameters", exit_code::usage);
            if ((long long)grid.x.n * grid.y.n > kMaxGridPoints)
                throw Error("--x/--y: " + std::to_string((long long)grid.x.n * grid.y.n) + " grid points; at most " +
                                std::to_string(kMaxGridPoints),
                            exit_code::usage);
        } else {
            grid = ParamGrid{GridAxis{"Jx", o->fixed.Jx, o->fixed.Jx, 1}, GridAxis{"Jy", o->fixed.Jy, o->fixed.Jy, 1},
                             o->fixed};
        }
        Lattice lat;
        const bool finite = !o->size.empty();
        if (finite) lat = parse_size(o->size, o->dim, true);
        if (finite && lat.sites() > (index_t(1) << 24))
            throw Error("--size: at most 2^24 sites for gaussian (the allowed k are enumerated)", exit_code::usage);
        const double tol = o->tol > 0 ? o->tol : map ? 1e-7 : 1e-9;
        const GaussianTheory theory(o->dim, finite ? &lat : nullptr, tol);
        const std::string lattice = finite ? lattice_text(lat) : "infinite " + std::to_string(o->dim) + "D lattice";

        const int nx = grid.x.n, ny = grid.y.n, P = grid.points();
        std::vector<GaussianPoint> points(static_cast<std::size_t>(P));
        // In blocks of a few points per thread, so that a stop signal is seen
        // between them (a 3D point on the infinite lattice takes about 15 ms).
        const int block = 4 * omp_get_max_threads();
        for (int first = 0; first < P; first += block) {
            throw_if_interrupted("after " + std::to_string(first) + " of " + std::to_string(P) + " points; nothing written");
            const int last = std::min(P, first + block);
#pragma omp parallel for schedule(dynamic, 1)
            for (int p = first; p < last; ++p) points[std::size_t(p)] = theory.at(grid.at(p));
        }
        const std::vector<GaussianMode> modes = map ? std::vector<GaussianMode>{} : theory.modes(o->fixed, points[0].on_site, o->samples);

        if (!o->out.empty()) {
            throw_if_interrupted("before " + o->out + " was written; nothing written");
            NewFile file(o->out, o->overwrite);
            const hid_t f = file.handle();
            write_provenance(f, command_line, map ? "Gaussian fluctuation map" : "Gaussian fluctuations at one point");
            h5::Id g = h5::create_group(f, "/gaussian");
            h5::set_attr(g, "x_name", grid.x.name);
            h5::set_attr(g, "y_name", grid.y.name);
            h5::set_attr(g, "dim", std::int64_t(o->dim));
            h5::set_attr(g, "lattice", finite ? lattice_text(lat) : std::string("infinite (continuous k)"));
            h5::set_attr(g, "tol", tol);
            write_params(g, couplings_parameters(), o->fixed);
            h5::set_attr(g, "fixed_note", std::string("Jx, Jy, Jz, gamma_phi attributes hold only where not an axis"));
            h5::set_attr(g, "units", std::string("rates in gamma; occupations per mode; xi2 dimensionless"));
            auto dbl = [&](const char* name, const std::vector<hsize_t>& dims, const double* v) {
                h5::write_array(g, name, dims, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, v, false);
            };
            const std::vector<double> xs = grid.x.values(), ys = grid.y.values();
            dbl("x", {hsize_t(nx)}, xs.data());
            dbl("y", {hsize_t(ny)}, ys.data());
            std::vector<PointValues> v;
            for (const GaussianPoint& p : points) v.push_back(values_of(p));
            const std::vector<hsize_t> shape = {hsize_t(ny), hsize_t(nx)};
            auto field = [&](const char* name, double PointValues::*member) {
                std::vector<double> a;
                for (const PointValues& pv : v) a.push_back(pv.*member);
                dbl(name, shape, a.data());
            };
            auto cfield = [&](const char* name, std::complex<double> PointValues::*member) {
                std::vector<double> a;
                for (const PointValues& pv : v) { a.push_back((pv.*member).real()); a.push_back((pv.*member).imag()); }
                dbl(name, {hsize_t(ny), hsize_t(nx), 2}, a.data());
            };
            field("applies", &PointValues::applies);
            field("relaxation_rate", &PointValues::relaxation_rate);
            field("slowest_u", &PointValues::slowest_u);
            field("xi2_k0", &PointValues::xi2_k0);
            field("xi2_kpi", &PointValues::xi2_kpi);
            field("n_k0", &PointValues::n_k0);
            field("n_kpi", &PointValues::n_kpi);
            cfield("a_k0", &PointValues::a_k0);
            cfield("a_kpi", &PointValues::a_kpi);
            field("sz", &PointValues::sz);
            field("sz_error", &PointValues::sz_error);
            field("sz_converged", &PointValues::sz_converged);
            if (!modes.empty()) {
                h5::Id mg = h5::create_group(g, "modes");
                std::vector<double> u, w, gg, n, poles, an;
                for (const GaussianMode& m : modes) {
                    u.push_back(m.u); w.push_back(m.w); gg.push_back(m.g); n.push_back(m.n);
                    for (const auto& l : m.poles) { poles.push_back(l.real()); poles.push_back(l.imag()); }
                    an.push_back(m.anomalous.real());
                    an.push_back(m.anomalous.imag());
                }
                const hsize_t M = modes.size();
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
            file.commit();
        }

        if (!map) {
            if (o->json) {
                nlohmann::json j = point_json(points[0], modes);
                j["lattice"] = lattice;
                j["Jx"] = o->fixed.Jx;
                j["Jy"] = o->fixed.Jy;
                j["Jz"] = o->fixed.Jz;
                j["gamma"] = o->fixed.gamma;
                j["gamma_phi"] = o->fixed.gamma_phi;
                std::printf("%s\n", j.dump().c_str());
            } else {
                print_point(points[0], o->fixed, lattice);
                if (!o->out.empty()) std::printf("wrote %s\n", o->out.c_str());
            }
            return 0;
        }
        int applies = 0;
        double xi2_min = HUGE_VAL;
        for (const GaussianPoint& p : points) {
            applies += p.applies;
            if (p.applies) xi2_min = std::min({xi2_min, p.k0.xi2, std::isfinite(p.kpi.xi2) ? p.kpi.xi2 : HUGE_VAL});
        }
        if (o->json) {
            auto column = [&](double PointValues::*member) {
                nlohmann::json a = nlohmann::json::array();
                for (const GaussianPoint& p : points) a.push_back(json_number(values_of(p).*member));
                return a;
            };
            nlohmann::json j = {{"x", {{"name", grid.x.name}, {"values", grid.x.values()}}},
                                {"y", {{"name", grid.y.name}, {"values", grid.y.values()}}},
                                {"lattice", lattice},
                                {"applies", column(&PointValues::applies)},
                                {"relaxation_rate", column(&PointValues::relaxation_rate)},
                                {"xi2_k0", column(&PointValues::xi2_k0)},
                                {"xi2_kpi", column(&PointValues::xi2_kpi)},
                                {"n_k0", column(&PointValues::n_k0)},
                                {"n_kpi", column(&PointValues::n_kpi)},
                                {"sz", column(&PointValues::sz)},
                                {"sz_error", column(&PointValues::sz_error)}};
            std::printf("%s\n", j.dump().c_str());
            return 0;
        }
        std::printf("Gaussian map: %s x %s, %d x %d points, %s, Jz = %g, gamma = %g, gamma_phi = %g (where not an axis)\n",
                    o->x.c_str(), o->y.c_str(), nx, ny, lattice.c_str(), o->fixed.Jz, o->fixed.gamma, o->fixed.gamma_phi);
        std::printf("  the theory applies (PM stable, a steady state) at %d of %d points", applies, P);
        if (applies) std::printf("; smallest xi^2 (k = 0, pi) %.6g", xi2_min);
        std::printf("\n");
        if (!o->out.empty()) std::printf("wrote %s\n", o->out.c_str());
        return 0;
    };
    return {sub, run};
}

}  // namespace xyzmf::cli
