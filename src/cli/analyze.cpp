// `xyzmf analyze FILE.h5`: structure factors, classification and sXY vortices
// of stored states, written into the file (or --out), as a table or --json.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "analysis.hpp"
#include "xyzmf/error.hpp"
#include "signals.hpp"
#include "memory_info.hpp"
#include "output_file.hpp"
#include "schema.hpp"

namespace xyzmf::cli {
namespace {

// "0..3, 7, 9..12": a file's snapshot indices as runs (a salvaged file may miss some).
std::string index_ranges(const std::vector<std::int64_t>& v) {
    std::string out;
    for (std::size_t i = 0; i < v.size();) {
        std::size_t j = i;
        while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
        out += (out.empty() ? "" : ", ") + std::to_string(v[i]) + (j > i ? ".." + std::to_string(v[j]) : "");
        i = j + 1;
    }
    return out;
}

struct AnalyzeOptions {
    std::string file, out;
    std::int64_t snapshot = -1;
    bool all = false, json = false, overwrite = false, quiet = false;
    AnalysisOptions opt;
    long long sk_full_max = 1LL << 18;
    std::string sk_storage = "auto", backend = "cpu";
};

// Only what applies: a period for a modulated (SDW) order, a domain size
// where there is order, vortices at sXY points; units in the legend.
void print_table(const std::vector<StateAnalysis>& all) {
    std::printf("%-18s %9s  %-14s %-5s %7s  %-22s %6s %8s %8s %9s %9s %9s %8s\n", "state", "t", "phase", "order",
                "m_perp", "peak k/pi", "weight", "period", "domain", "residual", "vortices", "antivort.", "skipped");
    bool sdw = false;
    for (const StateAnalysis& a : all) {
        const Classification& c = a.cls;
        const int d = a.sf.lattice.dim;
        char k[64] = "-", weight[32] = "-", period[32] = "-", domain[32] = "-";
        if (c.order != "none") {  // a paramagnet's S_perp peak is noise
            std::snprintf(k, sizeof k, d == 1 ? "(%.3f)" : d == 2 ? "(%.3f, %.3f)" : "(%.2f, %.2f, %.2f)",
                          c.peak.k[0] / M_PI, c.peak.k[1] / M_PI, c.peak.k[2] / M_PI);
            std::snprintf(weight, sizeof weight, "%.3f", c.peak.weight);
        }
        if (c.order == "SDW") {
            if (const double w = wavelength(c.peak.k, d); w > 0) std::snprintf(period, sizeof period, "%.3g", w);
            sdw = true;
        }
        if (std::isinf(c.correlation_length)) std::snprintf(domain, sizeof domain, "one");
        else if (std::isfinite(c.correlation_length)) std::snprintf(domain, sizeof domain, "%.3g", c.correlation_length);
        std::printf("%-18s %9.4g  %-14s %-5s %7.4f  %-22s %6s %8s %8s %9.3g", a.where.c_str(), a.t, c.phase.c_str(),
                    c.order.c_str(), c.m_perp, k, weight, period, domain, c.residual);
        if (a.has_vortices)
            std::printf(" %9lld %9lld %8lld", (long long)a.vortices.vortices, (long long)a.vortices.antivortices,
                        (long long)a.vortices.skipped);
        else
            std::printf(" %9s %9s %8s", "-", "-", "-");
        std::printf("\n");
    }
    std::printf("units: t in 1/gamma; domain = domain size in lattice sites (\"one\": a single domain; - in PM); "
                "residual = max |ds/dt| in gamma; weight = share of S_perp at +-k\n");
    bool skipped = false;
    for (const StateAnalysis& a : all) skipped = skipped || (a.has_vortices && a.vortices.skipped > 0);
    if (skipped)
        std::printf("skipped: plaquettes with a corner whose in-plane amplitude is below --vortex-amplitude, counted "
                    "neither as vortex nor antivortex (the two counts can differ by up to that many)\n");
    if (sdw)
        std::printf("period: SDW wavelength 2 pi / |k| in lattice sites, along the peak wave vector k (column peak k/pi)\n");
    if (!all.empty()) std::printf("why (%s): %s\n", all.back().where.c_str(), all.back().cls.reason.c_str());
}

void add_options(CLI::App* sub, AnalyzeOptions& o) {
    add_config_option(sub);
    sub->add_option("file", o.file, "HDF5 file written by xyzmf run")->required();
    auto* snap = sub->add_option("--snapshot", o.snapshot, "Analyse snapshot N (0, 1, ...) instead of the final state")
                     ->check(CLI::Range(std::int64_t(0), std::int64_t(999999)));
    sub->add_flag("--all-snapshots", o.all, "Analyse every snapshot (and the final state); writes /analysis/coarsening")
        ->excludes(snap);
    sub->add_option("-o,--out,--output", o.out, "Write the analysis to this new file instead of into FILE");
    sub->add_flag("--overwrite", o.overwrite, "Replace an existing --out file");
    sub->add_flag("--json", o.json, "Print one JSON object on stdout instead of the table");
    sub->add_flag("-q,--quiet", o.quiet, "No table on stdout (the file, or --json, holds the analysis)");
    ClassifyThresholds& th = o.opt.thresholds;
    sub->add_option("--pm-m-perp", th.pm_m_perp, "PM when m_perp = sqrt(mean(x^2+y^2)) is below this")->capture_default_str();
    sub->add_option("--single-domain", th.single_domain,
                    "Ordered (not 'domains') when the S_perp peak at +-k holds this share")->capture_default_str();
    sub->add_option("--psi-coherence", th.psi_coherence,
                    "sXY single domain when |<exp(i psi)>| reaches this")->capture_default_str();
    sub->add_option("--stationary-residual", th.stationary_residual,
                    "A site is moving when |ds/dt| exceeds this (units of gamma)")->capture_default_str();
    sub->add_option("--moving-fraction", th.moving_fraction,
                    "'not stationary' when more than this share of sites move")->capture_default_str();
    sub->add_option("--vortex-amplitude", th.vortex_amplitude,
                    "Skip plaquettes with a corner whose in-plane amplitude is below this")->capture_default_str();
    sub->add_option("--ordered-domain", th.ordered_domain,
                    "A state that still moves shows no order yet (order 'none') while its domain size is below this "
                    "(sites; a random start gives about 1) and no mode of S_perp stands above the noise of "
                    "uncorrelated spins")->capture_default_str();
    sub->add_option("--sk-full-max", o.sk_full_max,
                    "3D lattices with more sites store S(k) as principal planes + radial average")->capture_default_str();
    sub->add_option("--sk-storage", o.sk_storage,
                    "What of each state's S(k) to store: auto (full; planes above --sk-full-max in 3D), full, planes "
                    "(3D principal planes + radial average; on 1D and 2D lattices full), or radial (the radial average alone)")
        ->capture_default_str();
    sub->add_option("--analysis-backend", o.backend,
                    "Where S(k), the site tallies and the sXY windings are computed: cpu (FFTW, OpenMP) or cuda "
                    "(cuFFT and kernels on the GPU, which sends back what the classification reads, and S(k) only where it is stored in full or in planes; the classification stays on the host)")
        ->check(CLI::IsMember({"cpu", "cuda"}))
        ->capture_default_str();
}

int execute(const AnalyzeOptions& o, const std::string& command_line) {
    AnalysisOptions opt = o.opt;
    opt.sk_full_max_sites = o.sk_full_max;
    opt.sk_storage = parse_sk_storage(o.sk_storage);
    opt.on_device = o.backend == "cuda";
    check_all(analysis_parameters(), opt, ParamSource::command_line());
    if (o.sk_full_max < 1) throw Error("--sk-full-max: must be >= 1 (got " + std::to_string(o.sk_full_max) + ")",
                                        exit_code::usage);
    const RunConfig cfg = read_run_config(o.file);  // checks the file is ours, and every parameter
    opt.sk_deflate = cfg.compress;  // S(k) grids stored as the run stored its spins (--compress)
    // Spins in double, three FFT arrays and S(k) per component: refuse a
    // lattice (from the file) this machine cannot hold before allocating.
    check_memory(std::size_t(std::min<long double>(1.8e19L, (long double)cfg.lattice.sites() * 8 * 16)),
                 host_available_bytes(), "host", lattice_text(cfg.lattice), exit_code::io);
    std::error_code same_ec;
    if (!o.out.empty() && std::filesystem::equivalent(o.out, o.file, same_ec))
        throw Error("--out: " + o.out + " is the input file; leave --out away to write the analysis into it",
                    exit_code::usage);
    h5::Id in = open_xyzmf(o.file, false);
    if (const std::string why = why_no_states(in); !why.empty())
        throw Error(o.file + ": holds no states to analyse: " + why, exit_code::io);
    std::vector<std::string> states;
    const std::vector<std::int64_t> snaps = snapshot_indices(in);
    if (o.all) {
        if (snaps.empty()) throw Error(o.file + ": has no snapshots to analyse (--all-snapshots)", exit_code::io);
        for (std::int64_t i : snaps) states.push_back(snapshot_group(i));
        if (is_complete(in, "/final")) states.push_back("/final");
    } else if (o.snapshot >= 0) {
        if (!is_complete(in, snapshot_group(o.snapshot)))
            throw Error(o.file + ": has no snapshot " + std::to_string(o.snapshot) +
                            (snaps.empty() ? " (it has no snapshots)"
                                           : " (it has " + index_ranges(snaps) + ")"),
                        exit_code::io);
        states.push_back(snapshot_group(o.snapshot));
    } else if (is_complete(in, "/final")) {
        states.push_back("/final");
    } else if (!snaps.empty()) {
        states.push_back(snapshot_group(snaps.back()));  // an unfinished run: its latest state
    } else {
        throw Error(o.file + ": holds no state to analyse (no /final and no snapshots)", exit_code::io);
    }

    // In place, the analysis goes into a copy of FILE that replaces it when
    // complete (9% slower than --out for a 76 MB file, results/bench/
    // analyze-in-place.md), so a failure never damages the spins.
    const std::string unchanged = o.out.empty() ? o.file + " unchanged" : "nothing written";
    throw_if_interrupted("before the analysis; " + unchanged);
    std::unique_ptr<NewFile> out = o.out.empty() ? std::make_unique<NewFile>(o.file, true, "analyze", o.file)
                                                  : std::make_unique<NewFile>(o.out, o.overwrite, "--out");
    const hid_t target = out->handle();
    if (!o.out.empty()) {
        write_provenance(target, command_line, "analysis");
        h5::set_attr(target, "analysis_of", o.file);
        h5::set_attr(target, "status", std::string("analysis"));
        if (H5Ocopy(in, "/parameters", target, "/parameters", H5P_DEFAULT, H5P_DEFAULT) < 0)
            throw Error(o.out + ": cannot copy /parameters (disk full?)", exit_code::io);
    }

    Analyzer analyzer(cfg.lattice, cfg.couplings, opt);
    std::vector<StateAnalysis> done;
    StoredState st;
    std::vector<double> scratch;  // (both reused from state to state)
    for (const std::string& where : states) {
        throw_if_interrupted("before the analysis of " + where + "; " + unchanged);
        read_state_group(in, o.file, where, st, scratch);
        StateAnalysis a = analyzer.analyze(st.spins, st.t, residual_trend(in, st.t), where);
        write_state_analysis(target, a, opt);
        // Keep only the summary in memory: a long series of large states held
        // every grid and vortex list (an early 2048^2 state has 1.3 M vortices, 40 MB).
        a.sf = StructureFactor{a.sf.lattice, {}};
        a.vortices.list = {};
        done.push_back(std::move(a));
    }
    if (o.all) {
        std::vector<StateAnalysis> snapshots(done.begin(), done.begin() + std::ptrdiff_t(snaps.size()));
        write_coarsening(target, snapshots, false);
    }
    throw_if_interrupted("before the analysis was complete; " + unchanged);
    out->commit();
    out->close();

    if (o.json) {
        nlohmann::json j;
        if (done.size() == 1) {
            j = to_json(done.front());
        } else {
            j["states"] = nlohmann::json::array();
            for (const StateAnalysis& a : done) j["states"].push_back(to_json(a));
        }
        j["file"] = o.file;
        std::printf("%s\n", j.dump().c_str());
    } else if (!o.quiet) {
        print_table(done);
    }
    return 0;
}

}  // namespace

Command add_analyze_command(CLI::App& app, const std::string& command_line) {
    auto o = std::make_shared<AnalyzeOptions>();
    CLI::App* sub = app.add_subcommand(
        "analyze", "Structure factors, phase classification and sXY vortices of a run's final state or snapshots");
    add_options(sub, *o);
    return {sub, [o, command_line] { return execute(*o, command_line); }};
}

}  // namespace xyzmf::cli
