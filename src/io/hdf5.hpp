// Small RAII wrappers over the HDF5 C API, generic (nothing here knows the
// xyzmf layout: that is schema.hpp). Every HDF5 failure becomes one
// xyzmf::Error line (exit code io); HDF5's own error-stack printing is off.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

namespace xyzmf {

namespace h5 {

// Owns one hid_t and closes it with the right H5?close.
class Id {
public:
    using Closer = herr_t (*)(hid_t);
    Id() = default;
    Id(hid_t id, Closer close, const std::string& what);  // throws if id < 0
    Id(Id&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
    Id& operator=(Id&& o) noexcept;
    Id(const Id&) = delete;
    Id& operator=(const Id&) = delete;
    ~Id();
    hid_t get() const { return id_; }
    // Forgets the handle without closing it. After a failed write (disk full)
    // closing would flush metadata that points at data never written; left
    // open, the file on disk stays as its last successful flush left it.
    void abandon() { id_ = -1; }
    operator hid_t() const { return id_; }

private:
    hid_t id_ = -1;
    Closer close_ = nullptr;
};

// Turns HDF5's error-stack printing off in the calling thread (the library
// keeps one error stack per thread; main's is silenced at start-up).
void silence_errors();

// A new file at path, which must not exist (xyzmf's own files are made by
// output_file.hpp, which writes a temporary file and renames it).
// File access of a writer: without HDF5's own file lock, so that h5py, h5ls and
// ParaView can open a file while xyzmf writes it (read-only). Two writers are kept
// apart by xyzmf's own lock file (output_file.hpp) instead.
Id writer_access();
Id create_file(const std::string& path);
// An existing HDF5 file; refuses a missing path, a directory or a foreign file
// in one line. Whether it is an xyzmf file is schema.hpp's open_xyzmf().
Id open_file(const std::string& path, bool writable);
Id open_group(hid_t loc, const std::string& name);
Id create_group(hid_t loc, const std::string& name);
Id open_dataset(hid_t loc, const std::string& name);
bool exists(hid_t loc, const std::string& path);
void remove(hid_t loc, const std::string& path);

void set_attr(hid_t obj, const std::string& name, double v);
void set_attr(hid_t obj, const std::string& name, std::int64_t v);
void set_attr(hid_t obj, const std::string& name, const std::string& v);
void set_attr(hid_t obj, const std::string& name, const std::vector<std::int64_t>& v);
bool has_attr(hid_t obj, const std::string& name);
double attr_double(hid_t obj, const std::string& name);
std::int64_t attr_int(hid_t obj, const std::string& name);
std::string attr_string(hid_t obj, const std::string& name);
std::vector<std::int64_t> attr_ints(hid_t obj, const std::string& name);

// Scalar double dataset.
void write_scalar(hid_t loc, const std::string& name, double v);
double read_scalar(hid_t loc, const std::string& name);

// n-d dataset written in one go; deflate 1-9: chunked + shuffle + deflate at
// that level, 0: contiguous and uncompressed.
void write_array(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims, hid_t mem_type,
                 hid_t file_type, const void* data, int deflate);
// Called on every dataset this wrapper creates, before its data are written. The
// wrapper knows nothing of xyzmf's files: the schema installs the hook that writes
// each dataset's "unit" and "axes" (schema.cpp, dataset_units.hpp).
using DatasetHook = void (*)(hid_t dataset);
void on_dataset_created(DatasetHook hook);

// The dataset write_array creates (and the hook has described), not yet written.
// allocate_now: its storage allocated at once (contiguous unless deflated) and
// never filled, for processes that write the values into the file themselves.
Id create_array(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims, hid_t file_type, int deflate,
                bool allocate_now = false);
// The chunk shape of a chunked dataset (throws for any other layout).
std::vector<hsize_t> chunk_shape(hid_t dataset, const std::string& what);
// One chunk stored as it is, already through the dataset's filters (all of
// them: filter mask 0), its first element at `origin`.
void write_raw_chunk(hid_t dataset, const hsize_t* origin, const void* bytes, std::size_t n, const std::string& what);
// Shape and element class of a dataset (throws if it is missing).
std::vector<hsize_t> dataset_dims(hid_t loc, const std::string& name);
H5T_class_t dataset_class(hid_t loc, const std::string& name);
// Reads a numeric dataset as double after checking that its shape is `dims`
// and that its data were all written (a dataset can declare a shape it has no
// storage for): nothing is allocated for a file that lies about its size.
std::vector<double> read_array(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims,
                               const std::string& what);
// Rows [first, first + rows) of the first (slowest) axis only, after the same checks.
std::vector<double> read_rows(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims,
                              const std::string& what, hsize_t first, hsize_t rows);
// The same into `out`, whose storage is reused when it is large enough.
void read_rows(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims, const std::string& what,
               hsize_t first, hsize_t rows, std::vector<double>& out);
// Reads a numeric dataset of any shape (returned in dims), with the same
// checks, refusing one that would not fit in half the available memory.
std::vector<double> read_array(hid_t loc, const std::string& name, std::vector<hsize_t>& dims);
// Creates a dataset with its storage allocated now (so later in-place writes
// cannot run out of disk) and filled with `fill`.
void create_filled(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims, hid_t file_type, double fill);
// Overwrites a whole existing dataset in place (no new storage).
void overwrite(hid_t loc, const std::string& name, hid_t mem_type, const void* data);

// Extendible (rows x cols) double dataset, appended row by row.
void create_table(hid_t loc, const std::string& name, hsize_t cols);
void append_row(hid_t loc, const std::string& name, const double* row, hsize_t cols);
void append_rows(hid_t loc, const std::string& name, const double* rows, hsize_t n, hsize_t cols);
hsize_t table_rows(hid_t loc, const std::string& name);
void truncate_table(hid_t loc, const std::string& name, hsize_t rows);

}  // namespace h5
}  // namespace xyzmf
