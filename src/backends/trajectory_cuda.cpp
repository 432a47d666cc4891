// The trajectory backend on a CUDA device: the batch's four state buffers in
// device memory and the kernels of kernels/quantum_kernels.cu. Only the small
// per-trajectory arrays (steps, flags, norms, populations, correlations) cross
// the bus; the state vectors stay on the device.
#include <cuda_runtime_api.h>

#include <string>
#include <utility>

#include "quantum_drivers.hpp"
#include "cuda_check.hpp"
#include "xyzmf/error.hpp"
#include "xyzmf/trajectory_backend.hpp"

namespace xyzmf {
namespace {

using cuda_check::check;
using cuda_check::check_driver;

template <class T>
T* device_alloc(std::size_t count, const char* what) {
    void* p = nullptr;
    check(cudaMalloc(&p, count * sizeof(T)), what);
    // Zeroed, as the CPU backend's vectors are: the first round's norms read
    // the slots of inactive trajectories too.
    check(cudaMemset(p, 0, count * sizeof(T)), what);
    return static_cast<T*>(p);
}

class CudaTrajectories final : public TrajectoryBackend {
public:
    CudaTrajectories(const SpinModel& m, const std::vector<int>& partners, int batch)
        : m_(m), B_(batch), N_(m.spins) {
        int device = 0;
        check(cudaGetDevice(&device), "cudaGetDevice");
        cudaDeviceProp prop;
        check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
        description_ = "cuda (" + std::string(prop.name) + ", sm_" + std::to_string(prop.major) +
                       std::to_string(prop.minor) + ")";
        const std::size_t n = std::size_t(B_) * m.dimension();
        try {
            psi_ = device_alloc<Amp>(n, "cudaMalloc (trajectory states)");
            out_ = device_alloc<Amp>(n, "cudaMalloc (trajectory states)");
            ta_ = device_alloc<Amp>(n, "cudaMalloc (trajectory states)");
            tb_ = device_alloc<Amp>(n, "cudaMalloc (trajectory states)");
            scratch_ = device_alloc<double>(cuda::trajectory_scratch_doubles(m, B_), "cudaMalloc (scratch)");
            result_ = device_alloc<double>(std::size_t(B_) * 3 * N_, "cudaMalloc (results)");
            h_ = device_alloc<double>(std::size_t(B_), "cudaMalloc");
            scale_ = device_alloc<double>(std::size_t(B_), "cudaMalloc");
            flags_ = device_alloc<int>(std::size_t(B_), "cudaMalloc");
            partners_ = device_alloc<int>(partners.size(), "cudaMalloc");
            check(cudaMemcpy(partners_, partners.data(), partners.size() * sizeof(int), cudaMemcpyHostToDevice),
                  "cudaMemcpy (partners)");
        } catch (...) {
            release();
            throw;
        }
    }
    ~CudaTrajectories() override { release(); }

    std::string description() const override { return description_; }
    int batch() const override { return B_; }

    void load(const std::vector<Amp>& states) override {
        check(cudaMemcpy(psi_, states.data(), states.size() * sizeof(Amp), cudaMemcpyHostToDevice),
              "cudaMemcpy (initial states)");
    }
    void propagate(const std::vector<double>& h, int terms) override {
        upload(h_, h);
        cuda::launch_series_first(m_, psi_, ta_, out_, h_, B_);
        Amp* cur = ta_;
        Amp* next = tb_;
        for (int k = 2; k <= terms; ++k) {
            cuda::launch_series_next(m_, cur, next, out_, h_, k, k == terms, B_);
            std::swap(cur, next);
        }
        if (terms < 2) cuda::launch_scale_out(m_, out_, h_, B_);
        check_driver("propagate");
    }
    void out_norms(std::vector<double>& n) override {
        cuda::reduce_norms(m_, out_, B_, scratch_, result_);
        download(n, std::size_t(B_), "norms");
    }
    void accept(const std::vector<int>& take) override {
        upload(flags_, take);
        cuda::launch_accept(m_, psi_, out_, flags_, B_);
        check_driver("accept");
    }
    void populations(const std::vector<int>&, std::vector<double>& p) override {  // all of them: one launch
        cuda::reduce_populations(m_, psi_, B_, scratch_, result_);
        download(p, std::size_t(B_) * N_, "populations");
    }
    void jump(const std::vector<int>& channel, const std::vector<double>& scale) override {
        upload(flags_, channel);
        upload(scale_, scale);
        cuda::launch_jump(m_, psi_, flags_, scale_, B_);
        check_driver("jump");
    }
    void correlations(const std::vector<int>& want, std::vector<double>& c) override {
        upload(flags_, want);
        cuda::reduce_correlations(m_, psi_, flags_, partners_, B_, scratch_, result_);
        download(c, std::size_t(B_) * 3 * N_, "correlations");
    }

private:
    template <class T>
    void upload(T* dst, const std::vector<T>& v) {
        check(cudaMemcpy(dst, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy (to device)");
    }
    void download(std::vector<double>& v, std::size_t count, const char* what) {
        check_driver(what);
        v.resize(count);
        check(cudaMemcpy(v.data(), result_, count * sizeof(double), cudaMemcpyDeviceToHost), "cudaMemcpy (results)");
    }
    void release() {
        for (void* p : {(void*)psi_, (void*)out_, (void*)ta_, (void*)tb_, (void*)scratch_, (void*)result_,
                        (void*)h_, (void*)scale_, (void*)flags_, (void*)partners_})
            if (p) cudaFree(p);
        cudaGetLastError();
    }

    SpinModel m_;
    int B_, N_;
    std::string description_;
    Amp *psi_ = nullptr, *out_ = nullptr, *ta_ = nullptr, *tb_ = nullptr;
    double *scratch_ = nullptr, *result_ = nullptr, *h_ = nullptr, *scale_ = nullptr;
    int *flags_ = nullptr, *partners_ = nullptr;
};

}  // namespace

std::unique_ptr<TrajectoryBackend> make_cuda_trajectories(const SpinModel& m, const std::vector<int>& partners,
                                                         int batch) {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
        cudaGetLastError();
        throw Error("--backend cuda: no CUDA device is available on this machine");
    }
    return std::make_unique<CudaTrajectories>(m, partners, batch);
}

}  // namespace xyzmf
