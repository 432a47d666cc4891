// HDF5 C API behind RAII handles, and reading the xyzmf schema back
// (docs/hdf5-layout.md). Errors are reported once, as xyzmf::Error.
#include "xyzmf/h5file.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "xyzmf/version.hpp"

#include "xyzmf/error.hpp"

namespace xyzmf {
namespace h5 {
namespace {

// HDF5 prints a multi-line error stack on every failed call; we report our own line.
struct SilenceHdf5 {
    SilenceHdf5() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }
} silence_hdf5;

[[noreturn]] void fail(const std::string& what) { throw Error("HDF5: " + what, exit_code::io); }

void check(herr_t rc, const std::string& what) {
    if (rc < 0) fail(what);
}

bool file_exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

Id attr_space_scalar() { return Id(H5Screate(H5S_SCALAR), H5Sclose, "scalar dataspace"); }

void write_attr(hid_t obj, const std::string& name, hid_t type, hid_t space, const void* data) {
    if (H5Aexists(obj, name.c_str()) > 0) check(H5Adelete(obj, name.c_str()), "delete attribute " + name);
    Id a(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose, "create attribute " + name);
    check(H5Awrite(a, type, data), "write attribute " + name);
}

Id open_attr(hid_t obj, const std::string& name) {
    if (H5Aexists(obj, name.c_str()) <= 0) fail("attribute '" + name + "' is missing");
    return Id(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose, "open attribute " + name);
}

}  // namespace

Id::Id(hid_t id, Closer close, const std::string& what) : id_(id), close_(close) {
    if (id < 0) fail("cannot " + what);
}
Id& Id::operator=(Id&& o) noexcept {
    if (this != &o) {
        if (id_ >= 0 && close_) close_(id_);
        id_ = o.id_;
        close_ = o.close_;
        o.id_ = -1;
    }
    return *this;
}
Id::~Id() {
    if (id_ >= 0 && close_) close_(id_);
}

Id create_file(const std::string& path, bool overwrite) {
    if (!overwrite && file_exists(path))
        throw Error("-o: " + path + " already exists; pass --overwrite to replace it", exit_code::io);
    const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) throw Error("-o: cannot create " + path + " (directory missing or not writable?)", exit_code::io);
    return Id(f, H5Fclose, "create " + path);
}

Id open_file(const std::string& path, bool writable) {
    if (!file_exists(path)) throw Error(path + ": no such file", exit_code::io);
    if (H5Fis_hdf5(path.c_str()) <= 0) throw Error(path + ": not an HDF5 file", exit_code::io);
    const hid_t f = H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) throw Error(path + ": cannot open (corrupt, or locked by a running xyzmf?)", exit_code::io);
    Id file(f, H5Fclose, "open " + path);
    if (!has_attr(file, "schema") || attr_string(file, "schema") != kSchemaName)
        throw Error(path + ": not an xyzmf file (no schema = \"xyzmf\" attribute)", exit_code::io);
    const std::string version = has_attr(file, "schema_version") ? attr_string(file, "schema_version") : "?";
    int major = -1;
    if (std::sscanf(version.c_str(), "%d", &major) != 1 || major != kSchemaMajor)
        throw Error(path + ": xyzmf schema version " + version + " is not readable by this xyzmf (reads " +
                        std::to_string(kSchemaMajor) + ".x)",
                    exit_code::io);
    return file;
}

Id open_group(hid_t loc, const std::string& name) {
    return Id(H5Gopen2(loc, name.c_str(), H5P_DEFAULT), H5Gclose, "open group " + name);
}
Id create_group(hid_t loc, const std::string& name) {
    Id lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose, "property list");
    check(H5Pset_create_intermediate_group(lcpl, 1), "intermediate groups");  // e.g. /snapshots in analyze --out
    return Id(H5Gcreate2(loc, name.c_str(), lcpl, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, "create group " + name);
}
Id open_dataset(hid_t loc, const std::string& name) {
    return Id(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), H5Dclose, "open dataset " + name);
}

bool exists(hid_t loc, const std::string& path) {
    // Check each component, as H5Lexists requires the parents to exist.
    std::string partial;
    std::size_t pos = 0;
    while (pos != std::string::npos) {
        const std::size_t next = path.find('/', pos + 1);
        partial = path.substr(0, next);
        if (!partial.empty() && partial != "/" && H5Lexists(loc, partial.c_str(), H5P_DEFAULT) <= 0) return false;
        pos = next;
    }
    return true;
}

void remove(hid_t loc, const std::string& path) {
    check(H5Ldelete(loc, path.c_str(), H5P_DEFAULT), "delete " + path);
}

