// HDF5 C API behind RAII handles (hdf5.hpp). Errors are reported once, as
// xyzmf::Error with exit code io.
#include "hdf5.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "xyzmf/error.hpp"
#include "memory_info.hpp"

namespace xyzmf {
namespace h5 {
namespace {

DatasetHook dataset_hook = nullptr;  // zero before any constructor runs
void dataset_created(hid_t d) {
    if (dataset_hook) dataset_hook(d);
}

// HDF5 prints a multi-line error stack on every failed call; we report our own line.
struct SilenceHdf5 {
    SilenceHdf5() {
        // No clean-up at exit: every file is closed by its h5::Id before then,
        // and after a failed close (disk full) HDF5's exit handler retried the
        // flush and crashed.
        H5dont_atexit();
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    }
} silence_hdf5;

// A new file's temporary name .NAME.tmp-PID is NAME to the user.
std::string users_name(std::string file) {
    const std::size_t slash = file.rfind('/'), base = slash == std::string::npos ? 0 : slash + 1;
    const std::size_t tmp = file.find(".tmp-", base);
    if (tmp != std::string::npos && file.size() > base && file[base] == '.')
        file = file.substr(0, base) + file.substr(base + 1, tmp - base - 1);
    return file;
}

// Why the HDF5 call just made failed, when the system said so: its error stack
// records the failed write with the file's name and errno ("File too large"
// when ulimit -f stops it, "No space left on device"). Empty otherwise.
std::string system_cause() {
    struct Found {
        std::string file, why;
    } found;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD,
             [](unsigned, const H5E_error2_t* e, void* data) -> herr_t {
                 auto* f = static_cast<Found*>(data);
                 const std::string d = e && e->desc ? e->desc : "";
                 for (const char* why : {"File too large", "No space left on device", "Disk quota exceeded"})
                     if (f->why.empty() && d.find(why) != std::string::npos) {
                         f->why = why;
                         const std::size_t at = d.find("filename = '");
                         if (at != std::string::npos) {
                             const std::size_t from = at + 12, to = d.find('\'', from);
                             if (to != std::string::npos) f->file = d.substr(from, to - from);
                         }
                     }
                 return 0;
             },
             &found);
    if (found.why.empty()) return "";
    found.file = users_name(found.file);
    const std::string what = found.why == "File too large" ? "the file-size limit (ulimit -f) was reached"
                             : found.why == "Disk quota exceeded" ? "the disk quota is exceeded"
                                                                  : "the disk is full";
    return found.file.empty() ? what : found.file + ": " + what;
}

[[noreturn]] void fail(const std::string& what) {
    const std::string cause = system_cause();
    throw Error(cause.empty() ? "HDF5: " + what : cause + " (HDF5: " + what + ")", exit_code::io);
}

void check(herr_t rc, const std::string& what) {
    if (rc < 0) fail(what);
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

void silence_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

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

Id writer_access() {
    Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "file access property list");
    check(H5Pset_file_locking(fapl, false, true), "file locking off");
    return fapl;
}

void on_dataset_created(DatasetHook hook) { dataset_hook = hook; }

Id create_file(const std::string& path) {
    const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, writer_access());
    if (f < 0) throw Error(path + ": cannot create (directory missing or not writable?)", exit_code::io);
    return Id(f, H5Fclose, "create " + path);
}

Id open_file(const std::string& path, bool writable) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) throw Error(path + ": no such file", exit_code::io);
    if (!S_ISREG(st.st_mode)) throw Error(path + ": not a regular file", exit_code::io);
    if (H5Fis_hdf5(path.c_str()) <= 0) throw Error(path + ": not an HDF5 file (or unreadable)", exit_code::io);
    const hid_t f = writable ? H5Fopen(path.c_str(), H5F_ACC_RDWR, writer_access())
                             : H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) throw Error(path + ": cannot open (damaged, or being written by another program?)", exit_code::io);
    return Id(f, H5Fclose, "open " + path);
}

namespace {
// A group or dataset that did not open (id < 0) and was not stopped by the system
// (a full disk's cause comes first: H5Fget_name clears the error stack): named
// with its file (a damaged sweep, quantum or dtwa file said only "HDF5: cannot
// open dataset phase").
void refuse_missing(hid_t id, hid_t loc, const char* kind, const std::string& name) {
    if (id >= 0 || !system_cause().empty()) return;
    const ssize_t n = H5Fget_name(loc, nullptr, 0);
    if (n <= 0) return;
    std::string file(std::size_t(n) + 1, '\0');
    H5Fget_name(loc, file.data(), file.size());
    file.resize(std::size_t(n));
    throw Error(users_name(file) + ": no " + kind + " " + name + " (damaged, or not the kind of file expected)",
                exit_code::io);
}
}  // namespace

