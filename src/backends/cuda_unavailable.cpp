// Stand-ins for the CUDA factories in builds without CUDA (see CMakeLists.txt):
// the binary still links, and asking for the GPU gives a clear error.
#include <complex>
#include <memory>
#include <string>

#include "xyzmf/backend.hpp"
#include "xyzmf/device_analysis.hpp"
#include "xyzmf/error.hpp"
#include "xyzmf/packed_filter.hpp"
#include "xyzmf/trajectory_backend.hpp"

namespace xyzmf {

template <class Real>
std::unique_ptr<Backend<Real>> make_cuda_backend() {
    throw Error("--backend cuda: this xyzmf was built without CUDA; use --backend cpu", exit_code::usage);
}
template std::unique_ptr<Backend<float>> make_cuda_backend<float>();
template std::unique_ptr<Backend<double>> make_cuda_backend<double>();

int cuda_device_count() { return 0; }
void cuda_select_device(int) {}
void use_cuda_device(int) {}
void restore_cuda_device() {}
std::string cuda_device_name() { return ""; }
std::size_t cuda_free_memory_bytes() { return 0; }

std::unique_ptr<TrajectoryBackend> make_cuda_trajectories(const SpinModel&, const std::vector<int>&, int) {
    throw Error("--backend cuda: this xyzmf was built without CUDA; use --backend cpu", exit_code::usage);
}

std::unique_ptr<PackedFilter<double>> make_cuda_packed_filter(const PackedRows<double>&, const ChebyshevSeries&) {
    throw Error("--backend cuda: this xyzmf was built without CUDA; use --backend cpu", exit_code::usage);
}
std::unique_ptr<PackedFilter<std::complex<double>>> make_cuda_packed_filter(const PackedRows<std::complex<double>>&,
                                                                            const ChebyshevSeries&) {
    throw Error("--backend cuda: this xyzmf was built without CUDA; use --backend cpu", exit_code::usage);
}

std::unique_ptr<DeviceAnalysis> make_device_analysis(const Lattice&, const Couplings&, double, double, bool) {
    throw Error("--analysis-backend cuda: this xyzmf was built without CUDA; use --analysis-backend cpu", exit_code::usage);
}

}  // namespace xyzmf