void set_attr(hid_t obj, const std::string& name, double v) {
    write_attr(obj, name, H5T_NATIVE_DOUBLE, attr_space_scalar(), &v);
}
void set_attr(hid_t obj, const std::string& name, std::int64_t v) {
    write_attr(obj, name, H5T_NATIVE_INT64, attr_space_scalar(), &v);
}
void set_attr(hid_t obj, const std::string& name, const std::string& v) {
    // Variable-length UTF-8, which h5py reads as str rather than bytes.
    Id type(H5Tcopy(H5T_C_S1), H5Tclose, "string type");
    check(H5Tset_size(type, H5T_VARIABLE), "string size");
    check(H5Tset_cset(type, H5T_CSET_UTF8), "string charset");
    const char* p = v.c_str();
    write_attr(obj, name, type, attr_space_scalar(), &p);
}
void set_attr(hid_t obj, const std::string& name, const std::vector<std::int64_t>& v) {
    const hsize_t n = v.size();
    Id space(H5Screate_simple(1, &n, nullptr), H5Sclose, "dataspace");
    write_attr(obj, name, H5T_NATIVE_INT64, space, v.data());
}

bool has_attr(hid_t obj, const std::string& name) { return H5Aexists(obj, name.c_str()) > 0; }

double attr_double(hid_t obj, const std::string& name) {
    Id a = open_attr(obj, name);
    double v = 0;
    check(H5Aread(a, H5T_NATIVE_DOUBLE, &v), "read attribute " + name);
    return v;
}
std::int64_t attr_int(hid_t obj, const std::string& name) {
    Id a = open_attr(obj, name);
    std::int64_t v = 0;
    check(H5Aread(a, H5T_NATIVE_INT64, &v), "read attribute " + name);
    return v;
}
std::string attr_string(hid_t obj, const std::string& name) {
    Id a = open_attr(obj, name);
    Id type(H5Aget_type(a), H5Tclose, "attribute type");
    if (H5Tget_class(type) != H5T_STRING) fail("attribute '" + name + "' is not a string");
    if (H5Tis_variable_str(type) > 0) {
        char* p = nullptr;
        Id mem(H5Tcopy(H5T_C_S1), H5Tclose, "string type");
        check(H5Tset_size(mem, H5T_VARIABLE), "string size");
        check(H5Tset_cset(mem, H5Tget_cset(type)), "string charset");  // HDF5 will not convert ASCII <-> UTF-8
        check(H5Aread(a, mem, &p), "read attribute " + name);
        std::string s = p ? p : "";
        H5free_memory(p);
        return s;
    }
    std::string s(H5Tget_size(type), '\0');
    check(H5Aread(a, type, s.data()), "read attribute " + name);
    s.erase(std::find(s.begin(), s.end(), '\0'), s.end());
    return s;
}
std::vector<std::int64_t> attr_ints(hid_t obj, const std::string& name) {
    Id a = open_attr(obj, name);
    Id space(H5Aget_space(a), H5Sclose, "attribute space");
    const hssize_t n = H5Sget_simple_extent_npoints(space);
    std::vector<std::int64_t> v(std::max<hssize_t>(n, 0));
    check(H5Aread(a, H5T_NATIVE_INT64, v.data()), "read attribute " + name);
    return v;
}

void write_scalar(hid_t loc, const std::string& name, double v) {
    Id space = attr_space_scalar();
    Id d(H5Dcreate2(loc, name.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose,
         "create dataset " + name);
    check(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v), "write " + name);
}
double read_scalar(hid_t loc, const std::string& name) {
    Id d = open_dataset(loc, name);
    double v = 0;
    check(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v), "read " + name);
    return v;
}

void write_array(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims, hid_t mem_type,
                 hid_t file_type, const void* data, int deflate) {
    Id space(H5Screate_simple(int(dims.size()), dims.data(), nullptr), H5Sclose, "dataspace for " + name);
    Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "property list");
    if (deflate > 0) {
        // Chunks of about 1 MiB: shrink the slowest axes first so a chunk is
        // a slab of whole rows, which is also how snapshots are read back.
        std::vector<hsize_t> chunk = dims;
        const double target = 1 << 20;
        double bytes = double(H5Tget_size(file_type));
        for (hsize_t c : chunk) bytes *= double(c);
        for (std::size_t a = 0; a < chunk.size() && bytes > target; ++a) {
            const hsize_t keep = std::max<hsize_t>(1, hsize_t(double(chunk[a]) * target / bytes));
            bytes = bytes / double(chunk[a]) * double(keep);
            chunk[a] = keep;
        }
        check(H5Pset_chunk(dcpl, int(chunk.size()), chunk.data()), "chunk " + name);
        check(H5Pset_shuffle(dcpl), "shuffle " + name);
        check(H5Pset_deflate(dcpl, unsigned(deflate)), "deflate " + name);
    }
    Id d(H5Dcreate2(loc, name.c_str(), file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), H5Dclose,
         "create dataset " + name);
    check(H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "write " + name);
}

