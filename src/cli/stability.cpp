// `xyzmf stability`: the linear-stability map of the paramagnet over two
// parameters (physics.md 3.5), its predicted phases, and Lifshitz points.
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "options.hpp"
#include "xyzmf/error.hpp"
#include "xyzmf/signals.hpp"
#include "xyzmf/output_file.hpp"
#include "xyzmf/schema.hpp"
#include "xyzmf/param_grid.hpp"
#include "xyzmf/stability.hpp"
#include "xyzmf/sweep.hpp"

namespace xyzmf::cli {
namespace {

struct StabilityOptions {
    std::string x = "Jx:-6:6:241", y = "Jy:-6:6:241", size, out;
    Couplings fixed{0, 0, 1, 1, 0};
    int dim = 2;
    bool json = false, lifshitz = false, overwrite = false;
};

// The phases a linear-stability map predicts, with sweep.hpp's codes (the one table).
constexpr PhaseCode kMapPhases[] = {kPM, kFM, kAFM, kSDW, kSXY, kTie};

std::string map_phase_codes_text() {  // "0 PM, 1 FM, ..., 8 FM/AFM (...)"
    std::string s;
    for (PhaseCode c : kMapPhases) s += (s.empty() ? "" : ", ") + std::to_string(int(c)) + " " + phase_name(c);
    return s + " (k = 0 and k = pi grow equally)";
}

}  // namespace

Command add_stability_command(CLI::App& app, const std::string& command_line) {
    auto o = std::make_shared<StabilityOptions>();
    CLI::App* sub = app.add_subcommand("stability",
                                       "Linear stability of the paramagnet over a parameter grid: most unstable k, "
                                       "growth rate, predicted phase (physics.md 3.5); --lifshitz");
    add_config_option(sub);
    sub->add_option("--x", o->x, "Horizontal axis PARAM:MIN:MAX:N, PARAM in Jx, Jy, Jz, gamma_phi (units of gamma)")
        ->capture_default_str();
    sub->add_option("--y", o->y, "Vertical axis PARAM:MIN:MAX:N")->capture_default_str();
    add_couplings(sub, o->fixed, " where it is not an axis");
    sub->add_option("--dim", o->dim, "Lattice dimension 1, 2, 3 (sets which k a finite --size allows)")
        ->check(CLI::Range(1, 3))->capture_default_str();
    sub->add_option("--size", o->size, "Finite periodic lattice whose k are allowed (N or LxxLy...); default: infinite");
    sub->add_option("-o,--output", o->out, "Write the map to this HDF5 file (/map/...)");
    sub->add_flag("--overwrite", o->overwrite, "Replace an existing output file");
    sub->add_flag("--json", o->json, "Print the map as one JSON object");
    sub->add_flag("--lifshitz", o->lifshitz,
                  "Locate the Lifshitz points on the PM boundary in the (Jx, Jy) plane at the given Jz, gamma, gamma_phi");

    auto run = [o, command_line]() -> int {
        ParamGrid grid{parse_axis(o->x, "--x"), parse_axis(o->y, "--y"), o->fixed};
        if (grid.x.name == grid.y.name) throw Error("--x and --y must be different parameters", exit_code::usage);
        if ((long long)grid.x.n * grid.y.n > kMaxGridPoints)
            throw Error("--x/--y: " + std::to_string((long long)grid.x.n * grid.y.n) + " grid points; at most " +
                            std::to_string(kMaxGridPoints),
                        exit_code::usage);
        check_all(couplings_parameters(), o->fixed, ParamSource::command_line());
        Lattice lat;
        const bool finite = !o->size.empty();
        if (finite) lat = parse_size(o->size, o->dim, true);
        if (finite && lat.sites() > (index_t(1) << 24))
            throw Error("--size: at most 2^24 sites for a stability map (the allowed k are enumerated)", exit_code::usage);
        const StabilityMap map(o->dim, finite ? &lat : nullptr);

        const int nx = grid.x.n, ny = grid.y.n, P = grid.points();
        std::vector<double> growth(P), u(P), period(P), k(3 * std::size_t(P));
        std::vector<std::int64_t> code(P);
        std::map<std::string, int> counts;
        for (int p = 0; p < P; ++p) {
            if (p % 4096 == 0)
                throw_if_interrupted("after " + std::to_string(p) + " of " + std::to_string(P) + " points; nothing written");
            const StabilityPoint s = map.at(grid.at(p));
            growth[p] = s.growth;
            u[p] = s.u;
            period[p] = s.period;
            for (int a = 0; a < 3; ++a) k[3 * p + a] = s.k[a];
            code[p] = phase_code(s.phase);
            ++counts[s.phase];
        }
        std::vector<LifshitzPoint> lif;
        if (o->lifshitz) lif = find_lifshitz_points(o->fixed, map);

        if (!o->out.empty()) {
            throw_if_interrupted("before " + o->out + " was written; nothing written");
            NewFile file(o->out, o->overwrite);
            const hid_t f = file.handle();
            write_provenance(f, command_line, "stability map");
            h5::Id g = h5::create_group(f, "/map");
            h5::set_attr(g, "x_name", grid.x.name);
            h5::set_attr(g, "y_name", grid.y.name);
            h5::set_attr(g, "phase_codes", map_phase_codes_text());
            h5::set_attr(g, "dim", std::int64_t(o->dim));
            h5::set_attr(g, "lattice", finite ? lattice_text(lat) : std::string("infinite (continuous k)"));
            write_params(g, couplings_parameters(), o->fixed);
            h5::set_attr(g, "fixed_note", std::string("Jx, Jy, Jz, gamma_phi attributes hold only where not an axis"));
            const std::vector<double> xs = grid.x.values(), ys = grid.y.values();
            auto dbl = [&](const char* name, const std::vector<hsize_t>& dims, const double* v) {
                h5::write_array(g, name, dims, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, v, false);
            };
            dbl("x", {hsize_t(nx)}, xs.data());
            dbl("y", {hsize_t(ny)}, ys.data());
            dbl("growth", {hsize_t(ny), hsize_t(nx)}, growth.data());
            dbl("u", {hsize_t(ny), hsize_t(nx)}, u.data());
            dbl("period", {hsize_t(ny), hsize_t(nx)}, period.data());
            dbl("k", {hsize_t(ny), hsize_t(nx), 3}, k.data());
            h5::write_array(g, "phase", {hsize_t(ny), hsize_t(nx)}, H5T_NATIVE_INT64, H5T_STD_I64LE, code.data(), false);
            if (!lif.empty()) {
                std::vector<double> lp;
                for (const auto& l : lif) { lp.push_back(l.Jx); lp.push_back(l.Jy); }
                dbl("lifshitz_points", {hsize_t(lif.size()), 2}, lp.data());
                std::vector<std::int64_t> side;
                for (const auto& l : lif) side.push_back(l.side);
                h5::write_array(g, "lifshitz_side", {hsize_t(lif.size())}, H5T_NATIVE_INT64, H5T_STD_I64LE, side.data(), 0);
            }
            file.commit();
        }
        if (o->json) {
            nlohmann::json codes_json = nlohmann::json::object();
            for (PhaseCode c : kMapPhases) codes_json[std::to_string(int(c))] = phase_name(c);
            nlohmann::json j = {{"x", {{"name", grid.x.name}, {"values", grid.x.values()}}},
                                {"y", {{"name", grid.y.name}, {"values", grid.y.values()}}},
                                {"lattice", finite ? lattice_text(lat) : "infinite"},
                                {"phase_codes", codes_json},
                                {"phase", code}, {"growth", growth}, {"u", u}, {"period", period}, {"counts", counts}};
            nlohmann::json lj = nlohmann::json::array();
            for (const auto& l : lif)
                lj.push_back({{"Jx", l.Jx}, {"Jy", l.Jy}, {"k_leaves", l.side > 0 ? "0 (FM | SDW)" : "pi (AFM | SDW)"}});
            if (o->lifshitz) j["lifshitz"] = lj;
            std::printf("%s\n", j.dump().c_str());
            return 0;
        }
        std::printf("stability map: %s x %s, %d x %d points, %s, Jz = %g, gamma = %g, gamma_phi = %g (where not an axis)\n",
                    o->x.c_str(), o->y.c_str(), nx, ny, finite ? lattice_text(lat).c_str() : "infinite lattice",
                    o->fixed.Jz, o->fixed.gamma, o->fixed.gamma_phi);
        for (const auto& [name, n] : counts) std::printf("  %-6s %6d points (%.1f%%)\n", name.c_str(), n, 100.0 * n / P);
        if (o->lifshitz) {
            if (lif.empty()) std::printf("no Lifshitz point on the PM boundary for |Jx|, |Jy| in (0, 6]\n");
            for (const auto& l : lif)
                std::printf("Lifshitz point: Jx = %.4f, Jy = %.4f (k leaves %s)\n", l.Jx, l.Jy,
                            l.side > 0 ? "0: FM | SDW" : "pi: AFM | SDW");
        }
        if (!o->out.empty()) std::printf("wrote %s\n", o->out.c_str());
        return 0;
    };
    return {sub, run};
}

}  // namespace xyzmf::cli
