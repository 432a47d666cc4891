// `xyzmf dtwa`: dissipative truncated-Wigner trajectories of the whole lattice
// (docs/physics.md 8): quantum fluctuations beyond mean field, averaged over
// trajectories, on any backend. Results in /dtwa (docs/hdf5-layout.md).
#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "json_number.hpp"
#include "options.hpp"
#include "dtwa_file.hpp"
#include "dtwa.hpp"
#include "xyzmf/error.hpp"
#include "schema.hpp"
#include "signals.hpp"

namespace xyzmf::cli {
namespace {

struct DtwaOptions {
    DtwaConfig cfg;
    int dim = 2;
    std::string size = "16", out, resume, backend = "auto";
    bool json = false, overwrite = false, quiet = false;
    CLI::Option* dim_opt = nullptr;
    std::vector<CLI::Option*> fixed;  // what --resume takes from the file instead
};


const char* const kNames[kDtwaScalars] = {"sx", "sy", "sz", "cxx1", "cyy1", "czz1"};

nlohmann::json summary_json(const DtwaRun& run, const DtwaSummary& s) {
    const DtwaConfig& c = run.config;
    nlohmann::json j;
    j["method"] = "dtwa";
    j["lattice"] = lattice_text(c.lattice);
    j["Jx"] = c.couplings.Jx, j["Jy"] = c.couplings.Jy, j["Jz"] = c.couplings.Jz;
    j["gamma"] = c.couplings.gamma, j["gamma_phi"] = c.couplings.gamma_phi;
    j["init"] = c.init;
    j["t"] = run.results.t;
    const std::size_t nt = run.results.t.size();
    for (int k = 0; k < kDtwaScalars; ++k) {
        nlohmann::json v = nlohmann::json::array(), e = nlohmann::json::array();
        for (std::size_t q = 0; q < nt; ++q) {
            v.push_back(json_number(s.mean[q * kDtwaScalars + std::size_t(k)]));
            e.push_back(json_number(s.err[q * kDtwaScalars + std::size_t(k)]));
        }
        j[kNames[k]] = v;
        j[std::string(kNames[k]) + "_err"] = e;
    }
    j["vortices"] = json_number(s.vortices);  // sXY vortices + antivortices per trajectory at t_end (null: no psi)
    j["vortices_err"] = json_number(s.vortices_err);
    j["trajectories"] = s.trajectories;
    j["seconds"] = run.seconds;
    j["backend"] = run.backend;
    return j;
}

void add_options(CLI::App* sub, DtwaOptions& o) {
    add_config_option(sub);
    auto add = [&](CLI::Option* opt) { o.fixed.push_back(opt); return opt; };
    o.dim_opt = add(sub->add_option("--dim", o.dim, "Lattice dimension d = 1, 2, 3 (inferred from --size AxB[xC])")
                         ->capture_default_str());
    add(sub->add_option("--size", o.size, "Sites per side: N (all sides) or Lx x Ly [x Lz]; periodic (run: 64; every trajectory is a whole "
                                               "lattice)")->capture_default_str());
    for (CLI::Option* opt : add_couplings(sub, o.cfg.couplings)) add(opt);
    add(sub->add_option("--trajectories", o.cfg.trajectories,
                        "Number of trajectories (averages carry standard errors over them)")
            ->capture_default_str());
    add(sub->add_option("--batch", o.cfg.batch,
                        "Trajectories stepped together as copies of the lattice (0: about 2^20 sites per batch); the "
                        "file is written after each batch")
            ->capture_default_str());
    add(sub->add_option("--dt", o.cfg.dt, "Time step, units of 1/gamma (--t-end must be a whole number of steps)")
            ->capture_default_str());
    add(sub->add_option("--t-end", o.cfg.t_end, "Time each trajectory runs, units of 1/gamma (run: 100; each of many trajectories is a whole lattice)")->capture_default_str());
    add(sub->add_option("--record-every", o.cfg.record_every, "Interval between records of the observables, units of 1/gamma (run: 0.5; the time "
                                                        "series is what dtwa gives, over a shorter --t-end)")
            ->capture_default_str());
    add(sub->add_option("--init", o.cfg.init,
                        "Initial pure product state: down, up, x, y (every spin along that axis) or uniform:x,y,z "
                        "(every spin along the unit vector (x, y, z), |s| = 1 to 1e-6) (run: random, as a mean-field lattice needs noise to leave its "
                        "symmetric states; the Wigner samples carry the quantum noise here)")
            ->capture_default_str());
    add(sub->add_option("--seed", o.cfg.seed, "Seed of the Wigner samples and the jumps (Philox; same seed = same trajectories)")
            ->check(seed_text(find_param(dtwa_parameters(), "seed").hi))
            ->capture_default_str());
    add_backend(sub, o.backend);
    sub->add_option("-o,--output", o.out, "Write the results to this HDF5 file (/dtwa/...), batch by batch");
    sub->add_flag("--overwrite", o.overwrite, "Replace an existing output file");
    sub->add_option("--resume", o.resume, "Continue the unfinished batches of this file (its settings are used)");
    sub->add_flag("--json", o.json, "Print the result as one JSON object");
    sub->add_flag("-q,--quiet", o.quiet, "No progress line or report (the file, or --json, holds the results)");
}

int execute(const DtwaOptions& o, const std::string& command_line) {
    if (!o.resume.empty())
        for (const CLI::Option* opt : o.fixed)
            if (opt->count() > 0)
                throw Error("--resume takes every parameter from " + o.resume + "; drop " + opt->get_name(),
                            exit_code::usage);
    DtwaRequest req;
    req.config = o.cfg;
    if (o.resume.empty()) req.config.lattice = parse_size(o.size, o.dim, o.dim_opt->count() > 0);
    if (!o.resume.empty() && !o.out.empty()) throw Error("--resume FILE writes FILE; -o is not needed", exit_code::usage);
    req.output = o.resume.empty() ? o.out : o.resume;
    req.resume = !o.resume.empty();
    req.overwrite = o.overwrite;
    req.backend = o.backend;
    req.command_line = command_line;
    install_interrupt_handlers();
    DtwaHooks hooks;
    hooks.quiet = o.quiet || o.json;
    const DtwaRun run = run_dtwa(req, hooks);
    const DtwaSummary s = summarize(run.config, run.results);
    if (o.json) {
        std::printf("%s\n", summary_json(run, s).dump().c_str());
        return 0;
    }
    if (o.quiet) return 0;
    const DtwaConfig& c = run.config;
    std::printf("dtwa: %s, Jx = %g, Jy = %g, Jz = %g, gamma = %g, gamma_phi = %g, from %s\n",
                lattice_text(c.lattice).c_str(), c.couplings.Jx, c.couplings.Jy, c.couplings.Jz, c.couplings.gamma,
                c.couplings.gamma_phi, c.init.c_str());
    std::printf("  %lld trajectories to t = %g (dt %g)", (long long)s.trajectories, c.t_end, c.dt);
    if (run.done_now)
        std::printf("; %lld run now on %s in %.1f s (%.3g trajectory site-steps/s)", (long long)run.done_now,
                    run.backend.c_str(), run.seconds, run.site_steps / std::max(run.seconds, 1e-9));
    std::printf("\n  %-8s %-22s %-22s %-22s %s\n", "t", "<sx>", "<sy>", "<sz>", "<sa sa> neighbours x, y, z");
    const std::size_t nt = run.results.t.size(), step = std::max<std::size_t>(1, (nt + 9) / 10);
    for (std::size_t q = 0; q < nt; ++q) {
        if (q % step != 0 && q + 1 != nt) continue;  // about ten rows, and the last
        std::printf("  %-8g", run.results.t[q]);
        for (int k = 0; k < 3; ++k) {
            char cell[48];
            std::snprintf(cell, sizeof cell, "%+.4f +- %.4f", s.mean[q * kDtwaScalars + std::size_t(k)],
                          s.err[q * kDtwaScalars + std::size_t(k)]);
            std::printf(" %-22s", cell);
        }
        std::printf(" %+.4f %+.4f %+.4f\n", s.mean[q * kDtwaScalars + 3], s.mean[q * kDtwaScalars + 4],
                    s.mean[q * kDtwaScalars + 5]);
    }
    if (std::isfinite(s.vortices))
        std::printf("  sXY vortices + antivortices at t = %g: %.2f +- %.2f per trajectory\n", c.t_end, s.vortices,
                    s.vortices_err);
    if (!req.output.empty()) std::printf("wrote %s\n", req.output.c_str());
    return 0;
}

}  // namespace

Command add_dtwa_command(CLI::App& app, const std::string& command_line) {
    auto o = std::make_shared<DtwaOptions>();
    CLI::App* sub = app.add_subcommand(
        "dtwa",
        "Dissipative truncated-Wigner trajectories of the whole lattice: each spin's discrete Wigner sample precesses "
        "by the mean-field equations and decays and dephases by exact quantum jumps; averages over trajectories "
        "estimate <s_a>, nearest-neighbour <s_a s_a>, C_aa(r) and S(k) beyond mean field (docs/physics.md 8)");
    add_options(sub, *o);
    return {sub, [o, command_line] { return execute(*o, command_line); }};
}

}  // namespace xyzmf::cli
