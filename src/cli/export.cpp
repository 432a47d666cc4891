// `xyzmf export --xdmf FILE.h5`: an XDMF sidecar so that ParaView opens a run's
// states as a time series (xdmf.hpp). The run file is only read.
#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "analysis.hpp"
#include "classify.hpp"
#include "xyzmf/error.hpp"
#include "vortices.hpp"
#include "xdmf.hpp"

namespace xyzmf::cli {

namespace {

struct ExportOptions {
    std::string file;
    bool xdmf = true, quiet = false;
    XdmfOptions x;
};

void add_options(CLI::App* sub, ExportOptions& o) {
    add_config_option(sub);
    sub->add_option("file", o.file, "HDF5 file written by xyzmf run")->required();
    sub->add_flag("--xdmf", o.xdmf, "XDMF sidecar for ParaView/VisIt (the only format so far, and the default)");
    sub->add_option("--xdmf-out", o.x.xdmf_path,
                    "Sidecar path (default: FILE with .xdmf); sz and psi go beside it into NAME.fields.h5");
    sub->add_option("--vortex-amplitude", o.x.min_amplitude,
                    "psi is NaN (undefined) where the in-plane amplitude sqrt(sx^2 + sy^2) is below this")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    sub->add_flag("--overwrite", o.x.overwrite, "Replace an existing sidecar and fields file");
    sub->add_flag("-q,--quiet", o.quiet, "Print nothing on success");
}

int execute(const ExportOptions& o, const std::string& command_line) {
    XdmfOptions x = o.x;
    x.command_line = command_line;
    x.phase_field = sxy_phase_field;
    // CLI::Range lets NaN through (every comparison with it is false): the
    // same check as analyze's --vortex-amplitude refuses it.
    AnalysisOptions amplitude;
    amplitude.thresholds.vortex_amplitude = x.min_amplitude;
    check_all(analysis_parameters(), amplitude, ParamSource::command_line());
    std::string xdmf, fields;
    bool psi = false;
    const std::size_t n = export_xdmf(o.file, x, &xdmf, &fields, &psi);
    if (!o.quiet)
        std::printf("wrote %s: %zu state(s) of %s; sz%s in %s\n", xdmf.c_str(), n, o.file.c_str(),
                    psi ? " and psi" : " (no psi: the sXY phase field needs Jx Jy != 0)", fields.c_str());
    return 0;
}

}  // namespace

Command add_export_command(CLI::App& app, const std::string& command_line) {
    auto o = std::make_shared<ExportOptions>();
    o->x.min_amplitude = ClassifyThresholds{}.vortex_amplitude;
    CLI::App* sub = app.add_subcommand(
        "export", "Files for other programs: --xdmf writes FILE.xdmf (open it in ParaView: every snapshot and the final "
                  "state as a time series, with the spins, sz, the sXY phase field psi and the vortices)");
    add_options(sub, *o);
    return {sub, [o, command_line] { return execute(*o, command_line); }};
}

}  // namespace xyzmf::cli
