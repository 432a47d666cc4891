// The file half of --init (init_file.hpp): a state read back from an xyzmf file.
#include "init_file.hpp"

#include <cstring>

#include "xyzmf/error.hpp"
#include "initial_state.hpp"
#include "schema.hpp"

namespace xyzmf {
namespace {

[[noreturn]] void bad_init(const std::string& why) { throw Error("--init: " + why, exit_code::usage); }

}  // namespace

HostState initial_state(const std::string& spec, const Lattice& lat, std::uint64_t seed, double noise) {
    // The generated kinds first, as make_initial_state tells them apart.
    std::string file, group;
    if (is_generated_state(spec) || !init_file_spec(spec, file, group)) return make_initial_state(spec, lat, seed, noise);
    return init_file_state(spec, lat, true).spins;
}

StoredState init_file_state(const std::string& spec, const Lattice& lat, bool with_spins) {
    std::string file, group;
    if (!init_file_spec(spec, file, group)) bad_init("'" + spec + "' names no HDF5 file");
    StoredState st;
    if (group.empty()) {
        st = read_stored_state(file, false, with_spins);
    } else {
        h5::Id f = open_xyzmf(file, false);
        st = read_state_group(f, file, group, with_spins);
    }
    for (int a = 0; a < 3; ++a)
        if (st.lattice.L[a] != lat.L[a] || st.lattice.dim != lat.dim)
            bad_init(spec + " holds a " + lattice_text(st.lattice) + " state but the run is " + lattice_text(lat) +
                     " (leave out --size and --dim to take the file's)");
    return st;
}

bool init_file_spec(const std::string& spec, std::string& file, std::string& group) {
    auto ends_with = [](const std::string& a, const std::string& b) {
        return a.size() > b.size() && a.compare(a.size() - b.size(), b.size(), b) == 0;
    };
    // FILE.h5 or FILE.h5:GROUP (the last ".h5:" or ".hdf5:" splits them).
    std::size_t cut = std::string::npos;
    for (const char* ext : {".h5:", ".hdf5:"}) {
        const std::size_t at = spec.rfind(ext);
        if (at != std::string::npos && (cut == std::string::npos || at > cut)) cut = at + std::strlen(ext) - 1;
    }
    if (cut == std::string::npos) {
        if (!ends_with(spec, ".h5") && !ends_with(spec, ".hdf5")) return false;
        file = spec;
        group.clear();
        return true;
    }
    file = spec.substr(0, cut);
    const std::string g = spec.substr(cut + 1);
    if (g == "/final" || g == "final") {
        group = "/final";
        return true;
    }
    const std::string head = g.rfind("/snapshots/", 0) == 0 ? "/snapshots/" : g.rfind("snapshots/", 0) == 0 ? "snapshots/" : "";
    const std::string digits = head.empty() ? "" : g.substr(head.size());
    if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos)
        bad_init("'" + spec + "': after the file name give :/final or :/snapshots/N (N = 0, 1, ...)");
    group = snapshot_group(std::stoll(digits));
    return true;
}

Lattice init_file_lattice(const std::string& spec) {
    std::string file, group;
    if (!init_file_spec(spec, file, group)) bad_init("'" + spec + "' names no HDF5 file");
    return read_run_config(file).lattice;
}

}  // namespace xyzmf
