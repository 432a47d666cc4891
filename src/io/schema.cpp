// The xyzmf file layout on top of the generic HDF5 wrapper (schema.hpp).
#include "schema.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "bloch_ball.hpp"
#include "dataset_units.hpp"
#include "xyzmf/error.hpp"
#include "xyzmf/version.hpp"

namespace xyzmf {

// Every dataset of an xyzmf file carries its unit and axes (dataset_units.cpp): the
// wrapper calls the table on each dataset it creates. Installed before main() runs,
// in this file because every program that writes xyzmf files links it.
namespace {
[[maybe_unused]] const bool units_attached = (h5::on_dataset_created(describe_dataset), true);
}  // namespace

std::string utc_timestamp() {
    std::time_t t = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    return buf;
}

void write_provenance(hid_t file, const std::string& command_line, const std::string& content) {
    h5::set_attr(file, "schema", std::string(kSchemaName));
    h5::set_attr(file, "schema_version", std::to_string(kSchemaMajor) + "." + std::to_string(kSchemaMinor));
    h5::set_attr(file, "xyzmf_version", std::string(XYZMF_VERSION));
    h5::set_attr(file, "git_revision", std::string(XYZMF_GIT_REVISION));
    h5::set_attr(file, "command_line", command_line);
    h5::set_attr(file, "created", utc_timestamp());
    h5::set_attr(file, "content", content);
}

std::string why_no_states(hid_t file) {
    try {
        if (h5::has_attr(file, "content") && h5::attr_string(file, "content") == "analysis")
            return "it is an analysis that `analyze --out` wrote (no spins); give the run file it analysed";
    } catch (const Error&) {
    }
    return "";
}

void record_backend(hid_t file, const std::string& description) { h5::set_attr(file, "backend", description); }

std::vector<hsize_t> spin_dims(const Lattice& lat) {
    std::vector<hsize_t> d;
    for (int a = lat.dim - 1; a >= 0; --a) d.push_back(hsize_t(lat.L[a]));
    d.push_back(3);
    return d;
}

h5::Id open_xyzmf(const std::string& path, bool writable) {
    h5::Id file = h5::open_file(path, writable);
    if (!attr_is_string(file, "schema") || h5::attr_string(file, "schema") != kSchemaName)
        throw Error(path + ": not an xyzmf file (no schema = \"xyzmf\" attribute)", exit_code::io);
    const std::string version = attr_is_string(file, "schema_version") ? h5::attr_string(file, "schema_version") : "?";
    int major = -1;
    if (std::sscanf(version.c_str(), "%d", &major) != 1 || major != kSchemaMajor)
        throw Error(path + ": xyzmf schema version " + version + " is not readable by this xyzmf (reads " +
                        std::to_string(kSchemaMajor) + ".x)",
                    exit_code::io);
    return file;
}

void write_param(hid_t g, const ParamSpec& p, const ParamValue& v) {
    if (auto d = std::get_if<double>(&v)) h5::set_attr(g, p.key, *d);
    else if (auto i = std::get_if<std::int64_t>(&v)) h5::set_attr(g, p.key, *i);
    else if (auto s = std::get_if<std::string>(&v)) h5::set_attr(g, p.key, *s);
    else h5::set_attr(g, p.key, std::get<std::vector<std::int64_t>>(v));
}

void write_param_units(hid_t g, const std::vector<ParamSpec>& specs) {
    // One JSON object in a string attribute: a subgroup would change what
    // scripts that loop over a group's datasets find.
    std::string json = "{";
    for (const ParamSpec& p : specs) {
        if (p.kind == ParamKind::text) continue;  // names and choices, not quantities
        const std::string unit = p.kind == ParamKind::sizes ? "sites" : *p.unit ? p.unit : "1";
        json += std::string(json.size() > 1 ? ", " : "") + "\"" + p.key + "\": \"" + unit + "\"";
    }
    h5::set_attr(g, "parameter_units", json + "}");
}

std::optional<ParamValue> read_param(hid_t g, const ParamSpec& p, const ParamSource& src) {
    if (!h5::has_attr(g, p.key)) {
        if (p.required) refuse(src, p, "is missing");
        return std::nullopt;
    }
    h5::Id a(H5Aopen(g, p.key, H5P_DEFAULT), H5Aclose, std::string("open attribute ") + p.key);
    h5::Id type(H5Aget_type(a), H5Tclose, "attribute type");
    h5::Id space(H5Aget_space(a), H5Sclose, "attribute space");
    const H5T_class_t cls = H5Tget_class(type);
    const hssize_t n = H5Sget_simple_extent_npoints(space);
    const int rank = H5Sget_simple_extent_ndims(space);
    const bool scalar = n == 1 && rank <= 1;
    ParamValue v;
    switch (p.kind) {
        case ParamKind::real:
            if (cls != H5T_FLOAT || !scalar) refuse(src, p, "must be one floating-point number");
            v = h5::attr_double(g, p.key);
            break;
        case ParamKind::integer:
            if (cls != H5T_INTEGER || !scalar) refuse(src, p, "must be one integer");
            v = h5::attr_int(g, p.key);
            break;
        case ParamKind::text:
            if (cls != H5T_STRING || !scalar) refuse(src, p, "must be one string");
            v = h5::attr_string(g, p.key);
            break;
        case ParamKind::sizes:
            if (cls != H5T_INTEGER || rank != 1 || n < 1 || n > 3) refuse(src, p, "must be a list of 1 to 3 integers");
            v = h5::attr_ints(g, p.key);
            break;
    }
    check_value(p, v, src);
    return v;
}

bool attr_is_string(hid_t obj, const std::string& name) {
    if (!h5::has_attr(obj, name)) return false;
    h5::Id a(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose, "open attribute " + name);
    h5::Id type(H5Aget_type(a), H5Tclose, "attribute type");
    h5::Id space(H5Aget_space(a), H5Sclose, "attribute space");
    return H5Tget_class(type) == H5T_STRING && H5Sget_simple_extent_npoints(space) == 1;
}

void mark_complete(hid_t group) { h5::set_attr(group, "complete", std::int64_t(1)); }

bool is_complete(hid_t file, const std::string& group) {
    if (!h5::exists(file, group)) return false;
    h5::Id g = h5::open_group(file, group);
    if (h5::has_attr(g, "complete")) {
        // The mark is the integer 1; anything else (complete = 0, a string) is no mark.
        try {
            h5::Id a(H5Aopen(g, "complete", H5P_DEFAULT), H5Aclose, "attribute complete");
            h5::Id t(H5Aget_type(a), H5Tclose, "type of complete");
            if (H5Tget_class(t) != H5T_INTEGER) return false;
            return h5::attr_int(g, "complete") == 1;
        } catch (const Error&) {
            return false;
        }
    }
    const std::string version = attr_is_string(file, "schema_version") ? h5::attr_string(file, "schema_version") : "";
    if (version != "1.0") return false;  // 1.1 and later: no mark, not complete
    return h5::exists(file, group + "/spins") && h5::exists(file, group + "/t");
}

void write_run_parameters(hid_t file, const RunConfig& cfg, const std::string& backend_used) {
    h5::Id p = h5::create_group(file, "/parameters");
    write_params(p, run_parameters(), cfg);
    h5::set_attr(p, "backend", backend_used);  // provenance, not a parameter
    // What a resume must go on writing (not physics: no option of --config).
    h5::set_attr(p, "analyze", std::int64_t(cfg.analyze));
    if (cfg.analyze) h5::set_attr(p, "sk_storage", cfg.sk_storage);
    h5::set_attr(p, "xdmf", std::int64_t(cfg.xdmf));
}

RunConfig read_run_config(hid_t file, const std::string& path) {
    const ParamSource src{path, "/parameters"};
    if (!h5::exists(file, "/parameters")) throw Error(path + ": has no /parameters (not a run file)", exit_code::io);
    h5::Id p = h5::open_group(file, "/parameters");
    RunConfig c;
    read_params(p, run_parameters(), c, src);
    const std::vector<std::int64_t> sizes = h5::attr_ints(p, "sizes");
    if (int(sizes.size()) != c.lattice.dim)
        refuse(src, find_param(run_parameters(), "sizes"),
               "has " + std::to_string(sizes.size()) + " sides but dim is " + std::to_string(c.lattice.dim));
    validate(c, src);
    // (absent in files written before they were recorded: neither)
    c.analyze = h5::has_attr(p, "analyze") && h5::attr_int(p, "analyze") == 1;
    if (c.analyze && h5::has_attr(p, "sk_storage")) c.sk_storage = h5::attr_string(p, "sk_storage");
    c.xdmf = h5::has_attr(p, "xdmf") && h5::attr_int(p, "xdmf") == 1;
    c.output = path;
    return c;
}

RunConfig read_run_config(const std::string& path) {
    h5::Id file = open_xyzmf(path, false);
    return read_run_config(file, path);
}

std::vector<double> to_soa(const std::vector<double>& aos, index_t N) {
    std::vector<double> soa;
    to_soa(aos, N, soa);
    return soa;
}

void to_soa(const std::vector<double>& aos, index_t N, std::vector<double>& soa) {
    soa.resize(aos.size());
    for (index_t n = 0; n < N; ++n)
        for (int c = 0; c < 3; ++c) soa[c * N + n] = aos[3 * n + c];
}

std::vector<double> to_aos(const std::vector<double>& soa, index_t N) {
    std::vector<double> aos(soa.size());
    for (index_t n = 0; n < N; ++n)
        for (int c = 0; c < 3; ++c) aos[3 * n + c] = soa[c * N + n];
    return aos;
}

namespace {

std::string num(double v) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.10g", v);
    return buf;
}

}  // namespace

