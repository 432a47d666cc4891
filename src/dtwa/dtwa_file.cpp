// The /dtwa group (dtwa_file.hpp, docs/hdf5-layout.md).
#include "dtwa_file.hpp"

#include <cmath>

#include "xyzmf/error.hpp"
#include "output_file.hpp"
#include "schema.hpp"

namespace xyzmf {
namespace {

const char* const kUnits =
    "times in 1/gamma; <s_a> and <s_a s_a> of Pauli matrices estimated from DTWA trajectories, averaged over "
    "sites; corr: along x at distance r; sk: S_aa(k) with k numbered as the sites (x fastest, not shifted); "
    "*_err: standard errors over trajectories";
const char* const kScalarNames[kDtwaScalars] = {"sx", "sy", "sz", "cxx1", "cyy1", "czz1"};

// The summary datasets exist from the start (create_dtwa_group): overwritten in place.
void put(hid_t g, const std::string& name, const double* v) { h5::overwrite(g, name, H5T_NATIVE_DOUBLE, v); }

std::vector<hsize_t> k_dims(const Lattice& lat) {
    std::vector<hsize_t> d;
    for (int a = lat.dim - 1; a >= 0; --a) d.push_back(hsize_t(lat.L[a]));
    return d;
}

}  // namespace

void create_dtwa_group(hid_t file, const DtwaConfig& c, const DtwaResults& r) {
    h5::Id g = h5::create_group(file, "/dtwa");
    write_params(g, dtwa_parameters(), c);
    h5::set_attr(g, "units", std::string(kUnits));
    h5::set_attr(g, "lattice", lattice_text(c.lattice));
    h5::set_attr(g, "batch_size", r.batch_size);
    const hsize_t B = hsize_t(r.batches), nt = r.t.size(), nr = hsize_t(r.correlation_lengths);
    h5::write_array(g, "t", {nt}, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, r.t.data(), 0);
    h5::create_filled(g, "scalar_sum", {B, nt, kDtwaScalars}, H5T_IEEE_F64LE, NAN);
    h5::create_filled(g, "scalar_sum2", {B, nt, kDtwaScalars}, H5T_IEEE_F64LE, NAN);
    h5::create_filled(g, "corr_sum", {B, nt, 3, nr}, H5T_IEEE_F64LE, NAN);
    h5::create_filled(g, "corr_sum2", {B, nt, 3, nr}, H5T_IEEE_F64LE, NAN);
    std::vector<hsize_t> sk = {B, 3};
    for (hsize_t d : k_dims(c.lattice)) sk.push_back(d);
    h5::create_filled(g, "sk_sum", sk, H5T_IEEE_F64LE, NAN);
    h5::create_filled(g, "vortex_sum", {B}, H5T_IEEE_F64LE, NAN);
    h5::create_filled(g, "vortex_sum2", {B}, H5T_IEEE_F64LE, NAN);
    h5::create_filled(g, "done", {B}, H5T_STD_I64LE, 0);
    // The summary too, so that a write never changes the file's structure (a
    // kill during one leaves the datasets where they were).
    for (int k = 0; k < kDtwaScalars; ++k) {
        h5::create_filled(g, kScalarNames[k], {nt}, H5T_IEEE_F64LE, NAN);
        h5::create_filled(g, std::string(kScalarNames[k]) + "_err", {nt}, H5T_IEEE_F64LE, NAN);
    }
    for (const char* name : {"corr", "corr_err", "connected"}) h5::create_filled(g, name, {nt, 3, nr}, H5T_IEEE_F64LE, NAN);
    std::vector<hsize_t> skd = {3};
    for (hsize_t d : k_dims(c.lattice)) skd.push_back(d);
    h5::create_filled(g, "sk", skd, H5T_IEEE_F64LE, NAN);
    h5::create_filled(g, "vortices", {2}, H5T_IEEE_F64LE, NAN);
}

void write_dtwa_results(hid_t file, const std::string& path, const DtwaConfig& c, const DtwaResults& r) {
    h5::Id g = h5::open_group(file, "/dtwa");
    const hsize_t nt = r.t.size(), nr = hsize_t(r.correlation_lengths), N = hsize_t(c.lattice.copy_sites());
    ensure_room(path, 8.0 * (2 * r.scalar_sum.size() + 2 * r.corr_sum.size() + r.sk_sum.size() +
                             2 * nt * (kDtwaScalars + 3 * nr) + 3 * N + 64),
                "/dtwa");
    h5::overwrite(g, "scalar_sum", H5T_NATIVE_DOUBLE, r.scalar_sum.data());
    h5::overwrite(g, "scalar_sum2", H5T_NATIVE_DOUBLE, r.scalar_sum2.data());
    h5::overwrite(g, "corr_sum", H5T_NATIVE_DOUBLE, r.corr_sum.data());
    h5::overwrite(g, "corr_sum2", H5T_NATIVE_DOUBLE, r.corr_sum2.data());
    h5::overwrite(g, "sk_sum", H5T_NATIVE_DOUBLE, r.sk_sum.data());
    h5::overwrite(g, "vortex_sum", H5T_NATIVE_DOUBLE, r.vortex_sum.data());
    h5::overwrite(g, "vortex_sum2", H5T_NATIVE_DOUBLE, r.vortex_sum2.data());
    const DtwaSummary s = summarize(c, r);
    const double vortices[2] = {s.vortices, s.vortices_err};
    put(g, "vortices", vortices);
    std::vector<double> col(nt), err(nt);
    for (int k = 0; k < kDtwaScalars; ++k) {
        for (hsize_t q = 0; q < nt; ++q) col[q] = s.mean[q * kDtwaScalars + k], err[q] = s.err[q * kDtwaScalars + k];
        put(g, kScalarNames[k], col.data());
        put(g, std::string(kScalarNames[k]) + "_err", err.data());
    }
    put(g, "corr", s.corr.data());
    put(g, "corr_err", s.corr_err.data());
    // Connected: <s_a(0) s_a(r)> - <s_a>^2 (the lattice is translation invariant on average).
    std::vector<double> conn(s.corr.size());
    for (hsize_t q = 0; q < nt; ++q)
        for (hsize_t a = 0; a < 3; ++a) {
            const double m = s.mean[q * kDtwaScalars + a];
            for (hsize_t rr = 0; rr < nr; ++rr) conn[(q * 3 + a) * nr + rr] = s.corr[(q * 3 + a) * nr + rr] - m * m;
        }
    put(g, "connected", conn.data());
    put(g, "sk", s.sk.data());
    h5::set_attr(g, "trajectories_done", s.trajectories);
    flush_file(file, path);
    // The commit marks last: a batch counts once its sums are on disk.
    h5::overwrite(g, "done", H5T_NATIVE_INT64, r.done.data());
    flush_file(file, path);
}

DtwaConfig read_dtwa_config(hid_t file, const std::string& path) {
    if (!h5::exists(file, "/dtwa")) throw Error(path + ": not an xyzmf DTWA file (no /dtwa group)", exit_code::io);
    h5::Id g = h5::open_group(file, "/dtwa");
    DtwaConfig c;
    const ParamSource src{path, "/dtwa"};
    read_params(g, dtwa_parameters(), c, src);
    validate(c, src);
    return c;
}

DtwaResults read_dtwa_results(hid_t file, const std::string& path, const DtwaConfig& c) {
    h5::Id g = h5::open_group(file, "/dtwa");
    DtwaResults r;
    for (std::int64_t s : dtwa_record_steps(c)) r.t.push_back(double(s) * c.dt);
    if (!h5::has_attr(g, "batch_size")) throw Error(path + ": /dtwa: no batch_size", exit_code::io);
    r.batch_size = h5::attr_int(g, "batch_size");
    if (r.batch_size < 1 || r.batch_size > c.trajectories)
        throw Error(path + ": /dtwa: batch_size " + std::to_string(r.batch_size) + " is not 1 to trajectories",
                    exit_code::io);
    r.batches = (c.trajectories + r.batch_size - 1) / r.batch_size;
    r.correlation_lengths = c.lattice.L[0] / 2 + 1;
    const hsize_t B = hsize_t(r.batches), nt = r.t.size(), nr = hsize_t(r.correlation_lengths);
    const std::vector<double> t = h5::read_array(g, "t", {nt}, path + ": /dtwa/t");
    for (hsize_t q = 0; q < nt; ++q)
        if (t[q] != r.t[q]) throw Error(path + ": /dtwa/t does not match the stored dt and record_every", exit_code::io);
    r.scalar_sum = h5::read_array(g, "scalar_sum", {B, nt, kDtwaScalars}, path + ": /dtwa/scalar_sum");
    r.scalar_sum2 = h5::read_array(g, "scalar_sum2", {B, nt, kDtwaScalars}, path + ": /dtwa/scalar_sum2");
    r.corr_sum = h5::read_array(g, "corr_sum", {B, nt, 3, nr}, path + ": /dtwa/corr_sum");
    r.corr_sum2 = h5::read_array(g, "corr_sum2", {B, nt, 3, nr}, path + ": /dtwa/corr_sum2");
    std::vector<hsize_t> sk = {B, 3};
    for (hsize_t d : k_dims(c.lattice)) sk.push_back(d);
    r.sk_sum = h5::read_array(g, "sk_sum", sk, path + ": /dtwa/sk_sum");
    r.vortex_sum = h5::read_array(g, "vortex_sum", {B}, path + ": /dtwa/vortex_sum");
    r.vortex_sum2 = h5::read_array(g, "vortex_sum2", {B}, path + ": /dtwa/vortex_sum2");
    const std::vector<double> done = h5::read_array(g, "done", {B}, path + ": /dtwa/done");
    r.done.assign(B, 0);
    const std::size_t per_s = nt * kDtwaScalars, per_c = nt * 3 * nr;
    for (hsize_t b = 0; b < B; ++b) {
        const std::int64_t want = std::min(r.batch_size, c.trajectories - std::int64_t(b) * r.batch_size);
        if (done[b] == 0) continue;
        if (done[b] != double(want))
            throw Error(path + ": /dtwa/done: batch " + std::to_string(b) + " claims " + std::to_string(done[b]) +
                            " trajectories, it has " + std::to_string(want),
                        exit_code::io);
        // Every site average of a trajectory lies in [-3, 3] (|s_a| <= sqrt 3, products <= 3):
        // sums outside that cannot come from a run.
        const double M = double(want);
        bool ok = true;
        for (std::size_t i = 0; i < per_s && ok; ++i) {
            const double v = r.scalar_sum[b * per_s + i], v2 = r.scalar_sum2[b * per_s + i];
            ok = std::isfinite(v) && std::abs(v) <= 3 * M && std::isfinite(v2) && v2 >= 0 && v2 <= 9 * M;
        }
        for (std::size_t i = 0; i < per_c && ok; ++i) {
            const double v = r.corr_sum[b * per_c + i], v2 = r.corr_sum2[b * per_c + i];
            ok = std::isfinite(v) && std::abs(v) <= 3 * M && std::isfinite(v2) && v2 >= 0 && v2 <= 9 * M;
        }
        if (ok && dtwa_counts_vortices(c)) {  // |w| <= 2 on each of at most 3 N plaquettes
            const double v = r.vortex_sum[b], v2 = r.vortex_sum2[b], most = 6.0 * double(c.lattice.copy_sites());
            ok = std::isfinite(v) && v >= 0 && v <= most * M && std::isfinite(v2) && v2 >= 0 && v2 <= most * most * M;
        } else if (ok) {  // no phase field: a run leaves the vortex sums NaN
            ok = std::isnan(r.vortex_sum[b]) && std::isnan(r.vortex_sum2[b]);
        }
        if (!ok)
            throw Error(path + ": /dtwa: batch " + std::to_string(b) +
                            " is marked done but its sums are missing or impossible",
                        exit_code::io);
        r.done[b] = want;
    }
    return r;
}

}  // namespace xyzmf