Id open_group(hid_t loc, const std::string& name) {
    const hid_t g = H5Gopen2(loc, name.c_str(), H5P_DEFAULT);
    refuse_missing(g, loc, "group", name);
    return Id(g, H5Gclose, "open group " + name);
}
Id create_group(hid_t loc, const std::string& name) {
    Id lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose, "property list");
    check(H5Pset_create_intermediate_group(lcpl, 1), "intermediate groups");  // e.g. /snapshots in analyze --out
    return Id(H5Gcreate2(loc, name.c_str(), lcpl, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, "create group " + name);
}
Id open_dataset(hid_t loc, const std::string& name) {
    const hid_t d = H5Dopen2(loc, name.c_str(), H5P_DEFAULT);
    refuse_missing(d, loc, "dataset", name);
    return Id(d, H5Dclose, "open dataset " + name);
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
    dataset_created(d);
    check(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v), "write " + name);
}
double read_scalar(hid_t loc, const std::string& name) {
    Id d = open_dataset(loc, name);
    double v = 0;
    check(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v), "read " + name);
    return v;
}

Id create_array(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims, hid_t file_type, int deflate,
                bool allocate_now) {
    Id space(H5Screate_simple(int(dims.size()), dims.data(), nullptr), H5Sclose, "dataspace for " + name);
    Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "property list");
    bool empty = false;
    for (hsize_t d : dims) empty = empty || d == 0;
    if (deflate > 0 && !empty) {  // an empty dataset cannot be chunked
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
    if (allocate_now) {
        check(H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY), "allocation of " + name);
        check(H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER), "fill of " + name);
    }
    Id d(H5Dcreate2(loc, name.c_str(), file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), H5Dclose,
         "create dataset " + name);
    dataset_created(d);
    return d;
}

std::vector<hsize_t> chunk_shape(hid_t dataset, const std::string& what) {
    Id dcpl(H5Dget_create_plist(dataset), H5Pclose, "creation properties of " + what);
    Id space(H5Dget_space(dataset), H5Sclose, "dataspace of " + what);
    const int rank = H5Sget_simple_extent_ndims(space);
    std::vector<hsize_t> chunk(rank > 0 ? std::size_t(rank) : 0, 0);
    if (rank <= 0 || H5Pget_layout(dcpl) != H5D_CHUNKED || H5Pget_chunk(dcpl, rank, chunk.data()) != rank)
        fail(what + " is not chunked");
    return chunk;
}

void write_raw_chunk(hid_t dataset, const hsize_t* origin, const void* bytes, std::size_t n, const std::string& what) {
    check(H5Dwrite_chunk(dataset, H5P_DEFAULT, 0, origin, n, bytes), "write a chunk of " + what);
}

void write_array(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims, hid_t mem_type,
                 hid_t file_type, const void* data, int deflate) {
    Id d = create_array(loc, name, dims, file_type, deflate);
    check(H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "write " + name);
}

std::vector<hsize_t> dataset_dims(hid_t loc, const std::string& name) {
    Id d = open_dataset(loc, name);
    Id space(H5Dget_space(d), H5Sclose, "dataspace of " + name);
    const int rank = H5Sget_simple_extent_ndims(space);
    if (rank < 0) fail("bad dataspace of " + name);
    std::vector<hsize_t> dims(rank, 0);
    H5Sget_simple_extent_dims(space, dims.data(), nullptr);
    return dims;
}

H5T_class_t dataset_class(hid_t loc, const std::string& name) {
    Id d = open_dataset(loc, name);
    Id type(H5Dget_type(d), H5Tclose, "type of " + name);
    return H5Tget_class(type);
}

std::vector<double> read_array(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims,
                               const std::string& what) {
    return read_rows(loc, name, dims, what, 0, dims.empty() ? 1 : dims[0]);
}

std::vector<double> read_rows(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims,
                              const std::string& what, hsize_t first, hsize_t rows) {
    std::vector<double> v;
    read_rows(loc, name, dims, what, first, rows, v);
    return v;
}