std::string snapshot_group(std::int64_t index) {
    char name[40];
    std::snprintf(name, sizeof name, "/snapshots/%06lld", static_cast<long long>(index));
    return name;
}

std::vector<std::int64_t> snapshot_indices(hid_t file) {
    std::vector<std::int64_t> out;
    if (!h5::exists(file, "/snapshots")) return out;
    h5::Id snaps = h5::open_group(file, "/snapshots");
    H5G_info_t info;
    if (H5Gget_info(snaps, &info) < 0) return out;
    for (hsize_t i = 0; i < info.nlinks; ++i) {
        char name[64] = {0};
        if (H5Lget_name_by_idx(snaps, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT) < 0) continue;
        char* end = nullptr;
        const long long index = std::strtoll(name, &end, 10);
        if (*end != '\0' || index < 0 || snapshot_group(index) != std::string("/snapshots/") + name) continue;
        if (is_complete(file, snapshot_group(index))) out.push_back(index);
    }
    std::sort(out.begin(), out.end());
    return out;
}

namespace {

// The state group `where`, which must hold spins and be complete.
h5::Id open_state_group(hid_t file, const std::string& path, const std::string& where) {
    if (!h5::exists(file, where + "/spins")) throw Error(path + ": holds no state at " + where, exit_code::io);
    if (!is_complete(file, where)) throw Error(path + ": " + where + " was not completely written", exit_code::io);
    return h5::open_group(file, where);
}

// Sites [first, first + count) of the spins in state group g, (x, y, z) per site,
// checked: Bloch vectors, finite and |s| <= 1 up to the run's tolerance.
void read_checked_spins(hid_t g, const std::string& path, const std::string& where, const RunConfig& cfg, index_t first,
                        index_t count, std::vector<double>& aos) {
    const std::string what = path + ": " + where + "/spins";
    const std::vector<hsize_t> dims = spin_dims(cfg.lattice);
    if (h5::dataset_class(g, "spins") != H5T_FLOAT) throw Error(what + " is not floating-point", exit_code::io);
    const index_t row = std::max<index_t>(1, dims[0] > 0 ? cfg.lattice.sites() / index_t(dims[0]) : 1);
    if (first % row != 0 || count % row != 0) throw Error(what + ": not whole rows", exit_code::usage);
    h5::read_rows(g, "spins", dims, what, hsize_t(first / row), hsize_t(count / row), aos);
    for (std::size_t n = 0; n < aos.size() / 3; ++n) {
        const double x = aos[3 * n], y = aos[3 * n + 1], z = aos[3 * n + 2];
        const double r2 = x * x + y * y + z * z;
        if (std::isfinite(r2) && in_bloch_ball(r2, cfg.numerics.norm_tol)) continue;
        const std::string site = std::to_string(first + index_t(n));  // (only for the message: a 2048^2 state has 4 M)
        if (!std::isfinite(r2)) throw Error(what + ": site " + site + " is not a finite vector", exit_code::io);
        throw Error(what + ": site " + site + " has |s| = " + num(std::sqrt(r2)) + " > 1 + norm_tol (not a Bloch vector)",
                    exit_code::io);
    }
}

}  // namespace

