// The /sweep group of a sweep file (docs/hdf5-layout.md): its parameter
// table, datasets allocated once at creation and then written in place batch
// by batch with a commit mark per point, and reading it back with every
// value and every dataset shape checked against the attributes.
#include <cmath>
#include <cstdio>

#include "xyzmf/error.hpp"
#include "output_file.hpp"
#include "schema.hpp"
#include "sweep.hpp"

namespace xyzmf {
namespace {

using V = ParamValue;

const ParamTable<SweepConfig>& table() {
    auto number = [](const ParamSpec& spec, auto field) { return number_param<SweepConfig>(spec, field); };
    auto axis_name = [](const char* key, const char* option, bool x) {
        return Param<SweepConfig>{ParamSpec{key, option, ParamKind::text, "", 0, 0}.one_of("Jx|Jy|Jz|gamma_phi"),
                                  [x](const SweepConfig& c) -> V { return (x ? c.grid.x : c.grid.y).name; },
                                  [x](SweepConfig& c, const V& v) { (x ? c.grid.x : c.grid.y).name = as_text(v); }};
    };
    // Built once, thread-safely (a function-local static).
    static const ParamTable<SweepConfig> table = [&] {
    ParamTable<SweepConfig> t = {
        axis_name("x_name", "--x", true),
        number({"x_lo", "--x", ParamKind::real, "gamma", -kMaxCoupling, kMaxCoupling}, [](auto& c) -> auto& { return c.grid.x.lo; }),
        number({"x_hi", "--x", ParamKind::real, "gamma", -kMaxCoupling, kMaxCoupling}, [](auto& c) -> auto& { return c.grid.x.hi; }),
        number({"x_n", "--x", ParamKind::integer, "", 1, 100000}, [](auto& c) -> auto& { return c.grid.x.n; }),
        axis_name("y_name", "--y", false),
        number({"y_lo", "--y", ParamKind::real, "gamma", -kMaxCoupling, kMaxCoupling}, [](auto& c) -> auto& { return c.grid.y.lo; }),
        number({"y_hi", "--y", ParamKind::real, "gamma", -kMaxCoupling, kMaxCoupling}, [](auto& c) -> auto& { return c.grid.y.hi; }),
        number({"y_n", "--y", ParamKind::integer, "", 1, 100000}, [](auto& c) -> auto& { return c.grid.y.n; }),
        number({"replicas", "--replicas", ParamKind::integer, "", 1, 1000}, [](auto& c) -> auto& { return c.replicas; }),
        number({"seed", "--seed", ParamKind::integer, "", 0, kMaxSeed - 1000}, [](auto& c) -> auto& { return c.seed; }),
        number(ParamSpec{"dt", "--dt", ParamKind::real, "1/gamma", 0, kMaxTime}.lo_excluded(), [](auto& c) -> auto& { return c.numerics.dt; }),
        number({"t_end", "--t-end", ParamKind::real, "1/gamma", 0, kMaxTime}, [](auto& c) -> auto& { return c.numerics.t_end; }),
        number({"steady_tol", "--steady-tol", ParamKind::real, "gamma", 0, kNoLimit},
               [](auto& c) -> auto& { return c.numerics.steady_tol; }),
        number(ParamSpec{"norm_tol", "--norm-tol", ParamKind::real, "", 0, 1}.lo_excluded().optional(),
               [](auto& c) -> auto& { return c.numerics.norm_tol; }),
        {ParamSpec{"integrator", "--integrator", ParamKind::text, "", 0, 0}.one_of("rk4"),
         [](const SweepConfig&) -> V { return std::string("rk4"); }, [](SweepConfig&, const V&) {}},
        number(ParamSpec{"batch_points", "--batch-points", ParamKind::integer, "", 1, 1000000}.not_compared(),
               [](auto& c) -> auto& { return c.batch_points; }),
        {ParamSpec{"shard", "--shard", ParamKind::text, "", 0, 0}.not_compared(),
         [](const SweepConfig& c) -> V { return std::to_string(c.shard_index) + "/" + std::to_string(c.shard_count); },
         [](SweepConfig& c, const V& v) {
             c.shard_index = c.shard_count = -1;
             char tail = 0;
             if (std::sscanf(as_text(v).c_str(), "%d/%d%c", &c.shard_index, &c.shard_count, &tail) != 2)
                 c.shard_index = c.shard_count = -1;
         }},
    };
    append_part(t, lattice_parameters(), [](auto& c) -> auto& { return c.lattice; });
    append_part(t, precision_parameters(), [](auto& c) -> auto& { return c.precision; });
    append_part(t, couplings_parameters(), [](auto& c) -> auto& { return c.grid.fixed; });
    // The classification thresholds decide the verdicts, so they belong to the sweep.
    append_part(t, analysis_parameters(), [](auto& c) -> auto& { return c.analysis; });
    return t;
    }();
    return table;
}

struct Field {
    const char* name;
    bool per_replica;
    bool integer;
    std::int64_t lo, hi;  // valid codes (integer fields)
};
const Field kFields[] = {{"phase", true, true, kNotDone, kBlowUp},     {"order", true, true, kNotDone, kBlowUp},
                         {"agree", true, true, kNotDone, 3},           {"m_perp", true, false, 0, 0},
                         {"residual", true, false, 0, 0},              {"peak_weight", true, false, 0, 0},
                         {"period", true, false, 0, 0},                {"vortices", true, false, 0, 0},
                         {"t_final", true, false, 0, 0},               {"predicted", false, true, kNotDone, kTie},
                         {"predicted_growth", false, false, 0, 0},     {"predicted_period", false, false, 0, 0}};

void* field_data(SweepResults& r, const std::string& n) {
    if (n == "phase") return r.phase.data();
    if (n == "order") return r.order.data();
    if (n == "agree") return r.agree.data();
    if (n == "m_perp") return r.m_perp.data();
    if (n == "residual") return r.residual.data();
    if (n == "peak_weight") return r.peak_weight.data();
    if (n == "period") return r.period.data();
    if (n == "vortices") return r.vortices.data();
    if (n == "t_final") return r.t_final.data();
    if (n == "predicted") return r.predicted.data();
    if (n == "predicted_growth") return r.predicted_growth.data();
    return r.predicted_period.data();
}

std::vector<hsize_t> field_dims(const SweepConfig& c, const Field& f) {
    const hsize_t nx = hsize_t(c.grid.x.n), ny = hsize_t(c.grid.y.n), R = hsize_t(c.replicas);
    return f.per_replica ? std::vector<hsize_t>{ny, nx, R} : std::vector<hsize_t>{ny, nx};
}

}  // namespace

const ParamTable<SweepConfig>& sweep_parameters() { return table(); }

void validate(const SweepConfig& c, const ParamSource& src) {
    check_all(table(), c, src);
    check_lattice(c.lattice, src, src.name(find_param(table(), "sizes")));
    for (const GridAxis* a : {&c.grid.x, &c.grid.y})
        if (a->n > 1 && !(a->hi > a->lo))
            refuse(src, find_param(table(), a == &c.grid.x ? "x_hi" : "y_hi"), "must exceed the axis minimum");
    if ((long long)c.grid.x.n * c.grid.y.n > kMaxGridPoints)
        refuse(src, find_param(table(), "y_n"), "the grid has more than " + std::to_string(kMaxGridPoints) + " points");
    if (c.grid.x.name == c.grid.y.name) refuse(src, find_param(table(), "y_name"), "must differ from the x axis");
    if (c.shard_count < 1 || c.shard_count > 1000000 || c.shard_index < 0 || c.shard_index >= c.shard_count)
        refuse(src, find_param(table(), "shard"), "expected I/N with 0 <= I < N <= 1000000");
    if (c.numerics.t_end / c.numerics.dt > kMaxSteps)
        refuse(src, find_param(table(), "dt"), "t-end/dt = " + value_text(c.numerics.t_end / c.numerics.dt) + " steps is more than any run can take");
}

void create_sweep_group(hid_t file, const SweepConfig& c) {
    h5::Id g = h5::create_group(file, "/sweep");
    write_params(g, table(), c);
    h5::set_attr(g, "phase_codes", std::string(kPhaseCodesText));
    h5::set_attr(g, "order_codes", std::string(kOrderCodesText));
    h5::set_attr(g, "agree_codes", std::string(kAgreeCodesText));
    h5::set_attr(g, "fixed_note", std::string("Jx, Jy, Jz, gamma_phi attributes hold only where not an axis"));
    h5::set_attr(g, "initial_state", std::string("random (uniform in the Bloch ball), replica r keyed by seed + r"));
    // Every dataset gets its storage now: the batches overwrite it in place,
    // so a full disk can only stop a sweep at its creation, never lose a point.
    for (const Field& f : kFields)
        h5::create_filled(g, f.name, field_dims(c, f), f.integer ? H5T_STD_I64LE : H5T_IEEE_F64LE,
                          f.integer ? double(kNotDone) : NAN);
    const hsize_t nx = hsize_t(c.grid.x.n), ny = hsize_t(c.grid.y.n), R = hsize_t(c.replicas);
    h5::create_filled(g, "k", {ny, nx, R, 3}, H5T_IEEE_F64LE, NAN);
    h5::create_filled(g, "batch", {ny, nx}, H5T_STD_I64LE, -1);
    const std::vector<double> xs = c.grid.x.values(), ys = c.grid.y.values();
    h5::write_array(g, "x", {nx}, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, xs.data(), 0);
    h5::write_array(g, "y", {ny}, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, ys.data(), 0);
}

void write_sweep_results(hid_t file, const std::string& path, SweepResults& r) {
    h5::Id g = h5::open_group(file, "/sweep");
    for (const Field& f : kFields) h5::overwrite(g, f.name, f.integer ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE, field_data(r, f.name));
    h5::overwrite(g, "k", H5T_NATIVE_DOUBLE, r.k.data());
    // The commit mark of the batch goes last, once its results are on disk.
    flush_file(file, path);
    h5::overwrite(g, "batch", H5T_NATIVE_INT64, r.batch.data());
    flush_file(file, path);
}

// path by value: callers pass c.output, which is reset below.
SweepResults read_sweep(hid_t file, std::string path, SweepConfig& c) {
    if (!h5::exists(file, "/sweep")) throw Error(path + ": not a sweep file (no /sweep)", exit_code::io);
    const ParamSource src{path, "/sweep"};
    h5::Id g = h5::open_group(file, "/sweep");
    c = SweepConfig{};
    read_params(g, table(), c, src);
    if (h5::attr_ints(g, "sizes").size() != std::size_t(c.lattice.dim))
        refuse(src, find_param(table(), "sizes"), "does not have dim = " + std::to_string(c.lattice.dim) + " sides");
    validate(c, src);
    c.output = path;

    SweepResults r;
    r.resize(c.grid.points(), c.replicas);
    auto read = [&](const char* name, const std::vector<hsize_t>& dims) {
        return h5::read_array(g, name, dims, path + ": /sweep/" + name);
    };
    for (const Field& f : kFields) {
        const std::vector<double> v = read(f.name, field_dims(c, f));
        if (f.integer) {
            auto* p = static_cast<std::int64_t*>(field_data(r, f.name));
            for (std::size_t i = 0; i < v.size(); ++i) {
                if (!(v[i] >= double(f.lo) && v[i] <= double(f.hi)) || v[i] != std::floor(v[i]))
                    throw Error(path + ": /sweep/" + f.name + " holds " + value_text(v[i]) + ", not a known code",
                                exit_code::io);
                p[i] = std::int64_t(v[i]);
            }
        } else {
            std::copy(v.begin(), v.end(), static_cast<double*>(field_data(r, f.name)));
        }
    }
    const hsize_t nx = hsize_t(c.grid.x.n), ny = hsize_t(c.grid.y.n), R = hsize_t(c.replicas);
    r.k = read("k", {ny, nx, R, 3});
    for (const char* axis : {"x", "y"}) {
        const std::vector<double> want = axis[0] == 'x' ? c.grid.x.values() : c.grid.y.values();
        const std::vector<double> have = read(axis, {hsize_t(want.size())});
        for (std::size_t i = 0; i < want.size(); ++i)
            if (!(std::abs(have[i] - want[i]) <= 1e-12 * std::max(1.0, std::abs(want[i]))))
                throw Error(path + ": /sweep/" + axis + " does not match the grid in its attributes", exit_code::io);
    }
    // Schema 1.0 files have no commit marks: a point counts as done when all its replicas have a phase.
    const int Rn = c.replicas;
    if (h5::exists(g, "batch")) {
        const std::vector<double> b = read("batch", {ny, nx});
        for (std::size_t p = 0; p < b.size(); ++p) r.batch[p] = std::isfinite(b[p]) ? std::int64_t(b[p]) : -1;
    } else {
        for (std::size_t p = 0; p < r.batch.size(); ++p) {
            bool done = true;
            for (int q = 0; q < Rn; ++q) done = done && r.phase[p * Rn + q] != kNotDone;
            r.batch[p] = done ? 0 : -1;
        }
    }
    // A point without its commit mark was not (completely) written: it is not done.
    for (std::size_t p = 0; p < r.batch.size(); ++p) {
        if (r.batch[p] >= 0) {
            for (int q = 0; q < Rn; ++q) {
                const std::size_t e = p * Rn + q;
                if (r.phase[e] == kNotDone || !std::isfinite(r.t_final[e]))
                    throw Error(path + ": /sweep point " + std::to_string(p) + " is marked done but has no result",
                                exit_code::io);
            }
        } else {
            r.clear_point(int(p), Rn);
        }
    }
    return r;
}

SweepResults read_sweep(const std::string& path, SweepConfig& c) {
    h5::Id f = open_xyzmf(path, false);
    return read_sweep(f, path, c);
}

}  // namespace xyzmf
