// The /quantum group (docs/hdf5-layout.md): the parameters as attributes,
// per-trajectory results allocated once and overwritten batch by batch with
// a per-trajectory commit mark (`batch`, written last), the running summary,
// and the exact method's results.
#include "quantum_file.hpp"

#include <cmath>

#include "xyzmf/error.hpp"
#include "output_file.hpp"
#include "schema.hpp"

namespace xyzmf {
namespace {

const char* const kUnits =
    "times in 1/gamma; correlations <sa_0 sa_r> of Pauli matrices, averaged over sites, indexed by the "
    "displacement r numbered as a site (x fastest); <sz> averaged over sites; rates in gamma";

void dbl(hid_t g, const char* name, const std::vector<hsize_t>& dims, const double* v) {
    h5::write_array(g, name, dims, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, v, 0);
}
void replace(hid_t g, const char* name, const std::vector<hsize_t>& dims, const double* v) {
    if (h5::exists(g, name)) h5::remove(g, name);
    dbl(g, name, dims, v);
}

}  // namespace

std::int64_t sample_count(const QuantumConfig& c) { return std::int64_t(std::floor(c.t_end / c.sample_dt + 1e-9)) + 1; }

void create_quantum_group(hid_t file, const QuantumConfig& c) {
    h5::Id g = h5::create_group(file, "/quantum");
    // An exact result stores only what it depends on (no trajectory settings).
    std::vector<ParamSpec> written;
    for (const Param<QuantumConfig>& p : quantum_parameters()) {
        const std::string key = p.spec.key;
        const bool trajectory_only = key == "trajectories" || key == "batch" || key == "burn_in" ||
                                     (key == "seed" && c.init != "random");
        const bool series_only = key == "t_end" || key == "sample_dt" || key == "init" || key == "seed";
        if (c.method == "exact" && (trajectory_only || (series_only && !c.series))) continue;
        write_param(g, p.spec, p.get(c));
        written.push_back(p.spec);
    }
    write_param_units(g, written);
    h5::set_attr(g, "units", std::string(kUnits));
    h5::set_attr(g, "lattice", lattice_text(c.lattice));
    if (c.method != "trajectories") return;
    const hsize_t M = hsize_t(c.trajectories), nt = hsize_t(sample_count(c)), N = hsize_t(c.lattice.copy_sites());
    std::vector<double> t(nt);
    for (hsize_t k = 0; k < nt; ++k) t[k] = double(k) * c.sample_dt;
    dbl(g, "t", {nt}, t.data());
    h5::create_filled(g, "trajectory_sz", {M, nt}, H5T_IEEE_F64LE, NAN);
    h5::create_filled(g, "trajectory_corr", {M, 3, N}, H5T_IEEE_F64LE, NAN);
    h5::create_filled(g, "trajectory_jumps", {M}, H5T_IEEE_F64LE, NAN);
    h5::create_filled(g, "batch", {M}, H5T_STD_I64LE, -1);
}

void write_trajectory_results(hid_t file, const std::string& path, const QuantumConfig& c, const TrajectoryResults& r) {
    h5::Id g = h5::open_group(file, "/quantum");
    const hsize_t N = hsize_t(c.lattice.copy_sites()), nt = r.t.size();
    ensure_room(path, 8.0 * (r.sz_series.size() + r.corr.size() + 4 * N + 2 * nt + 64), "/quantum");
    h5::overwrite(g, "trajectory_sz", H5T_NATIVE_DOUBLE, r.sz_series.data());
    h5::overwrite(g, "trajectory_corr", H5T_NATIVE_DOUBLE, r.corr.data());
    h5::overwrite(g, "trajectory_jumps", H5T_NATIVE_DOUBLE, r.jumps.data());
    const TrajectorySummary s = summarize(c, r);
    const char* names[3] = {"cx", "cy", "cz"};
    const char* errs[3] = {"cx_err", "cy_err", "cz_err"};
    for (int a = 0; a < 3; ++a) {
        replace(g, names[a], {N}, s.mean.c[a].data());
        replace(g, errs[a], {N}, s.err.c[a].data());
    }
    const double sz[2] = {s.sz, s.sz_err};
    replace(g, "sz", {2}, sz);
    replace(g, "sz_t", {nt}, s.sz_t.data());
    replace(g, "sz_t_err", {nt}, s.sz_t_err.data());
    h5::set_attr(g, "trajectories_done", s.trajectories);
    flush_file(file, path);
    // The commit marks last: a trajectory counts as done once its batch is on disk.
    h5::overwrite(g, "batch", H5T_NATIVE_INT64, r.batch.data());
    flush_file(file, path);
}

QuantumConfig read_quantum_config(hid_t file, const std::string& path) {
    if (!h5::exists(file, "/quantum"))
        throw Error(path + ": not an xyzmf quantum file (no /quantum group)", exit_code::io);
    h5::Id g = h5::open_group(file, "/quantum");
    QuantumConfig c;
    const ParamSource src{path, "/quantum"};
    read_params(g, quantum_parameters(), c, src);
    validate(c, src);
    return c;
}

TrajectoryResults read_trajectory_results(hid_t file, const std::string& path, const QuantumConfig& c) {
    if (c.method != "trajectories") throw Error(path + ": holds an exact result, nothing to resume", exit_code::io);
    h5::Id g = h5::open_group(file, "/quantum");
    const hsize_t M = hsize_t(c.trajectories), nt = hsize_t(sample_count(c)), N = hsize_t(c.lattice.copy_sites());
    TrajectoryResults r;
    r.trajectories = c.trajectories;
    r.t = h5::read_array(g, "t", {nt}, path + ": /quantum/t");
    r.sz_series = h5::read_array(g, "trajectory_sz", {M, nt}, path + ": /quantum/trajectory_sz");
    r.corr = h5::read_array(g, "trajectory_corr", {M, 3, N}, path + ": /quantum/trajectory_corr");
    r.jumps = h5::read_array(g, "trajectory_jumps", {M}, path + ": /quantum/trajectory_jumps");
    const std::vector<double> b = h5::read_array(g, "batch", {M}, path + ": /quantum/batch");
    r.batch.resize(M);
    for (hsize_t i = 0; i < M; ++i) {
        r.batch[i] = std::isfinite(b[i]) && b[i] >= 0 ? std::int64_t(b[i]) : -1;
        if (r.batch[i] < 0) continue;
        // A finished trajectory must have every number it claims, and each must
        // be one a trajectory can give: <sz> and <sa_0 sa_r> of one pure state
        // lie in [-1, 1], and the jumps are a whole number.
        const std::string which = path + ": /quantum: trajectory " + std::to_string(i);
        const double jumps = r.jumps[i];
        if (!std::isfinite(jumps)) throw Error(which + " is marked done but its results are missing", exit_code::io);
        if (jumps < 0 || jumps > 1e15 || jumps != std::floor(jumps))
            throw Error(which + ": trajectory_jumps = " + std::to_string(jumps) + " is not a count of jumps",
                        exit_code::io);
        const double bound = 1 + 1e-9;
        for (hsize_t k = 0; k < nt; ++k) {
            const double v = r.sz_series[i * nt + k];
            if (!std::isfinite(v)) throw Error(which + " is marked done but its results are missing", exit_code::io);
            if (std::fabs(v) > bound)
                throw Error(which + ": trajectory_sz = " + std::to_string(v) + " at sample " + std::to_string(k) +
                                " is outside [-1, 1] (damaged or altered)",
                            exit_code::io);
        }
        for (hsize_t k = 0; k < 3 * N; ++k) {
            const double v = r.corr[i * 3 * N + k];
            if (!std::isfinite(v) || std::fabs(v) > bound)
                throw Error(which + ": trajectory_corr = " + std::to_string(v) + " is outside [-1, 1] (damaged or altered)",
                            exit_code::io);
        }
    }
    for (hsize_t k = 0; k < nt; ++k)
        if (!(std::fabs(r.t[k] - double(k) * c.sample_dt) <= 1e-9 * std::max(1.0, c.t_end)))
            throw Error(path + ": /quantum/t[" + std::to_string(k) + "] = " + std::to_string(r.t[k]) + " is not " +
                            std::to_string(double(k) * c.sample_dt) + " (sample_dt " + std::to_string(c.sample_dt) + ")",
                        exit_code::io);
    return r;
}

void write_exact_results(hid_t file, const QuantumConfig& c, const ExactResults& r) {
    h5::Id g = h5::open_group(file, "/quantum");
    const hsize_t N = hsize_t(c.lattice.copy_sites());
    const char* names[3] = {"cx", "cy", "cz"};
    for (int a = 0; a < 3; ++a) dbl(g, names[a], {N}, r.corr.c[a].data());
    h5::write_scalar(g, "sz", r.sz);
    h5::write_scalar(g, "residual", r.residual);
    if (c.gap) {
        h5::write_scalar(g, "gap", r.gap);
        std::vector<double> ev;
        for (const auto& e : r.eigenvalues) ev.push_back(e.real()), ev.push_back(e.imag());
        dbl(g, "eigenvalues", {hsize_t(r.eigenvalues.size()), 2}, ev.data());
    }
    if (!r.t.empty()) {
        dbl(g, "t", {hsize_t(r.t.size())}, r.t.data());
        dbl(g, "sz_t", {hsize_t(r.t.size())}, r.sz_t.data());
        // <s_a(0) s_a(1)>(t), the next site along x (NaN for one spin), as --json's series
        std::vector<double> c1;
        for (const Correlations& cc : r.corr_t)
            for (int a = 0; a < 3; ++a) c1.push_back(cc.c[a].size() > 1 ? cc.c[a][1] : NAN);
        dbl(g, "c1_t", {hsize_t(r.t.size()), 3}, c1.data());
    }
}

}  // namespace xyzmf
