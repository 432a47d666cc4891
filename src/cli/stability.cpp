// `xyzmf stability`: the linear-stability map of the paramagnet over two
// parameters (physics.md 3.5), its predicted phases, and Lifshitz points.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "options.hpp"
#include "xyzmf/error.hpp"
#include "signals.hpp"
#include "output_file.hpp"
#include "map_file.hpp"
#include "schema.hpp"
#include "sweep.hpp"

namespace xyzmf::cli {
namespace {

struct StabilityOptions {
    std::string x = "Jx:-6:6:241", y = "Jy:-6:6:241", size, out;
    Couplings fixed{0, 0, 1, 1, 0};
    int dim = 2;
    bool json = false, lifshitz = false, overwrite = false, quiet = false;
    std::vector<CLI::Option*> couplings;
    CLI::Option* dim_opt = nullptr;
};

void add_options(CLI::App* sub, StabilityOptions& o) {
    add_config_option(sub);
    sub->add_option("--x", o.x, "Horizontal axis PARAM:MIN:MAX:N, PARAM in Jx, Jy, Jz, gamma_phi (units of gamma)")
        ->capture_default_str();
    sub->add_option("--y", o.y, "Vertical axis PARAM:MIN:MAX:N")->capture_default_str();
    o.couplings = add_couplings(sub, o.fixed, " where it is not an axis");
    explain_map_jz(o.couplings);
    o.dim_opt = sub->add_option("--dim", o.dim, "Lattice dimension 1, 2, 3 (inferred from --size AxB[xC])")
        ->check(CLI::Range(1, 3))->capture_default_str();
    sub->add_option("--size", o.size, "Finite periodic lattice whose k are allowed (N or LxxLy...); default: infinite");
    sub->add_option("-o,--output", o.out, "Write the map to this HDF5 file (/map/...)");
    sub->add_flag("--overwrite", o.overwrite, "Replace an existing output file");
    sub->add_flag("--json", o.json, "Print the map as one JSON object");
    sub->add_flag("-q,--quiet", o.quiet, "No report on stdout (the file, or --json, holds the results)");
    sub->add_flag("--lifshitz", o.lifshitz,
                  "Locate the Lifshitz points on the PM boundary in the (Jx, Jy) plane at the given Jz, gamma, gamma_phi");
}

void print_json(const StabilityOptions& o, const StabilityMapResult& m) {
    nlohmann::json codes_json = nlohmann::json::object();
    for (std::int64_t c : kMapPhases) codes_json[std::to_string(int(c))] = phase_name(c);
    nlohmann::json j = {{"x", {{"name", m.grid.x.name}, {"values", m.grid.x.values()}}},
                        {"y", {{"name", m.grid.y.name}, {"values", m.grid.y.values()}}},
                        {"lattice", m.finite ? lattice_text(m.lattice) : "infinite"},
                        {"phase_codes", codes_json},
                        {"phase", m.code}, {"growth", m.growth}, {"u", m.u}, {"period", m.period}, {"counts", m.counts}};
    nlohmann::json lj = nlohmann::json::array();
    for (const auto& l : m.lifshitz)
        lj.push_back({{"Jx", l.Jx}, {"Jy", l.Jy}, {"k_leaves", l.side > 0 ? "0 (FM | SDW)" : "pi (AFM | SDW)"}});
    if (o.lifshitz) j["lifshitz"] = lj;
    std::printf("%s\n", j.dump().c_str());
}

void print_summary(const StabilityOptions& o, const StabilityMapResult& m) {
    const int P = m.grid.points();
    std::printf("stability map: %s x %s, %d x %d points, %s, Jz = %g, gamma = %g, gamma_phi = %g (where not an axis)\n",
                o.x.c_str(), o.y.c_str(), m.grid.x.n, m.grid.y.n, m.finite ? lattice_text(m.lattice).c_str() : "infinite lattice",
                o.fixed.Jz, o.fixed.gamma, o.fixed.gamma_phi);
    for (const auto& [name, n] : m.counts) std::printf("  %-6s %6d points (%.1f%%)\n", name.c_str(), n, 100.0 * n / P);
    if (o.lifshitz) {
        if (m.lifshitz.empty()) std::printf("no Lifshitz point on the PM boundary for |Jx|, |Jy| in (0, 6]\n");
        for (const auto& l : m.lifshitz)
            std::printf("Lifshitz point: Jx = %.4f, Jy = %.4f (k leaves %s)\n", l.Jx, l.Jy,
                        l.side > 0 ? "0: FM | SDW" : "pi: AFM | SDW");
    }
    if (!o.out.empty()) std::printf("wrote %s\n", o.out.c_str());
}

int execute(const StabilityOptions& o, const std::string& command_line) {
    ParamGrid grid{parse_axis(o.x, "--x"), parse_axis(o.y, "--y"), o.fixed};
    if (grid.x.name == grid.y.name) throw Error("--x and --y must be different parameters", exit_code::usage);
    refuse_axis_values(o.couplings, grid.x.name, grid.y.name, "map");
    // The points lie in the (Jx, Jy) plane at the fixed Jz: on a map of other axes they
    // would be printed beside it as if they were its own.
    const bool jx_jy = (grid.x.name == "Jx" && grid.y.name == "Jy") || (grid.x.name == "Jy" && grid.y.name == "Jx");
    if (o.lifshitz && !jx_jy)
        throw Error("--lifshitz: locates the Lifshitz points of the (Jx, Jy) plane, and this map's axes are " +
                        grid.x.name + " and " + grid.y.name + " (map Jx and Jy, or drop --lifshitz)",
                    exit_code::usage);
    if ((long long)grid.x.n * grid.y.n > kMaxGridPoints)
        throw Error("--x/--y: " + std::to_string((long long)grid.x.n * grid.y.n) + " grid points; at most " +
                        std::to_string(kMaxGridPoints),
                    exit_code::usage);
    check_all(couplings_parameters(), o.fixed, ParamSource::command_line());
    Lattice lat;
    const bool finite = !o.size.empty();
    if (finite) lat = parse_size(o.size, o.dim, o.dim_opt->count() > 0);
    const int dim = finite ? lat.dim : o.dim;
    if (finite && lat.sites() > (index_t(1) << 24))
        throw Error("--size: at most 2^24 sites for a stability map (the allowed k are enumerated)", exit_code::usage);
    const StabilityMapResult m = compute_stability_map(grid, dim, finite ? &lat : nullptr, o.lifshitz);
    if (!o.out.empty()) {
        throw_if_interrupted("before " + o.out + " was written; nothing written");
        NewFile file(o.out, o.overwrite);
        write_provenance(file.handle(), command_line, "stability map");
        write_map_group(file.handle(), m);
        file.commit();
    }
    if (o.json)
        print_json(o, m);
    else if (!o.quiet)
        print_summary(o, m);
    return 0;
}

}  // namespace

Command add_stability_command(CLI::App& app, const std::string& command_line) {
    auto o = std::make_shared<StabilityOptions>();
    CLI::App* sub = app.add_subcommand("stability",
                                       "Linear stability of the paramagnet over a parameter grid: most unstable k, "
                                       "growth rate, predicted phase (physics.md 3.5); --lifshitz");
    add_options(sub, *o);
    return {sub, [o, command_line] { return execute(*o, command_line); }};
}

}  // namespace xyzmf::cli