std::vector<double> read_array(hid_t loc, const std::string& name, std::vector<hsize_t>& dims) {
    Id d = open_dataset(loc, name);
    Id space(H5Dget_space(d), H5Sclose, "dataspace of " + name);
    const int rank = H5Sget_simple_extent_ndims(space);
    if (rank < 0) fail("bad dataspace of " + name);
    dims.assign(rank, 0);
    H5Sget_simple_extent_dims(space, dims.data(), nullptr);
    hsize_t n = 1;
    for (hsize_t x : dims) n *= x;
    std::vector<double> v(n);
    check(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), "read " + name);
    return v;
}

void create_table(hid_t loc, const std::string& name, hsize_t cols) {
    const int rank = cols == 1 ? 1 : 2;
    hsize_t dims[2] = {0, cols}, maxd[2] = {H5S_UNLIMITED, cols}, chunk[2] = {1024, cols};
    Id space(H5Screate_simple(rank, dims, maxd), H5Sclose, "dataspace for " + name);
    Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "property list");
    check(H5Pset_chunk(dcpl, rank, chunk), "chunk " + name);
    Id d(H5Dcreate2(loc, name.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), H5Dclose,
         "create dataset " + name);
}

hsize_t table_rows(hid_t loc, const std::string& name) {
    Id d = open_dataset(loc, name);
    Id space(H5Dget_space(d), H5Sclose, "dataspace of " + name);
    hsize_t dims[2] = {0, 0};
    H5Sget_simple_extent_dims(space, dims, nullptr);
    return dims[0];
}

void append_row(hid_t loc, const std::string& name, const double* row, hsize_t cols) {
    Id d = open_dataset(loc, name);
    Id space0(H5Dget_space(d), H5Sclose, "dataspace of " + name);
    const int rank = H5Sget_simple_extent_ndims(space0);
    hsize_t dims[2] = {0, 0};
    H5Sget_simple_extent_dims(space0, dims, nullptr);
    hsize_t grown[2] = {dims[0] + 1, cols};
    check(H5Dset_extent(d, grown), "extend " + name);
    Id space(H5Dget_space(d), H5Sclose, "dataspace of " + name);
    hsize_t start[2] = {dims[0], 0}, count[2] = {1, cols};
    check(H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr), "select " + name);
    Id mem(H5Screate_simple(rank, count, nullptr), H5Sclose, "memory space");
    check(H5Dwrite(d, H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, row), "append to " + name);
}

void truncate_table(hid_t loc, const std::string& name, hsize_t rows) {
    Id d = open_dataset(loc, name);
    Id space(H5Dget_space(d), H5Sclose, "dataspace of " + name);
    hsize_t dims[2] = {0, 0};
    H5Sget_simple_extent_dims(space, dims, nullptr);
    dims[0] = std::min(dims[0], rows);
    check(H5Dset_extent(d, dims), "truncate " + name);
}

}  // namespace h5

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

std::string lattice_text(const Lattice& lat) {
    std::string s;
    for (int a = 0; a < lat.dim; ++a) s += (a ? "x" : "") + std::to_string(lat.L[a]);
    return s + " (" + std::to_string(lat.dim) + "D)";
}

std::vector<hsize_t> spin_dims(const Lattice& lat) {
    std::vector<hsize_t> d;
    for (int a = lat.dim - 1; a >= 0; --a) d.push_back(hsize_t(lat.L[a]));
    d.push_back(3);
    return d;
}

