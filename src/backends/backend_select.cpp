// Backend choice and the pre-allocation memory check (backend_select.hpp).
#include "backend_select.hpp"

#include "xyzmf/error.hpp"
#include "xyzmf/lattice.hpp"
#include "memory_info.hpp"

namespace xyzmf {

BackendKind choose_backend(BackendRequest request) {
    if (request == BackendRequest::cpu) return BackendKind::cpu;
    const bool have_gpu = cuda_device_count() > 0;
    if (request == BackendRequest::cuda && !have_gpu)
        throw Error("--backend cuda: no CUDA device is available (use --backend cpu or auto)", exit_code::usage);
    return have_gpu ? BackendKind::cuda : BackendKind::cpu;
}

template <class Real>
std::unique_ptr<Backend<Real>> make_backend(BackendKind kind) {
    return kind == BackendKind::cuda ? make_cuda_backend<Real>() : make_cpu_backend<Real>();
}
template std::unique_ptr<Backend<float>> make_backend<float>(BackendKind);
template std::unique_ptr<Backend<double>> make_backend<double>(BackendKind);

void check_run_memory(const RunConfig& cfg, BackendKind kind, int buffers, int code) {
    const long double sites = (long double)cfg.lattice.sites();
    const long double real = cfg.precision == Precision::float32 ? 4 : 8;
    const long double state = 3 * sites * real;
    // Host: the initial state in double, a download copy and an interleaved
    // copy for HDF5, plus every buffer when the CPU backend holds them.
    long double host = 3 * sites * 8 + 2 * state + (kind == BackendKind::cpu ? buffers * state : 0);
    const std::string size = lattice_text(cfg.lattice);
    const long double cap = 1.8e19L;  // beyond size_t: certainly impossible
    check_memory(std::size_t(std::min(host, cap)), host_available_bytes(), "host", size, code);
    if (kind == BackendKind::cuda)
        check_memory(std::size_t(std::min(buffers * state, cap)), cuda_free_memory_bytes(), "GPU", size, code);
}

}  // namespace xyzmf