std::vector<double> read_state_sites(const std::string& path, const std::string& where, index_t first, index_t count) {
    h5::Id file = open_xyzmf(path, false);
    const RunConfig cfg = read_run_config(file, path);
    h5::Id g = open_state_group(file, path, where);
    std::vector<double> aos;
    read_checked_spins(g, path, where, cfg, first, count, aos);
    return to_soa(aos, count);
}

void read_state_group(hid_t file, const std::string& path, const std::string& where, StoredState& st,
                      std::vector<double>& scratch, bool with_spins) {
    const RunConfig cfg = read_run_config(file, path);
    st.lattice = cfg.lattice;
    h5::Id g = open_state_group(file, path, where);
    if (with_spins) {
        read_checked_spins(g, path, where, cfg, 0, st.lattice.sites(), scratch);
        to_soa(scratch, st.lattice.sites(), st.spins);
    } else {
        st.spins.clear();
    }
    if (!h5::exists(g, "t") || h5::dataset_dims(g, "t").size() != 0)
        throw Error(path + ": " + where + "/t is missing or not a scalar", exit_code::io);
    try {
        st.t = h5::read_scalar(g, "t");
    } catch (const Error& e) {  // (a string, say: name the file and the object)
        throw Error(path + ": " + where + "/t cannot be read as a number (" + e.what() + ")", exit_code::io);
    }
    if (!std::isfinite(st.t) || st.t < 0 || st.t > cfg.numerics.t_end * (1 + 1e-12))
        throw Error(path + ": " + where + "/t = " + num(st.t) + " is outside 0 to t_end", exit_code::io);
    st.step = h5::has_attr(g, "step") ? h5::attr_int(g, "step") : 0;
    st.dt_next = h5::has_attr(g, "dt_next") ? h5::attr_double(g, "dt_next") : 0;
    st.timeseries_rows = h5::has_attr(g, "timeseries_rows") ? h5::attr_int(g, "timeseries_rows") : 0;
    if (st.timeseries_rows < 0) throw Error(path + ": " + where + " has a negative timeseries_rows", exit_code::io);
    if (cfg.numerics.integrator == IntegratorKind::rk4) {
        // Fixed steps: t is step * dt (t_end for the last, shortened step).
        const double t_of_step = std::min(double(st.step) * cfg.numerics.dt, cfg.numerics.t_end);
        if (st.step < 0 || std::abs(t_of_step - st.t) > 1e-9 * std::max(1.0, st.t))
            throw Error(path + ": " + where + " step = " + std::to_string(st.step) + " does not match t = " + num(st.t) +
                            " and dt = " + num(cfg.numerics.dt),
                        exit_code::io);
    } else if (st.step < 0 || !std::isfinite(st.dt_next) || st.dt_next < 0) {
        throw Error(path + ": " + where + " has an invalid step or dt_next", exit_code::io);
    }
    st.snapshot_index = where.rfind("/snapshots/", 0) == 0 ? std::atoll(where.c_str() + 11) : -1;
    st.where = where;
}

StoredState read_state_group(hid_t file, const std::string& path, const std::string& where, bool with_spins) {
    StoredState st;
    std::vector<double> scratch;
    read_state_group(file, path, where, st, scratch, with_spins);
    return st;
}

StoredState read_stored_state(const std::string& path, bool last_snapshot_only, bool with_spins) {
    h5::Id file = open_xyzmf(path, false);
    if (!last_snapshot_only && is_complete(file, "/final")) return read_state_group(file, path, "/final", with_spins);
    const std::vector<std::int64_t> snaps = snapshot_indices(file);
    if (snaps.empty()) throw Error(path + ": holds no complete snapshot to start from", exit_code::io);
    return read_state_group(file, path, snapshot_group(snaps.back()), with_spins);
}

void record_resume(hid_t file, const std::string& command_line) {
    const std::string history = h5::has_attr(file, "resumed_by") ? h5::attr_string(file, "resumed_by") + "\n" : "";
    h5::set_attr(file, "resumed_by", history + utc_timestamp() + " " + command_line);
}

}  // namespace xyzmf