namespace {

Lattice read_lattice(hid_t file, const std::string& path) {
    h5::Id params = h5::open_group(file, "/parameters");
    Lattice lat;
    lat.dim = int(h5::attr_int(params, "dim"));
    const std::vector<std::int64_t> sizes = h5::attr_ints(params, "sizes");
    if (lat.dim < 1 || lat.dim > 3 || int(sizes.size()) != lat.dim)
        throw Error(path + ": /parameters has an inconsistent dim/sizes", exit_code::io);
    for (int a = 0; a < lat.dim; ++a) lat.L[a] = sizes[a];
    return lat;
}

// Interleaved (..., 3) file layout -> SoA host layout.
std::vector<double> to_soa(const std::vector<double>& aos, index_t N) {
    std::vector<double> soa(aos.size());
    for (index_t n = 0; n < N; ++n)
        for (int c = 0; c < 3; ++c) soa[c * N + n] = aos[3 * n + c];
    return soa;
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
    H5Gget_info(snaps, &info);
    for (hsize_t i = 0; i < info.nlinks; ++i) {
        char name[64] = {0};
        H5Lget_name_by_idx(snaps, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT);
        out.push_back(std::atoll(name));
    }
    std::sort(out.begin(), out.end());
    return out;
}

StoredState read_state_group(hid_t file, const std::string& path, const std::string& where) {
    StoredState st;
    st.lattice = read_lattice(file, path);
    if (!h5::exists(file, where + "/spins")) throw Error(path + ": holds no state at " + where, exit_code::io);
    h5::Id g = h5::open_group(file, where);
    std::vector<hsize_t> dims;
    const std::vector<double> aos = h5::read_array(g, "spins", dims);
    if (dims != spin_dims(st.lattice))
        throw Error(path + ": " + where + "/spins does not match the lattice in /parameters", exit_code::io);
    st.spins = to_soa(aos, st.lattice.sites());
    st.t = h5::read_scalar(g, "t");
    st.step = h5::has_attr(g, "step") ? h5::attr_int(g, "step") : 0;
    st.dt_next = h5::has_attr(g, "dt_next") ? h5::attr_double(g, "dt_next") : 0;
    st.timeseries_rows = h5::has_attr(g, "timeseries_rows") ? h5::attr_int(g, "timeseries_rows") : 0;
    st.snapshot_index = where.rfind("/snapshots/", 0) == 0 ? std::atoll(where.c_str() + 11) : -1;
    st.where = where;
    return st;
}

StoredState read_stored_state(const std::string& path, bool last_snapshot_only) {
    h5::Id file = h5::open_file(path, false);
    if (!last_snapshot_only && h5::exists(file, "/final/spins")) return read_state_group(file, path, "/final");
    const std::vector<std::int64_t> snaps = snapshot_indices(file);
    if (snaps.empty()) throw Error(path + ": holds no snapshot to start from", exit_code::io);
    return read_state_group(file, path, snapshot_group(snaps.back()));
}

RunConfig read_run_config(const std::string& path) {
    h5::Id file = h5::open_file(path, false);
    h5::Id p = h5::open_group(file, "/parameters");
    RunConfig c;
    c.lattice = read_lattice(file, path);
    c.couplings.Jx = h5::attr_double(p, "Jx");
    c.couplings.Jy = h5::attr_double(p, "Jy");
    c.couplings.Jz = h5::attr_double(p, "Jz");
    c.couplings.gamma = h5::attr_double(p, "gamma");
    c.couplings.gamma_phi = h5::attr_double(p, "gamma_phi");
    Numerics& n = c.numerics;
    n.integrator = h5::attr_string(p, "integrator") == "dopri5" ? IntegratorKind::dopri5 : IntegratorKind::rk4;
    if (h5::has_attr(p, "stepper") && h5::attr_string(p, "stepper") == "four-sweep") n.stepper = Rk4Stepper::four_sweep;
    if (h5::has_attr(p, "compress")) c.compress = int(h5::attr_int(p, "compress"));
    if (h5::has_attr(p, "steps_per_pass")) n.steps_per_pass = int(h5::attr_int(p, "steps_per_pass"));
    n.dt = h5::attr_double(p, "dt");
    n.rtol = h5::attr_double(p, "rtol");
    n.atol = h5::attr_double(p, "atol");
    n.t_end = h5::attr_double(p, "t_end");
    n.steady_tol = h5::attr_double(p, "steady_tol");
    n.norm_tol = h5::attr_double(p, "norm_tol");
    n.record_every = h5::attr_double(p, "record_every");
    n.snapshot_every = h5::attr_double(p, "snapshot_every");
    c.precision = h5::attr_string(p, "precision") == "float" ? Precision::float32 : Precision::float64;
    c.seed = std::uint64_t(h5::attr_int(p, "seed"));
    c.init = h5::attr_string(p, "init");
    c.noise = h5::attr_double(p, "noise");
    const std::string req = h5::attr_string(p, "backend_requested");
    c.backend = req == "cpu" ? BackendRequest::cpu : req == "cuda" ? BackendRequest::cuda : BackendRequest::automatic;
    c.output = path;
    return c;
}

}  // namespace xyzmf
