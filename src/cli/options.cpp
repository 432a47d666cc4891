// Shared options (options.hpp).
#include "options.hpp"

#include <omp.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "mpi_session.hpp"
#include "xyzmf/error.hpp"
#include "xyzmf/backend.hpp"

namespace xyzmf::cli {

std::vector<CLI::Option*> add_couplings(CLI::App* sub, Couplings& c, const std::string& where) {
    const char* what[] = {"Coupling Jx", "Coupling Jy", "Coupling Jz",
                          "Decay rate to |down>; every rate and time is in the unit the files call gamma and 1/gamma, which is this rate only at its default 1 (--gamma 2 decays twice as fast on the same clock)", "Dephasing rate gamma_phi"};
    double* value[] = {&c.Jx, &c.Jy, &c.Jz, &c.gamma, &c.gamma_phi};
    std::vector<CLI::Option*> out;
    const ParamTable<Couplings>& table = couplings_parameters();
    for (std::size_t i = 0; i < table.size(); ++i) {
        const ParamSpec& p = table[i].spec;
        out.push_back(sub->add_option(p.option, *value[i], std::string(what[i]) + where + " (" +
                                                              range_text(p) + ")")
                          ->capture_default_str());
    }
    return out;
}

void explain_map_jz(const std::vector<CLI::Option*>& couplings) {
    for (CLI::Option* opt : couplings)
        if (opt->get_name() == "--Jz")
            opt->description(opt->get_description() +
                             "; default 1 (run, quantum, dtwa, gaussian: 0): the default map is the (Jx, Jy) plane at "
                             "Jz = 1, where all four orders (FM, AFM, SDW, PM) meet");
}

void refuse_axis_values(const std::vector<CLI::Option*>& couplings, const std::string& x_name, const std::string& y_name,
                        const char* what) {
    const ParamTable<Couplings>& table = couplings_parameters();
    for (std::size_t i = 0; i < table.size() && i < couplings.size(); ++i)
        for (const std::string* axis : {&x_name, &y_name})
            if (couplings[i]->count() > 0 && *axis == table[i].spec.key)
                throw Error(std::string(table[i].spec.option) + ": " + *axis + " is the " + (axis == &x_name ? "--x" : "--y") +
                                " axis of this " + what + "; leave " + table[i].spec.option + " out (of a --config file too)",
                            exit_code::usage);
}

CLI::Validator seed_text(double limit) {
    // The limit as the parameter table holds it (a double): 2^63 is int64's 2^63 - 1.
    const std::string most = limit >= 9223372036854775807.0 ? "9223372036854775807" : std::to_string(std::int64_t(limit));
    return CLI::Validator(
        [most](std::string& text) -> std::string {
            const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
            const std::string bare = digits ? text.substr(std::min(text.find_first_not_of('0'), text.size() - 1)) : text;
            if (digits && (bare.size() < most.size() || (bare.size() == most.size() && bare <= most))) return "";
            return "must be a whole number 0 to " + most + " (got '" + text + "')";
        },
        "0.." + most, "seed");
}

CLI::Option* add_backend(CLI::App* sub, std::string& backend) {
    // Set as it is parsed; run_command_line puts the caller's count back afterwards
    // (the Python module runs many commands in one process).
    sub->add_option_function<int>("--threads", [](const int& n) { omp_set_num_threads(n); },
                                  "CPU threads (OpenMP) for this command; default: OMP_NUM_THREADS, else every "
                                  "core. The files the command writes record it with the backend")
        ->check(CLI::Range(1, 4096));
    // Checked as it is parsed, so a bad index is a one-line usage error naming it.
    const CLI::Validator device_here(
        [](std::string& text) -> std::string {
            char* end = nullptr;
            errno = 0;
            const long long n = std::strtoll(text.c_str(), &end, 10);
            if (end == text.c_str() || *end != '\0' || errno == ERANGE || n < 0 || (text.size() > 1 && text[0] == '0'))
                return "expected a GPU's index, a whole number from 0 (got '" + text + "')";
            if (launched_by_mpi()) return "under mpirun each rank takes the GPU of its rank on the node; drop --device";
            const int count = cuda_device_count();
            if (count == 0) return "no CUDA device here (--backend cpu runs on the CPU)";
            if (n >= count)
                return "this machine has " + std::to_string(count) + " CUDA device" + (count > 1 ? "s" : "") +
                       ", numbered 0 to " + std::to_string(count - 1);
            return "";
        },
        "GPU", "device");
    CLI::Option* device =
        sub->add_option_function<int>("--device", [](const int& n) { use_cuda_device(n); },
                                      "GPU to run on (CUDA index, 0 = the first; as nvidia-smi numbers them unless "
                                      "CUDA_VISIBLE_DEVICES reorders); default: XYZMF_DEVICE if set and the machine has "
                                      "a GPU (not under mpirun, where each rank takes the GPU of its rank on the node). The files the command "
                                      "writes record it with the backend")
            ->check(device_here);
    // XYZMF_DEVICE, as a job script or a module exports it, is a default for the
    // GPU: a run on a machine without one ignores it, and so does an MPI run, whose
    // ranks choose (only a --device typed there is refused).
    if (!launched_by_mpi())
        sub->parse_complete_callback([device] {
            const char* env = std::getenv("XYZMF_DEVICE");
            if (device->count() > 0 || !env || !*env) return;
            const int count = cuda_device_count();
            if (count == 0) return;
            char* end = nullptr;
            const long n = std::strtol(env, &end, 10);
            if (*end != '\0' || n < 0 || n >= count)
                throw Error(std::string("XYZMF_DEVICE=") + env + ": not a GPU of this machine, which has " +
                                std::to_string(count) + " CUDA device" + (count > 1 ? "s" : "") + ", numbered 0 to " +
                                std::to_string(count - 1),
                            exit_code::usage);
            use_cuda_device(int(n));
        });
    return sub->add_option("--backend", backend, "auto (CUDA if a GPU is present), cpu or cuda")
        ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
        ->capture_default_str();
}

CLI::Option* add_precision(CLI::App* sub, std::string& precision) {
    return sub->add_option("--precision", precision, "double or float (of the state, and of the spins a file stores)")
        ->check(CLI::IsMember({"double", "float"}))
        ->capture_default_str();
}

BackendRequest backend_request(const std::string& b) {
    return b == "cpu" ? BackendRequest::cpu : b == "cuda" ? BackendRequest::cuda : BackendRequest::automatic;
}

Precision precision_of(const std::string& p) { return p == "float" ? Precision::float32 : Precision::float64; }

namespace {
// Edit distance of two short names (options are a few letters long).
std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
}
}  // namespace

// The name nearest to a mistyped one, after folding case and '_' to '-' (t_end,
// jx), within two edits; "" when none is near.
std::string nearest_name(const std::vector<std::string>& names, const std::string& typed) {
    auto fold = [](std::string w) {
        for (char& c : w) c = c == '_' ? '-' : char(std::tolower(static_cast<unsigned char>(c)));
        return w;
    };
    const std::string given = fold(typed);
    std::string best;
    std::size_t best_d = 3;
    for (const std::string& n : names) {
        const std::size_t d = fold(n) == given ? 0 : edit_distance(fold(n), given);
        if (d < best_d) best_d = d, best = n;
    }
    return best;
}

}  // namespace xyzmf::cli