void read_rows(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims, const std::string& what,
               hsize_t first, hsize_t rows, std::vector<double>& v) {
    Id d = open_dataset(loc, name);
    const std::vector<hsize_t> have = dataset_dims(loc, name);
    auto shape = [](const std::vector<hsize_t>& v) {
        std::string s = "(";
        for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
        return s + ")";
    };
    if (have != dims) throw Error(what + " has shape " + shape(have) + ", expected " + shape(dims), exit_code::io);
    const H5T_class_t cls = dataset_class(loc, name);
    if (cls != H5T_FLOAT && cls != H5T_INTEGER) throw Error(what + " is not numeric", exit_code::io);
    hsize_t n = 1;
    for (hsize_t x : dims) n *= x;
    // Contiguous data must all be stored; chunked (compressed) data at least in part.
    Id dcpl(H5Dget_create_plist(d), H5Pclose, "creation properties of " + name);
    Id type(H5Dget_type(d), H5Tclose, "type of " + name);
    const hsize_t stored = H5Dget_storage_size(d);
    const bool contiguous = H5Pget_layout(dcpl) == H5D_CONTIGUOUS;
    if (n > 0 && (contiguous ? stored < n * H5Tget_size(type) : stored == 0))
        throw Error(what + " declares " + std::to_string(n) + " values but holds no data for them", exit_code::io);
    if (dims.empty() || (first == 0 && rows == dims[0])) {
        v.resize(n);
        check(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), "read " + name);
        return;
    }
    if (first + rows > dims[0]) fail("rows beyond the end of " + name);
    std::vector<hsize_t> start(dims.size(), 0), count = dims;
    start[0] = first;
    count[0] = rows;
    Id file_space(H5Dget_space(d), H5Sclose, "dataspace of " + name);
    check(H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr), "rows of " + name);
    Id mem_space(H5Screate_simple(int(count.size()), count.data(), nullptr), H5Sclose, "rows of " + name);
    v.resize(n / dims[0] * rows);
    check(H5Dread(d, H5T_NATIVE_DOUBLE, mem_space, file_space, H5P_DEFAULT, v.data()), "read " + name);
}

std::vector<double> read_array(hid_t loc, const std::string& name, std::vector<hsize_t>& dims) {
    dims = dataset_dims(loc, name);
    long double n = 1;
    for (hsize_t x : dims) n *= (long double)x;
    if (8 * n > (long double)host_available_bytes() / 2)
        throw Error(name + ": declares " + std::to_string((double)n) + " values, more than this machine can hold",
                    exit_code::io);
    return read_array(loc, name, dims, name);
}

void create_filled(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims, hid_t file_type, double fill) {
    Id space(H5Screate_simple(int(dims.size()), dims.data(), nullptr), H5Sclose, "dataspace for " + name);
    Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "property list");
    check(H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY), "allocation time of " + name);
    check(H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC), "fill time of " + name);
    check(H5Pset_fill_value(dcpl, H5T_NATIVE_DOUBLE, &fill), "fill value of " + name);
    Id d(H5Dcreate2(loc, name.c_str(), file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), H5Dclose,
         "create dataset " + name);
    dataset_created(d);
}

void overwrite(hid_t loc, const std::string& name, hid_t mem_type, const void* data) {
    Id d = open_dataset(loc, name);
    check(H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "write " + name);
}

void create_table(hid_t loc, const std::string& name, hsize_t cols) {
    const int rank = cols == 1 ? 1 : 2;
    hsize_t dims[2] = {0, cols}, maxd[2] = {H5S_UNLIMITED, cols}, chunk[2] = {1024, cols};
    Id space(H5Screate_simple(rank, dims, maxd), H5Sclose, "dataspace for " + name);
    Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "property list");
    check(H5Pset_chunk(dcpl, rank, chunk), "chunk " + name);
    Id d(H5Dcreate2(loc, name.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), H5Dclose,
         "create dataset " + name);
    dataset_created(d);
}

hsize_t table_rows(hid_t loc, const std::string& name) {
    Id d = open_dataset(loc, name);
    Id space(H5Dget_space(d), H5Sclose, "dataspace of " + name);
    hsize_t dims[2] = {0, 0};
    H5Sget_simple_extent_dims(space, dims, nullptr);
    return dims[0];
}

void append_row(hid_t loc, const std::string& name, const double* row, hsize_t cols) {
    append_rows(loc, name, row, 1, cols);
}

void append_rows(hid_t loc, const std::string& name, const double* rows, hsize_t n, hsize_t cols) {
    if (n == 0) return;
    Id d = open_dataset(loc, name);
    Id space0(H5Dget_space(d), H5Sclose, "dataspace of " + name);
    const int rank = H5Sget_simple_extent_ndims(space0);
    hsize_t dims[2] = {0, 0};
    H5Sget_simple_extent_dims(space0, dims, nullptr);
    hsize_t grown[2] = {dims[0] + n, cols};
    check(H5Dset_extent(d, grown), "extend " + name);
    Id space(H5Dget_space(d), H5Sclose, "dataspace of " + name);
    hsize_t start[2] = {dims[0], 0}, count[2] = {n, cols};
    check(H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr), "select " + name);
    Id mem(H5Screate_simple(rank, count, nullptr), H5Sclose, "memory space");
    check(H5Dwrite(d, H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, rows), "append to " + name);
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
}  // namespace xyzmf
