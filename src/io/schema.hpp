// The xyzmf file layout (docs/hdf5-layout.md) on top of the generic HDF5
// wrapper: provenance, the parameter tables (parameters.hpp) written and read
// as attributes with every value checked, stored states with their shapes
// checked before anything is allocated, and the commit marks that say a
// snapshot or a sweep batch is complete.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hdf5.hpp"
#include "xyzmf/lattice.hpp"
#include "parameters.hpp"
#include "run_config.hpp"

namespace xyzmf {

constexpr const char* kSchemaName = "xyzmf";
constexpr int kSchemaMajor = 1;
constexpr int kSchemaMinor = 1;  // 1.1: commit marks, sweep blow-up code, /sweep/batch

// An existing xyzmf file of a readable major version; refuses anything else
// (missing, directory, foreign HDF5, other schema) with one line, exit 3.
h5::Id open_xyzmf(const std::string& path, bool writable);

// One parameter as an attribute of group g, and back: the attribute must have
// the parameter's kind and shape, and its value must pass check_value.
void write_param(hid_t g, const ParamSpec& p, const ParamValue& v);
std::optional<ParamValue> read_param(hid_t g, const ParamSpec& p, const ParamSource& src);

// The units of g's numeric parameters as g's attribute "parameter_units", a
// JSON object: {"Jx": "gamma", "t_end": "1/gamma", "sizes": "sites", ...}.
void write_param_units(hid_t g, const std::vector<ParamSpec>& specs);

template <class Config>
void write_params(hid_t g, const ParamTable<Config>& table, const Config& c) {
    std::vector<ParamSpec> specs;
    for (const Param<Config>& p : table) write_param(g, p.spec, p.get(c)), specs.push_back(p.spec);
    write_param_units(g, specs);
}
// Missing optional parameters keep c's value (files written before they existed).
template <class Config>
void read_params(hid_t g, const ParamTable<Config>& table, Config& c, const ParamSource& src) {
    for (const Param<Config>& p : table)
        if (std::optional<ParamValue> v = read_param(g, p.spec, src)) p.set(c, *v);
}

// A group is complete once its "complete" attribute (the commit mark, written
// after everything else and flushed) is there. Files of schema 1.0 have no
// marks: their groups count as complete when their datasets are all present.
void mark_complete(hid_t group);
bool is_complete(hid_t file, const std::string& group);


// Now, as ISO 8601 UTC ("2026-11-25T14:24:56Z").
std::string utc_timestamp();
// Adds a line "TIME COMMAND" to the root attribute resumed_by (a resumed or
// continued file's history: run, sweep, quantum and dtwa files alike).
void record_resume(hid_t file, const std::string& command_line);

// Whether obj has a scalar string attribute `name`.
bool attr_is_string(hid_t obj, const std::string& name);
// Root attributes every xyzmf file carries: schema, schema_version,
// xyzmf_version, git_revision, command_line, created, and `content`
// ("run", "analysis", "stability map", "sweep").
void write_provenance(hid_t file, const std::string& command_line, const std::string& content);
// For a file `analyze --out` wrote (analysis, no spins): "it is an analysis that `analyze
// --out` wrote (no spins); give the run file it analysed", for a message; else "".
std::string why_no_states(hid_t file);
// The root attribute `backend` of a sweep, quantum or dtwa file: what computed it
// (e.g. "cpu (OpenMP, 2 threads)"), the latest session's where a resume used another.
void record_backend(hid_t file, const std::string& description);

// Spins dataset shape: sizes reversed plus the component axis, e.g. (Ly, Lx, 3).
std::vector<hsize_t> spin_dims(const Lattice& lat);
// The file's interleaved (..., 3) spins <-> the host's SoA blocks x | y | z of N sites.
std::vector<double> to_soa(const std::vector<double>& aos, index_t N);
void to_soa(const std::vector<double>& aos, index_t N, std::vector<double>& soa);  // (soa's storage reused)
std::vector<double> to_aos(const std::vector<double>& soa, index_t N);

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
// Only complete snapshots count; spins must be finite with |s| <= 1 + the
// file's norm_tol, or the refusal says which site is bad.
// with_spins false: everything checked and read but the spins (left empty), for
// processes that read their own sites (read_state_sites).
StoredState read_stored_state(const std::string& path, bool last_snapshot_only = false, bool with_spins = true);
// The state in group `where` ("/final", "/snapshots/000003") of an open file.
StoredState read_state_group(hid_t file, const std::string& path, const std::string& where, bool with_spins = true);
// The same into `st`, whose spins' storage and `scratch` (the file's interleaved
// values) are reused: a series of large states (analyze --all-snapshots) pays for
// its buffers once, not a page fault and the zeroing of every page per state.
void read_state_group(hid_t file, const std::string& path, const std::string& where, StoredState& st,
                      std::vector<double>& scratch, bool with_spins = true);
// Sites [first, first + count) of that state's spins (whole rows of the slowest
// axis), x, y, z blocks of count values, checked as read_state_group checks them.
std::vector<double> read_state_sites(const std::string& path, const std::string& where, index_t first, index_t count);
// "/snapshots/000003": the group of snapshot `index`.
std::string snapshot_group(std::int64_t index);
// Indices of the complete snapshots of an open file, ascending.
std::vector<std::int64_t> snapshot_indices(hid_t file);

// /parameters of a run: written from the table, and read back with every
// value and the rules across values checked (validate(cfg, FILE)).
void write_run_parameters(hid_t file, const RunConfig& cfg, const std::string& backend_used);
RunConfig read_run_config(const std::string& path);
RunConfig read_run_config(hid_t file, const std::string& path);

}  // namespace xyzmf
