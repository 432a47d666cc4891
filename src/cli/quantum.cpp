// `xyzmf quantum`: exact quantum dynamics of a small ring or cluster, by
// Monte-Carlo wave-function trajectories or, for small N, the exact density
// matrix (steady state and Liouvillian gap). docs/physics.md section 7.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "backend_select.hpp"
#include "cli.hpp"
#include "json_number.hpp"
#include "options.hpp"
#include "quantum_file.hpp"
#include "xyzmf/backend.hpp"
#include "xyzmf/error.hpp"
#include "output_file.hpp"
#include "run_config.hpp"
#include "schema.hpp"
#include "signals.hpp"

namespace xyzmf::cli {
namespace {

struct QuantumOptions {
    QuantumConfig cfg;
    int sites = 8;
    std::string size, out, resume, backend = "auto";
    bool json = false, overwrite = false, quiet = false;
    std::vector<CLI::Option*> physics;  // what --resume takes from the file instead
    CLI::Option* burn_in = nullptr;
    std::vector<CLI::Option*> trajectories_only;  // --trajectories, --batch, --burn-in, --seed: refused with --method exact
    std::vector<CLI::Option*> series_only;        // --init, --t-end, --sample-dt, --tol: with exact, only for --series
};

// The displacements a table lists: r = 0 .. N/2 on a ring (the rest mirror
// them), every displacement of a cluster.
std::vector<int> listed(const Lattice& lat) {
    std::vector<int> r;
    const int N = int(lat.copy_sites());
    const int n = lat.dim == 1 ? N / 2 + 1 : N;
    for (int k = 0; k < n; ++k) r.push_back(k);
    return r;
}
std::string displacement(const Lattice& lat, int r) {
    if (lat.dim == 1) return std::to_string(r);
    std::string s = "(" + std::to_string(r % lat.L[0]);
    s += "," + std::to_string((r / lat.L[0]) % lat.L[1]);
    if (lat.dim == 3) s += "," + std::to_string(r / (lat.L[0] * lat.L[1]));
    return s + ")";
}
std::string geometry(const Lattice& lat) {
    return lat.dim == 1 ? "ring of " + std::to_string(lat.L[0]) + " spins"
                        : lattice_text(lat) + " periodic cluster, " + std::to_string(lat.copy_sites()) + " spins";
}

nlohmann::json correlations_json(const Lattice& lat, const Correlations& c, const Correlations* err) {
    nlohmann::json j;
    const char* names[3] = {"cx", "cy", "cz"};
    for (int a = 0; a < 3; ++a) {
        nlohmann::json v = nlohmann::json::array(), e = nlohmann::json::array();
        for (int r : listed(lat)) {
            v.push_back(json_number(c.c[a][std::size_t(r)]));
            if (err) e.push_back(json_number(err->c[a][std::size_t(r)]));
        }
        j[names[a]] = v;
        if (err) j[std::string(names[a]) + "_err"] = e;
    }
    nlohmann::json rs = nlohmann::json::array();
    for (int r : listed(lat)) {
        if (lat.dim == 1) rs.push_back(r);
        else rs.push_back({r % lat.L[0], (r / lat.L[0]) % lat.L[1], r / (lat.L[0] * lat.L[1])});
    }
    j["r"] = rs;
    return j;
}

void print_table(const Lattice& lat, const Correlations& c, const Correlations* err) {
    std::printf("  %-9s %-24s %-24s %s\n", "r", "<sx_0 sx_r>", "<sy_0 sy_r>", "<sz_0 sz_r>");
    for (int r : listed(lat)) {
        std::printf("  %-9s", displacement(lat, r).c_str());
        for (int a = 0; a < 3; ++a) {
            char cell[64];
            if (err && r > 0) std::snprintf(cell, sizeof cell, "%+.5f +- %.5f", c.c[a][std::size_t(r)], err->c[a][std::size_t(r)]);
            else std::snprintf(cell, sizeof cell, "%+.10f", c.c[a][std::size_t(r)]);
            std::printf(a < 2 ? " %-24s" : " %s", cell);
        }
        std::printf("\n");
    }
}

void add_options(CLI::App* sub, QuantumOptions& o) {
    QuantumConfig& c = o.cfg;
    add_config_option(sub);
    auto add = [&](CLI::Option* opt) { o.physics.push_back(opt); return opt; };
    auto* sites = add(sub->add_option("--sites", o.sites, "Ring of N spins (periodic chain)")->capture_default_str());
    auto* size = add(sub->add_option("--size", o.size, "Periodic 2D or 3D cluster LxxLy[xLz] instead of a ring, e.g. 4x4 (the sides spelt out)"));
    sites->excludes(size);
    for (CLI::Option* opt : add_couplings(sub, c.couplings)) add(opt);
    add(sub->add_option("--method", c.method,
                    "trajectories (Monte-Carlo wave functions) or exact (density matrix in its symmetry sector: steady state N <= 12, or 14 where a spin charge is conserved; gap N <= 12; series N <= 10)")
        ->check(CLI::IsMember({"trajectories", "exact"}))
        ->capture_default_str());
    o.trajectories_only.push_back(
        add(sub->add_option("--trajectories", c.trajectories, "Number of trajectories (averages carry standard errors over them)")
                ->capture_default_str()));
    o.trajectories_only.push_back(sub->add_option("--batch", c.batch,
                                                  "Trajectories advanced together (0: as many as keep the cores or GPU busy; "
                                                  "written to the file after each batch)")
                                      ->capture_default_str());
    o.series_only.push_back(add(sub->add_option("--t-end", c.t_end, "Time each trajectory runs, units of 1/gamma (run: 100; a ring of N spins costs 2^N amplitudes "
                                       "per trajectory, and its gap sets how soon it settles; exact: with --series)")->capture_default_str()));
    o.burn_in = add(sub->add_option("--burn-in", c.burn_in,
                                    "Samples at t >= burn-in (units of 1/gamma) enter the time averages of the "
                                    "correlations and <sz>; default: half of --t-end (20 at the default 40)"));
    o.trajectories_only.push_back(o.burn_in);
    o.series_only.push_back(add(sub->add_option("--sample-dt", c.sample_dt, "Interval between samples of the observables, units of 1/gamma (exact: with --series)")
        ->capture_default_str()));
    o.series_only.push_back(add(sub->add_option("--init", c.init,
                    "Initial product state: down, up, x, y (every spin along that axis), uniform:x,y,z (every spin "
                    "along the unit vector (x, y, z)) or random (each spin a "
                    "uniformly random Bloch vector, drawn per trajectory; for --method exact: the identity / 2^N) (run: "
                    "random, as a mean-field lattice needs noise to leave its symmetric states; quantum fluctuations "
                    "do that here)")
        ->capture_default_str()));
    o.trajectories_only.push_back(add(sub->add_option("--seed", c.seed, "Seed of the trajectories' random numbers (Philox; same seed = same trajectories)")
        ->check(seed_text(find_param(quantum_parameters(), "seed").hi))
        ->capture_default_str()));
    o.series_only.push_back(
        add(sub->add_option("--tol", c.tol, "Error bound of the propagator per step, relative to the norm (exact: with --series)")->capture_default_str()));
    add(sub->add_flag("--gap", c.gap, "Exact method: also the Liouvillian gap (slowest non-zero decay rate over all symmetry sectors, units of gamma; N <= 12; the sector of the slowest mode is printed; its products on the GPU with --backend cuda)"));
    add(sub->add_flag("--series", c.series,
                  "Exact method: also <sz>(t) from --init every --sample-dt up to --t-end"));
    add_backend(sub, o.backend);
    sub->add_option("-o,--output", o.out, "Write the results to this HDF5 file (/quantum/...), batch by batch");
    sub->add_flag("--overwrite", o.overwrite, "Replace an existing output file");
    sub->add_option("--resume", o.resume, "Continue the unfinished trajectories of this file (its settings are used)");
    sub->add_flag("--json", o.json, "Print the result as one JSON object");
    sub->add_flag("-q,--quiet", o.quiet, "No progress line or report (the file, or --json, holds the results)");
}

void print_exact(const QuantumOptions& o, const QuantumConfig& cfg, const ExactResults& r, double seconds, bool gap_on_gpu) {
    if (o.json) {
        nlohmann::json j = correlations_json(cfg.lattice, r.corr, nullptr);
        j["method"] = "exact";
        j["lattice"] = lattice_text(cfg.lattice);
        j["sites"] = cfg.lattice.copy_sites();
        j["Jx"] = cfg.couplings.Jx, j["Jy"] = cfg.couplings.Jy, j["Jz"] = cfg.couplings.Jz;
        j["gamma"] = cfg.couplings.gamma, j["gamma_phi"] = cfg.couplings.gamma_phi;
        j["sz"] = r.sz;
        j["residual"] = r.residual;
        j["seconds"] = seconds;
        if (cfg.gap) {
            j["gap"] = r.gap;
            j["gap_backend"] = gap_on_gpu ? "cuda" : "cpu";  // where the filter's products ran
            // The sector of the slowest mode (k in units of 2 pi / L along each axis).
            j["gap_sector"] = {{"k", r.gap_sector.momentum}, {"parity", r.gap_sector.parity}};
            if (r.gap_sector.charged) j["gap_sector"]["charge"] = r.gap_sector.charge;
            nlohmann::json ev = nlohmann::json::array();
            for (const auto& e : r.eigenvalues) ev.push_back({e.real(), e.imag()});
            j["eigenvalues"] = ev;
        }
        if (cfg.series) {
            // and the nearest-neighbour correlations (r = 1: the next site along x)
            nlohmann::json c1[3];
            for (int a = 0; a < 3; ++a) {
                c1[a] = nlohmann::json::array();
                for (const Correlations& c : r.corr_t) c1[a].push_back(json_number(c.c[a].size() > 1 ? c.c[a][1] : NAN));
            }
            j["series"] = {{"t", r.t}, {"sz", r.sz_t}, {"cx1", c1[0]}, {"cy1", c1[1]}, {"cz1", c1[2]}};
        }
        std::printf("%s\n", j.dump().c_str());
        return;
    }
    if (o.quiet) return;
    std::printf("exact density matrix: %s, Jx = %g, Jy = %g, Jz = %g, gamma = %g, gamma_phi = %g\n",
                geometry(cfg.lattice).c_str(), cfg.couplings.Jx, cfg.couplings.Jy, cfg.couplings.Jz,
                cfg.couplings.gamma, cfg.couplings.gamma_phi);
    std::printf("  steady state: <sz> = %.10f   (|L rho| / |rho| = %.1e; %.1f s)\n", r.sz, r.residual, seconds);
    if (cfg.gap)
        std::printf("  Liouvillian gap: %.8f gamma (slowest mode in %s%s)\n", r.gap,
                    sector_text(cfg.lattice, r.gap_sector).c_str(), gap_on_gpu ? "; products on the GPU" : "");
    print_table(cfg.lattice, r.corr, nullptr);
    if (cfg.series) {
        std::printf("  <sz>(t) from --init %s:\n", cfg.init.c_str());
        for (std::size_t k = 0; k < r.t.size(); ++k) std::printf("    t = %-8g %.12f\n", r.t[k], r.sz_t[k]);
    }
    if (!o.out.empty()) std::printf("wrote %s\n", o.out.c_str());
}

// The exact density matrix: the file is refused before the work and written after it.
int execute_exact(const QuantumOptions& o, const QuantumConfig& cfg, const std::string& command_line) {
    validate(cfg, ParamSource::command_line());
    std::unique_ptr<NewFile> file;
    throw_if_interrupted("before the work; nothing written");
    if (!o.out.empty()) file = std::make_unique<NewFile>(o.out, o.overwrite);  // refuse before the work
    // The gap's filter products on the GPU only where asked for: auto keeps them on
    // the CPU until tools/gpu-check.sh has compared the two on a device.
    const bool gap_on_gpu = cfg.gap && o.backend == "cuda";
    if (gap_on_gpu && cuda_device_count() == 0)
        throw Error("--backend cuda: no CUDA device is available (use --backend cpu or auto)", exit_code::usage);
    const auto t0 = std::chrono::steady_clock::now();
    const ExactResults r = solve_exact(cfg, gap_on_gpu, !(o.quiet || o.json));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    throw_if_interrupted(o.out.empty() ? "" : "; nothing written");
    if (file) {
        write_provenance(file->handle(), command_line, "quantum exact");
        record_backend(file->handle(), make_backend<double>(BackendKind::cpu)->description() +
                                           (gap_on_gpu ? "; the gap's products on cuda" : ""));
        create_quantum_group(file->handle(), cfg);
        write_exact_results(file->handle(), cfg, r);
        h5::set_attr(file->handle(), "status", std::string("finished"));
        file->commit();
    }
    print_exact(o, cfg, r, seconds, gap_on_gpu);
    return 0;
}

void print_trajectories(const QuantumOptions& o, const QuantumConfig& used, const TrajectoryRun& run,
                        const std::string& output) {
    const TrajectorySummary s = summarize(used, run.results);
    if (o.json) {
        nlohmann::json j = correlations_json(used.lattice, s.mean, &s.err);
        j["method"] = "trajectories";
        j["lattice"] = lattice_text(used.lattice);
        j["sites"] = used.lattice.copy_sites();
        j["Jx"] = used.couplings.Jx, j["Jy"] = used.couplings.Jy, j["Jz"] = used.couplings.Jz;
        j["gamma"] = used.couplings.gamma, j["gamma_phi"] = used.couplings.gamma_phi;
        j["sz"] = json_number(s.sz);
        j["sz_err"] = json_number(s.sz_err);
        j["trajectories"] = s.trajectories;
        j["jumps_per_trajectory"] = json_number(s.jumps_per_trajectory);
        j["seconds"] = run.seconds;
        j["backend"] = run.backend;
        j["series"] = {{"t", run.results.t}, {"sz", s.sz_t}, {"sz_err", s.sz_t_err}};
        std::printf("%s\n", j.dump().c_str());
        return;
    }
    if (o.quiet) return;
    std::printf("quantum trajectories: %s, Jx = %g, Jy = %g, Jz = %g, gamma = %g, gamma_phi = %g\n",
                geometry(used.lattice).c_str(), used.couplings.Jx, used.couplings.Jy, used.couplings.Jz,
                used.couplings.gamma, used.couplings.gamma_phi);
    std::printf("  %lld trajectories from '%s' to t = %g, averaged over t >= %g every %g", (long long)s.trajectories,
                used.init.c_str(), used.t_end, used.burn_in, used.sample_dt);
    if (run.done_now) std::printf("; %lld run now on %s in %.1f s", (long long)run.done_now, run.backend.c_str(), run.seconds);
    std::printf("\n  %.1f jumps per trajectory; <sz> = %.5f +- %.5f\n", s.jumps_per_trajectory, s.sz, s.sz_err);
    print_table(used.lattice, s.mean, &s.err);
    if (!output.empty()) std::printf("wrote %s\n", output.c_str());
}

// Trajectories, batch by batch into the file (or continuing one with --resume).
int execute_trajectories(const QuantumOptions& o, const QuantumConfig& cfg, const std::string& command_line) {
    QuantumRunRequest req;
    req.config = cfg;
    req.output = o.resume.empty() ? o.out : o.resume;
    req.resume = !o.resume.empty();
    req.overwrite = o.overwrite;
    req.backend = o.backend;
    req.command_line = command_line;
    TrajectoryHooks hooks;
    hooks.quiet = o.quiet || o.json;
    const TrajectoryRun run = run_trajectories(req, hooks);
    QuantumConfig used = cfg;
    if (req.resume) {
        h5::Id f = open_xyzmf(req.output, false);
        used = read_quantum_config(f, req.output);
    }
    print_trajectories(o, used, run, req.output);
    return 0;
}

int execute(const QuantumOptions& o, const std::string& command_line) {
    if (!o.resume.empty())
        for (const CLI::Option* opt : o.physics)
            if (opt->count() > 0)
                throw Error("--resume takes every parameter from " + o.resume + "; drop " + opt->get_name(),
                            exit_code::usage);
    QuantumConfig cfg = o.cfg;
    if (o.burn_in->count() == 0) cfg.burn_in = cfg.t_end / 2;  // the second half of every trajectory
    if (o.size.empty()) {
        if (o.sites < 1) throw Error("--sites: must be at least 1 (got " + std::to_string(o.sites) + ")", exit_code::usage);
        cfg.lattice = Lattice{};
        cfg.lattice.dim = 1;
        cfg.lattice.L[0] = o.sites;
    } else {
        // "--size 4" would be a 4x4 cluster of 16 spins (2^16 amplitudes) where a
        // ring of 4 was likely meant: the sides are spelt out.
        if (!o.size.empty() && o.size.find_first_not_of("0123456789") == std::string::npos)
            throw Error("--size " + o.size + ": give the cluster's sides, e.g. " + o.size + "x" + o.size + " (" +
                            "a ring of " + o.size + " spins is --sites " + o.size + ")",
                        exit_code::usage);
        cfg.lattice = parse_size(o.size, 2, false);
    }
    if (!o.resume.empty() && !o.out.empty()) throw Error("--resume FILE writes FILE; -o is not needed", exit_code::usage);
    if (cfg.method == "exact" && !o.resume.empty()) throw Error("--resume: only trajectories can be resumed", exit_code::usage);
    if (cfg.method == "exact")
        for (const CLI::Option* opt : o.trajectories_only)
            if (opt->count() > 0)
                throw Error(opt->get_name() + ": only for --method trajectories (exact computes the density matrix)",
                            exit_code::usage);
    if (cfg.method == "exact" && !cfg.series)
        for (const CLI::Option* opt : o.series_only)
            if (opt->count() > 0)
                throw Error(opt->get_name() + ": with --method exact, only for --series (the steady state and the gap "
                                              "do not depend on the start)",
                            exit_code::usage);
    if (cfg.method == "trajectories" && (cfg.gap || cfg.series))
        throw Error(std::string(cfg.gap ? "--gap" : "--series") + ": needs --method exact", exit_code::usage);
    return cfg.method == "exact" && o.resume.empty() ? execute_exact(o, cfg, command_line)
                                                     : execute_trajectories(o, cfg, command_line);
}

}  // namespace

Command add_quantum_command(CLI::App& app, const std::string& command_line) {
    auto o = std::make_shared<QuantumOptions>();
    CLI::App* sub = app.add_subcommand(
        "quantum",
        "Exact quantum dynamics of the full master equation on a small periodic ring or cluster: quantum "
        "trajectories (any N up to 26; CPU or GPU) or the exact density matrix (steady state N <= 12, or 14 where "
        "a spin charge is conserved; Liouvillian gap N <= 12). Measures <sa_0 sa_r> and <sz> (docs/physics.md 7)");
    add_options(sub, *o);
    return {sub, [o, command_line] { return execute(*o, command_line); }};
}

}  // namespace xyzmf::cli
