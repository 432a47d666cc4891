// HDF5 output of a run (layout: docs/hdf5-layout.md).
#include "xyzmf/run_output.hpp"

#include <cmath>
#include <cstdio>
#include <vector>

#include "xyzmf/error.hpp"

namespace xyzmf {
namespace {

// x, y, z blocks -> (x, y, z) per site, the file's layout.
template <class Real>
const Real* interleave(const Real* soa, index_t N, std::vector<unsigned char>& buffer) {
    buffer.resize(3 * std::size_t(N) * sizeof(Real));
    Real* aos = reinterpret_cast<Real*>(buffer.data());
    for (index_t n = 0; n < N; ++n)
        for (int c = 0; c < 3; ++c) aos[3 * n + c] = soa[c * N + n];
    return aos;
}

void write_parameters(hid_t file, const RunConfig& c, const std::string& backend_used) {
    h5::Id p = h5::create_group(file, "/parameters");
    h5::set_attr(p, "Jx", c.couplings.Jx);
    h5::set_attr(p, "Jy", c.couplings.Jy);
    h5::set_attr(p, "Jz", c.couplings.Jz);
    h5::set_attr(p, "gamma", c.couplings.gamma);
    h5::set_attr(p, "gamma_phi", c.couplings.gamma_phi);
    h5::set_attr(p, "dim", std::int64_t(c.lattice.dim));
    std::vector<std::int64_t> sizes(c.lattice.L, c.lattice.L + c.lattice.dim);
    h5::set_attr(p, "sizes", sizes);
    const Numerics& n = c.numerics;
    h5::set_attr(p, "integrator", std::string(to_string(n.integrator)));
    h5::set_attr(p, "stepper", std::string(to_string(n.stepper)));
    h5::set_attr(p, "steps_per_pass", std::int64_t(n.steps_per_pass));
    h5::set_attr(p, "dt", n.dt);
    h5::set_attr(p, "rtol", n.rtol);
    h5::set_attr(p, "atol", n.atol);
    h5::set_attr(p, "t_end", n.t_end);
    h5::set_attr(p, "steady_tol", n.steady_tol);
    h5::set_attr(p, "norm_tol", n.norm_tol);
    h5::set_attr(p, "record_every", n.record_every);
    h5::set_attr(p, "snapshot_every", c.snapshot_interval());
    h5::set_attr(p, "precision", std::string(to_string(c.precision)));
    h5::set_attr(p, "backend", backend_used);
    h5::set_attr(p, "backend_requested", std::string(to_string(c.backend)));
    h5::set_attr(p, "seed", std::int64_t(c.seed));
    h5::set_attr(p, "init", c.init);
    h5::set_attr(p, "noise", c.noise);
    h5::set_attr(p, "compress", std::int64_t(c.compress));
}

}  // namespace

RunOutput RunOutput::create(const RunConfig& cfg, const std::string& backend_used) {
    h5::Id file = h5::create_file(cfg.output, cfg.overwrite);
    write_provenance(file, cfg.command_line, "run");
    h5::set_attr(file, "status", std::string("running"));
    write_parameters(file, cfg, backend_used);
    h5::Id ts = h5::create_group(file, "/timeseries");
    h5::create_table(ts, "t", 1);
    h5::create_table(ts, "mean", 3);
    h5::create_table(ts, "staggered", 3);
    h5::create_table(ts, "residual", 1);
    h5::create_group(file, "/snapshots");
    RunOutput out(std::move(file), cfg.output, cfg.precision, cfg.lattice, cfg.compress);
    out.flush();
    return out;
}

RunOutput RunOutput::reopen(const std::string& path, std::int64_t keep_rows, std::int64_t keep_snapshots,
                            const std::string& command_line) {
    const RunConfig cfg = read_run_config(path);
    h5::Id file = h5::open_file(path, true);
    for (const char* t : {"t", "mean", "staggered", "residual"})
        h5::truncate_table(file, std::string("/timeseries/") + t, hsize_t(keep_rows));
    for (std::int64_t i = keep_snapshots;; ++i) {
        const std::string g = snapshot_group(i);
        if (!h5::exists(file, g)) break;
        h5::remove(file, g);
    }
    if (h5::exists(file, "/final")) h5::remove(file, "/final");
    std::string history = h5::has_attr(file, "resumed_by") ? h5::attr_string(file, "resumed_by") + "\n" : "";
    h5::set_attr(file, "resumed_by", history + utc_timestamp() + " " + command_line);
    h5::set_attr(file, "status", std::string("running"));
    RunOutput out(std::move(file), path, cfg.precision, cfg.lattice, cfg.compress);
    out.rows_ = keep_rows;
    out.flush();
    return out;
}

void RunOutput::record(double t, const Observables& o, index_t sites) {
    double mean[3], stag[3];
    for (int c = 0; c < 3; ++c) { mean[c] = o.sum[c] / double(sites); stag[c] = o.stag[c] / double(sites); }
    const double residual = std::sqrt(o.max_rate2);
    h5::append_row(file_, "/timeseries/t", &t, 1);
    h5::append_row(file_, "/timeseries/mean", mean, 3);
    h5::append_row(file_, "/timeseries/staggered", stag, 3);
    h5::append_row(file_, "/timeseries/residual", &residual, 1);
    ++rows_;
}

void RunOutput::write_spins(hid_t group, const HostStateRef& s) {
    const index_t N = lattice_.sites();
    const std::vector<hsize_t> dims = spin_dims(lattice_);
    if (s.precision == Precision::float32) {
        const float* aos = interleave(static_cast<const float*>(s.data), N, aos_);
        h5::write_array(group, "spins", dims, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, aos, compress_);
    } else {
        const double* aos = interleave(static_cast<const double*>(s.data), N, aos_);
        h5::write_array(group, "spins", dims, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, aos, compress_);
    }
}

void RunOutput::snapshot(std::int64_t index, double t, std::int64_t step, double dt_next, const HostStateRef& s) {
    h5::Id g = h5::create_group(file_, snapshot_group(index));
    write_spins(g, s);
    h5::write_scalar(g, "t", t);
    h5::set_attr(g, "step", step);
    h5::set_attr(g, "dt_next", dt_next);
    h5::set_attr(g, "timeseries_rows", rows_);
    flush();  // a killed run keeps every snapshot written so far
}

void RunOutput::final_state(double t, std::int64_t step, const HostStateRef& s, const std::string& reason,
                            double residual) {
    h5::Id g = h5::create_group(file_, "/final");
    write_spins(g, s);
    h5::write_scalar(g, "t", t);
    h5::set_attr(g, "step", step);
    h5::set_attr(g, "stop_reason", reason);
    h5::set_attr(g, "residual", residual);
    set_status("finished: " + reason);
}

void RunOutput::set_status(const std::string& status) {
    h5::set_attr(file_, "status", status);
    flush();
}

void RunOutput::flush() {
    if (H5Fflush(file_, H5F_SCOPE_GLOBAL) < 0) throw Error(path_ + ": HDF5 flush failed (disk full?)", exit_code::io);
}

}  // namespace xyzmf
