// Small RAII wrappers over the HDF5 C API and the xyzmf file schema
// (docs/hdf5-layout.md). Every HDF5 failure becomes one xyzmf::Error line;
// the library's own error stack printing is switched off.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include "xyzmf/lattice.hpp"
#include "xyzmf/run_config.hpp"

namespace xyzmf {

constexpr const char* kSchemaName = "xyzmf";
constexpr int kSchemaMajor = 1;
constexpr int kSchemaMinor = 0;

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
    operator hid_t() const { return id_; }

private:
    hid_t id_ = -1;
    Closer close_ = nullptr;
};

Id create_file(const std::string& path, bool overwrite);      // refuses an existing file unless overwrite
Id open_file(const std::string& path, bool writable);          // checks it is an xyzmf file of a known major version
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
std::vector<double> read_array(hid_t loc, const std::string& name, std::vector<hsize_t>& dims);

// Extendible (rows x cols) double dataset, appended row by row.
void create_table(hid_t loc, const std::string& name, hsize_t cols);
void append_row(hid_t loc, const std::string& name, const double* row, hsize_t cols);
hsize_t table_rows(hid_t loc, const std::string& name);
void truncate_table(hid_t loc, const std::string& name, hsize_t rows);

}  // namespace h5

// Now, as ISO 8601 UTC ("2026-11-25T14:24:56Z").
std::string utc_timestamp();

// Root attributes every xyzmf file carries: schema, schema_version,
// xyzmf_version, git_revision, command_line, created, and `content`
// ("run", "analysis", "stability map", "sweep").
void write_provenance(hid_t file, const std::string& command_line, const std::string& content);

// "512x256 (2D)"
std::string lattice_text(const Lattice& lat);

// Spins dataset shape: sizes reversed plus the component axis, e.g. (Ly, Lx, 3).
std::vector<hsize_t> spin_dims(const Lattice& lat);

// A state read back from an xyzmf file: the final state if present, else the
// last snapshot. Spins are the SoA host layout (x block, y block, z block).
struct StoredState {
    Lattice lattice;
    std::vector<double> spins;
    double t = 0;
    std::int64_t step = 0;
    double dt_next = 0;
    std::int64_t timeseries_rows = 0;
    std::int64_t snapshot_index = -1;  // -1 = /final
    std::string where;                  // "/final" or "/snapshots/000003"
};
StoredState read_stored_state(const std::string& path, bool last_snapshot_only = false);
// The state in group `where` ("/final", "/snapshots/000003") of an open file.
StoredState read_state_group(hid_t file, const std::string& path, const std::string& where);
// "/snapshots/000003": the group of snapshot `index`.
std::string snapshot_group(std::int64_t index);
// Snapshot indices present in an open file, ascending.
std::vector<std::int64_t> snapshot_indices(hid_t file);

// The run configuration stored in /parameters (for --resume).
RunConfig read_run_config(const std::string& path);

}  // namespace xyzmf
