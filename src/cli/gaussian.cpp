// `xyzmf gaussian`: Gaussian fluctuations of the paramagnet (docs/physics.md
// section 6) at one parameter point or over a map, like `xyzmf stability`.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "json_number.hpp"
#include "options.hpp"
#include "xyzmf/error.hpp"
#include "signals.hpp"
#include "gaussian_file.hpp"
#include "output_file.hpp"
#include "schema.hpp"

namespace xyzmf::cli {
namespace {

struct GaussianOptions {
    std::string x, y, size, out;
    Couplings fixed{0, 0, 0, 1, 0};
    int dim = 2, samples = 21;
    double tol = 0;  // 0: 1e-9 at a point, 1e-7 for a map
    bool json = false, overwrite = false, quiet = false;
    std::vector<CLI::Option*> couplings;
    CLI::Option *tol_opt = nullptr, *modes_opt = nullptr, *dim_opt = nullptr;
};

void add_options(CLI::App* sub, GaussianOptions& o) {
    add_config_option(sub);
    auto* xo = sub->add_option("--x", o.x,
                               "Map: horizontal axis PARAM:MIN:MAX:N, PARAM in Jx, Jy, Jz, gamma_phi (units of gamma); "
                               "without --x/--y one point is computed");
    auto* yo = sub->add_option("--y", o.y, "Map: vertical axis PARAM:MIN:MAX:N");
    xo->needs(yo);
    yo->needs(xo);
    o.couplings = add_couplings(sub, o.fixed, " (where not an axis)");
    o.dim_opt = sub->add_option("--dim", o.dim, "Lattice dimension 1, 2, 3 (inferred from --size AxB[xC])")
                    ->check(CLI::Range(1, 3))
                    ->capture_default_str();
    sub->add_option("--size", o.size,
                    "Finite periodic lattice (N or LxxLy...): sum over its k; default: infinite lattice (integral)");
    o.tol_opt = sub->add_option("--tol", o.tol,
                    "Relative tolerance of the Brillouin-zone integral on the infinite lattice "
                    "(default 1e-9 at a point, 1e-7 for a map)")
        ->check(CLI::Range(1e-13, 1e-2));
    o.modes_opt = sub->add_option("--modes", o.samples,
                    "At a point on the infinite lattice: how many u in [-1, 1] the per-mode table lists")
        ->check(CLI::Range(1, 100001))
        ->capture_default_str();
    sub->add_option("-o,--output", o.out, "Write the result to this HDF5 file (/gaussian/...)");
    sub->add_flag("--overwrite", o.overwrite, "Replace an existing output file");
    sub->add_flag("--json", o.json, "Print the result as one JSON object");
    sub->add_flag("-q,--quiet", o.quiet, "No report on stdout (the file, or --json, holds the results)");
}

nlohmann::json complex_pair(std::complex<double> v) {
    return std::isfinite(v.real()) ? nlohmann::json{v.real(), v.imag()} : nlohmann::json(nullptr);
}

nlohmann::json point_json(const GaussianPoint& p, const std::vector<GaussianMode>& modes) {
    const GaussianValues v = gaussian_values(p);
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

void print_point_result(const GaussianOptions& o, const GaussianResult& r, const std::string& lattice) {
    if (o.json) {
        nlohmann::json j = point_json(r.points[0], r.modes);
        j["lattice"] = lattice;
        j["Jx"] = o.fixed.Jx;
        j["Jy"] = o.fixed.Jy;
        j["Jz"] = o.fixed.Jz;
        j["gamma"] = o.fixed.gamma;
        j["gamma_phi"] = o.fixed.gamma_phi;
        std::printf("%s\n", j.dump().c_str());
        return;
    }
    print_point(r.points[0], o.fixed, lattice);
    if (!o.out.empty()) std::printf("wrote %s\n", o.out.c_str());
}

void print_map_result(const GaussianOptions& o, const GaussianResult& r, const std::string& lattice) {
    const ParamGrid& grid = r.grid;
    if (o.json) {
        auto column = [&](double GaussianValues::*member) {
            nlohmann::json a = nlohmann::json::array();
            for (const GaussianPoint& p : r.points) a.push_back(json_number(gaussian_values(p).*member));
            return a;
        };
        nlohmann::json j = {{"x", {{"name", grid.x.name}, {"values", grid.x.values()}}},
                            {"y", {{"name", grid.y.name}, {"values", grid.y.values()}}},
                            {"lattice", lattice},
                            {"applies", column(&GaussianValues::applies)},
                            {"relaxation_rate", column(&GaussianValues::relaxation_rate)},
                            {"xi2_k0", column(&GaussianValues::xi2_k0)},
                            {"xi2_kpi", column(&GaussianValues::xi2_kpi)},
                            {"n_k0", column(&GaussianValues::n_k0)},
                            {"n_kpi", column(&GaussianValues::n_kpi)},
                            {"sz", column(&GaussianValues::sz)},
                            {"sz_error", column(&GaussianValues::sz_error)}};
        std::printf("%s\n", j.dump().c_str());
        return;
    }
    int applies = 0;
    double xi2_min = HUGE_VAL;
    for (const GaussianPoint& p : r.points) {
        applies += p.applies;
        if (p.applies) xi2_min = std::min({xi2_min, p.k0.xi2, std::isfinite(p.kpi.xi2) ? p.kpi.xi2 : HUGE_VAL});
    }
    std::printf("Gaussian map: %s x %s, %d x %d points, %s, Jz = %g, gamma = %g, gamma_phi = %g (where not an axis)\n",
                o.x.c_str(), o.y.c_str(), grid.x.n, grid.y.n, lattice.c_str(), o.fixed.Jz, o.fixed.gamma,
                o.fixed.gamma_phi);
    std::printf("  the theory applies (PM stable, a steady state) at %d of %d points", applies, grid.points());
    if (applies) std::printf("; smallest xi^2 (k = 0, pi) %.6g", xi2_min);
    std::printf("\n");
    if (!o.out.empty()) std::printf("wrote %s\n", o.out.c_str());
}

int execute(const GaussianOptions& o, const std::string& command_line) {
    const bool map = !o.x.empty();
    if (std::isnan(o.tol)) throw Error("--tol: must be a number in [1e-13, 0.01]", exit_code::usage);
    check_all(couplings_parameters(), o.fixed, ParamSource::command_line());
    ParamGrid grid;
    if (map) {
        grid = ParamGrid{parse_axis(o.x, "--x"), parse_axis(o.y, "--y"), o.fixed};
        if (grid.x.name == grid.y.name) throw Error("--x and --y must be different parameters", exit_code::usage);
        refuse_axis_values(o.couplings, grid.x.name, grid.y.name, "map");
        if ((long long)grid.x.n * grid.y.n > kMaxGridPoints)
            throw Error("--x/--y: " + std::to_string((long long)grid.x.n * grid.y.n) + " grid points; at most " +
                            std::to_string(kMaxGridPoints),
                        exit_code::usage);
    } else {
        grid = ParamGrid{GridAxis{"Jx", o.fixed.Jx, o.fixed.Jx, 1}, GridAxis{"Jy", o.fixed.Jy, o.fixed.Jy, 1}, o.fixed};
    }
    Lattice lat;
    const bool finite = !o.size.empty();
    // Options for what this computation does not do are refused, not ignored.
    if (finite && o.tol_opt->count() > 0)
        throw Error("--tol: the tolerance of the infinite lattice's integral; --size sums its k exactly", exit_code::usage);
    if ((finite || map) && o.modes_opt->count() > 0)
        throw Error(std::string("--modes: the per-mode table of one point on the infinite lattice; ") +
                        (map ? "a map lists none" : "--size lists its own k"),
                    exit_code::usage);
    if (finite) lat = parse_size(o.size, o.dim, o.dim_opt->count() > 0);
    const int dim = finite ? lat.dim : o.dim;
    if (finite && lat.sites() > (index_t(1) << 24))
        throw Error("--size: at most 2^24 sites for gaussian (the allowed k are enumerated)", exit_code::usage);
    const double tol = o.tol > 0 ? o.tol : map ? 1e-7 : 1e-9;
    const GaussianResult r = compute_gaussian(grid, map, dim, finite ? &lat : nullptr, tol, o.samples);
    const std::string lattice = finite ? lattice_text(lat) : "infinite " + std::to_string(dim) + "D lattice";
    if (!o.out.empty()) {
        throw_if_interrupted("before " + o.out + " was written; nothing written");
        NewFile file(o.out, o.overwrite);
        write_provenance(file.handle(), command_line,
                         map ? "Gaussian fluctuation map" : "Gaussian fluctuations at one point");
        write_gaussian_group(file.handle(), r);
        file.commit();
    }
    if (o.quiet && !o.json) return 0;
    if (map)
        print_map_result(o, r, lattice);
    else
        print_point_result(o, r, lattice);
    return 0;
}

}  // namespace

Command add_gaussian_command(CLI::App& app, const std::string& command_line) {
    auto o = std::make_shared<GaussianOptions>();
    CLI::App* sub = app.add_subcommand(
        "gaussian",
        "Gaussian (hard-core boson) fluctuations of the paramagnet at one point or over a map: relaxation rates, "
        "occupations, squeezing xi^2 of k = 0 and k = pi, excitation density <sz> (docs/physics.md 6)");
    add_options(sub, *o);
    return {sub, [o, command_line] { return execute(*o, command_line); }};
}

}  // namespace xyzmf::cli
