// CUDA backend: device arrays and the kernels of kernels/*.cu behind the
// Backend interface, with the semantics of the CPU twin (cpu_backend.cpp).
// Compiled by the host compiler: it sees the GPU only through the CUDA runtime
// C API and the drivers of kernels/cuda_drivers.hpp. Every call goes to the
// legacy default stream, so kernels, copies and reductions run in call order.
#include <cuda_runtime_api.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cuda_drivers.hpp"
#include "cuda_check.hpp"
#include "xyzmf/backend.hpp"
#include "xyzmf/error.hpp"

namespace xyzmf {
namespace {

using cuda_check::check;
using cuda_check::check_driver;

std::string mib(std::size_t bytes) { return std::to_string((bytes + (std::size_t(1) << 20) - 1) >> 20); }

template <class Real>
class CudaBackend final : public Backend<Real> {
public:
    CudaBackend() {
        int device = 0;
        check(cudaGetDevice(&device), "cudaGetDevice");
        cudaDeviceProp prop;
        check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
        sms_ = prop.multiProcessorCount;
        shared_max_ = std::size_t(prop.sharedMemPerBlockOptin);
        description_ = "cuda (" + std::string(prop.name) + ", sm_" + std::to_string(prop.major) +
                       std::to_string(prop.minor) + ", device " + std::to_string(device) + ")";
        // Allocated once: the per-step error norm must not pay for cudaMalloc.
        check(cudaMalloc(&scratch_, cuda::reduce_scratch_bytes()), "cudaMalloc (reduction scratch)");
        // Non-blocking: copies on it do not wait for, or hold up, the kernels
        // on the legacy default stream.
        check(cudaStreamCreateWithFlags(&copy_stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
    }
    ~CudaBackend() override {
        cudaStreamSynchronize(copy_stream_);
        cudaStreamDestroy(copy_stream_);
        for (void* p : staging_free_) cudaFree(p);
        cudaFree(scratch_);
        cudaFree(copies_);
        cudaGetLastError();
    }
    CudaBackend(const CudaBackend&) = delete;
    CudaBackend& operator=(const CudaBackend&) = delete;

    BackendKind kind() const override { return BackendKind::cuda; }
    std::string description() const override { return description_; }

    Real* allocate(std::size_t count) override {
        const std::size_t bytes = count * sizeof(Real);
        void* p = nullptr;
        const cudaError_t err = cudaMalloc(&p, bytes);
        if (err != cudaSuccess) {
            cudaGetLastError();
            throw Error("cannot allocate " + mib(bytes) + " MiB on the GPU: " + cudaGetErrorString(err));
        }
        // Zeroed, as the CPU backend's buffers are.
        const cudaError_t zero = cudaMemset(p, 0, bytes);
        if (zero != cudaSuccess) {
            cudaFree(p);
            check(zero, "cudaMemset (allocate)");
        }
        return static_cast<Real*>(p);
    }
    // Called from StateBuffer's destructor, so it must not throw; a sticky
    // error hidden here is reported by the next checked call.
    void release(Real* p) override {
        if (!p) return;
        cudaFree(p);
        cudaGetLastError();
    }
    Real* allocate_host(std::size_t count) override {
        void* p = nullptr;
        const cudaError_t err = cudaMallocHost(&p, count * sizeof(Real));
        if (err != cudaSuccess) {
            cudaGetLastError();
            throw Error("cannot allocate " + mib(count * sizeof(Real)) + " MiB of page-locked host memory: " +
                        cudaGetErrorString(err));
        }
        return static_cast<Real*>(p);
    }
    void release_host(Real* p) override {
        if (p) cudaFreeHost(p);
        cudaGetLastError();
    }

    // The state is copied on the device into a staging buffer (ordered after
    // the kernels that wrote it, microseconds), then to the host on the copy
    // stream while the next steps run. Without room for a staging buffer the
    // copy is made at once.
    std::function<void()> start_download(Real* host, const Real* src, const Lattice& lat) override {
        const index_t N = lat.sites(), S = lat.component_stride();
        const std::size_t padded = 3 * std::size_t(S) * sizeof(Real);
        Real* staging = static_cast<Real*>(take_staging(padded));
        if (!staging) {
            for (int c = 0; c < 3; ++c) download(host + c * N, src + c * S, std::size_t(N));
            return [] {};
        }
        auto pending = std::make_shared<PendingDownload>(this, staging, padded);
        check(cudaMemcpyAsync(staging, src, padded, cudaMemcpyDeviceToDevice, 0), "cudaMemcpyAsync (snapshot staging)");
        cudaEvent_t staged = nullptr;
        check(cudaEventCreateWithFlags(&staged, cudaEventDisableTiming), "cudaEventCreate");
        check(cudaEventRecord(staged, 0), "cudaEventRecord");
        check(cudaStreamWaitEvent(copy_stream_, staged, 0), "cudaStreamWaitEvent");
        cudaEventDestroy(staged);  // released once the stream has passed it
        for (int c = 0; c < 3; ++c)
            check(cudaMemcpyAsync(host + c * N, staging + c * S, std::size_t(N) * sizeof(Real), cudaMemcpyDeviceToHost,
                                  copy_stream_),
                  "cudaMemcpyAsync (snapshot download)");
        check(cudaEventCreateWithFlags(&pending->done, cudaEventDisableTiming), "cudaEventCreate");
        check(cudaEventRecord(pending->done, copy_stream_), "cudaEventRecord");
        return [pending] { pending->wait(); };
    }

    void upload(Real* dst, const Real* host_src, std::size_t count) override {
        if (count == 0) return;
        check(cudaMemcpy(dst, host_src, count * sizeof(Real), cudaMemcpyHostToDevice), "cudaMemcpy (upload)");
    }
    void download(Real* host_dst, const Real* src, std::size_t count) override {
        if (count == 0) return;
        check(cudaMemcpy(host_dst, src, count * sizeof(Real), cudaMemcpyDeviceToHost), "cudaMemcpy (download)");
    }
    void copy(Real* dst, const Real* src, std::size_t count) override {
        if (dst == src || count == 0) return;
        check(cudaMemcpy(dst, src, count * sizeof(Real), cudaMemcpyDeviceToDevice), "cudaMemcpy (copy)");
    }

    void stage(const StageArgs<Real>& args) override {
        cuda::launch_stage(args);
        check_driver("stage");
    }
    // Two schemes. tiles (fused_rk4.hpp) is the default, measured on an H100
    // (results/bench/gpu.md). stream (stream_rk4.hpp) is built to run at the
    // memory roof but has not yet run on a GPU: it is chosen only when asked
    // for (bench --scheme stream, the tests) until tools/gpu-stream-tune.sh has
    // measured it. Its items: 1D one warp (rows of 32 sites); 2D one warp of x
    // (24 stored lanes) at one step per pass and four (112) at two; 3D a patch
    // of 32 x 12 lanes in double, 32 x 16 in float (registers bound the block:
    // about 170 per lane in double hold the rings). Enough items for about 32
    // warps per SM, in chunks of at least 64 rows. XYZMF_STREAM_LANES=NXxNY and
    // XYZMF_STREAM_AHEAD=1|2 (rows loaded ahead) override the defaults, for
    // measuring others (tools/gpu-stream-tune.sh).
    FusedPlan fused_plan(const Lattice& lat, int steps, FusedScheme scheme) const override {
        if (scheme != FusedScheme::stream) return tiles_plan(lat, steps);
        FusedPlan p;
        p.scheme = FusedScheme::stream;
        p.dim = lat.dim;
        const int max_lanes = cuda::stream_max_threads(lat.dim, sizeof(Real));
        for (int m = std::min(steps, kMaxStreamSteps); m >= 1; --m) {
            auto [nx, ny] = stream_lanes(lat.dim, m, sizeof(Real));
            lanes_override(lat.dim, nx, ny);
            if (nx * ny > max_lanes || nx % 32 != 0) continue;
            const index_t min_items = std::max<index_t>(1, 32 * 32 * index_t(sms_) / (nx * ny));
            p.stream = make_stream_plan(lat, m, nx, ny, min_items, 64);
            if (p.stream.steps == 0) continue;
            if (const char* a = std::getenv("XYZMF_STREAM_AHEAD")) p.stream.ahead = std::atoi(a) == 1 ? 1 : 2;
            if (cuda::stream_shared_bytes(p.stream, sizeof(Real)) > shared_max_) continue;
            p.steps = p.stream.steps;
            return p;
        }
        p.steps = 0;
        return p;
    }
    // Measured on an H100 (results/bench/gpu.md, 4096^2 and 256^3, double and
    // float), tiles: in 2D one step per pass beats four sweeps (1.13x-1.28x)
    // and two steps per pass lose (the wider halo costs more than the traffic
    // saved); in 3D four sweeps run 1.8x faster than the tiled kernel (8 x 8
    // tiles, a quarter of the loaded points stored).
    int fused_steps_per_pass(const Lattice& lat) const override { return lat.dim == 3 ? 0 : 1; }
    void rk4_fused(const FusedArgs<Real>& args) override {
        if (args.plan.scheme == FusedScheme::stream)
            cuda::launch_stream(args);
        else
            cuda::launch_fused(args);
        check_driver("fused rk4");
    }

    void combine(const CombineArgs<Real>& args, index_t count) override {
        cuda::launch_combine(args, count);
        check_driver("combine");
    }
    void dissipate(const DissipateArgs<Real>& args) override {
        cuda::launch_dissipate(args);
        check_driver("dissipate");
    }
    double error_norm(const ErrorArgs<Real>& args, index_t count) override {
        const double norm = cuda::reduce_error_norm(args, count, scratch_);
        check_driver("error norm");
        return norm;
    }
    using Backend<Real>::observe;  // (the whole lattice)
    Observables observe(const Real* s, const Real* dsdt, const Lattice& lat, index_t first, index_t last) override {
        const Observables o = cuda::reduce_observables(s, dsdt, lat, first, last, scratch_);
        check_driver("observables");
        return o;
    }
    std::vector<Observables> observe_copies(const Real* s, const Real* dsdt, const Lattice& lat) override {
        std::vector<Observables> out(std::size_t(lat.copies));
        const std::size_t bytes = out.size() * sizeof(Observables);
        if (bytes > copies_bytes_) {  // grown, never shrunk: sweeps ask every 1/gamma
            cudaFree(copies_);
            copies_ = nullptr;
            copies_bytes_ = 0;
            check(cudaMalloc(&copies_, bytes), "cudaMalloc (per-copy observables)");
            copies_bytes_ = bytes;
        }
        cuda::reduce_observables_per_copy(s, dsdt, lat, static_cast<Observables*>(copies_));
        check_driver("per-copy observables");
        check(cudaMemcpy(out.data(), copies_, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy (per-copy observables)");
        return out;
    }

private:
    // The tiled scheme (fused_rk4.hpp), kept for comparison: tiles of 128
    // local points (2D: rows of 120 + halo) or 16 x 16 (3D: 8 x 8 + halo), so a
    // block's rings fit the shared memory of one SM; passes of several steps
    // need wider halos, and where their rings would not fit fewer steps are
    // planned (none: plan.steps = 0, the four-sweep path).
    FusedPlan tiles_plan(const Lattice& lat, int steps) const {
        for (int m = steps; m >= 1; --m) {
            const int H = 4 * m;
            const int tx = lat.dim == 3 ? 8 : std::max(32, 128 - 2 * H);
            const FusedPlan p = make_fused_plan(lat, m, tx, 8, 4 * index_t(sms_), 8 * H);
            if (cuda::fused_shared_bytes(p, sizeof(Real)) <= shared_max_) return p;
        }
        FusedPlan none;
        none.steps = 0;
        return none;
    }
    // XYZMF_STREAM_LANES=NXxNY: the cross-section of a streaming item, for
    // measuring others than the default: NX in 2D only (a 1D row is one warp,
    // and in 3D x is the lane and y the warp: stream_kernels.cu exchanges
    // neighbours by those), NY only in 3D.
    static void lanes_override(int dim, int& nx, int& ny) {
        const char* env = std::getenv("XYZMF_STREAM_LANES");
        if (!env || !*env) return;
        int x = 0, y = 0;
        const int got = std::sscanf(env, "%dx%d", &x, &y);
        if (dim == 2 && got >= 1 && x > 0) nx = x;
        if (dim == 3 && got == 2 && y > 0) ny = y;
    }

    // A snapshot on its way out: waits for its copy and returns the staging
    // buffer when done with, also if nobody waited (a failed writer).
    struct PendingDownload {
        CudaBackend* be;
        void* staging;
        std::size_t bytes;
        cudaEvent_t done = nullptr;
        PendingDownload(CudaBackend* b, void* s, std::size_t n) : be(b), staging(s), bytes(n) {}
        void wait() {
            if (!done) return;
            const cudaError_t err = cudaEventSynchronize(done);
            cudaEventDestroy(done);
            done = nullptr;
            check(err, "cudaEventSynchronize (snapshot download)");
        }
        ~PendingDownload() {
            if (done) {
                cudaEventSynchronize(done);
                cudaEventDestroy(done);
            }
            cudaGetLastError();
            be->give_staging(staging, bytes);
        }
    };
    // Staging buffers are kept for reuse (one cudaMalloc per snapshot would
    // synchronise the device). Called from the time loop and the writer thread.
    void* take_staging(std::size_t bytes) {
        {
            std::lock_guard<std::mutex> lock(staging_mutex_);
            if (bytes == staging_bytes_ && !staging_free_.empty()) {
                void* p = staging_free_.back();
                staging_free_.pop_back();
                return p;
            }
        }
        void* p = nullptr;
        if (cudaMalloc(&p, bytes) != cudaSuccess) {
            cudaGetLastError();
            return nullptr;
        }
        return p;
    }
    void give_staging(void* p, std::size_t bytes) {
        std::lock_guard<std::mutex> lock(staging_mutex_);
        if (bytes != staging_bytes_) {
            for (void* q : staging_free_) cudaFree(q);
            staging_free_.clear();
            staging_bytes_ = bytes;
        }
        staging_free_.push_back(p);
    }

    std::string description_;
    void* scratch_ = nullptr;
    void* copies_ = nullptr;  // per-copy observables (observe_copies)
    std::size_t copies_bytes_ = 0;
    cudaStream_t copy_stream_ = nullptr;
    std::mutex staging_mutex_;
    std::vector<void*> staging_free_;
    std::size_t staging_bytes_ = 0;
    int sms_ = 1;
    std::size_t shared_max_ = 48 << 10;
};

}  // namespace

template <class Real>
std::unique_ptr<Backend<Real>> make_cuda_backend() {
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        cudaGetLastError();
        throw Error(std::string("no CUDA device available: ") + cudaGetErrorString(err));
    }
    if (count == 0) throw Error("no CUDA device available: cudaGetDeviceCount found none");
    return std::make_unique<CudaBackend<Real>>();
}
template std::unique_ptr<Backend<float>> make_cuda_backend<float>();
template std::unique_ptr<Backend<double>> make_cuda_backend<double>();

int cuda_device_count() {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) {  // no driver, no device: not an error here
        cudaGetLastError();
        return 0;
    }
    return count;
}

void cuda_select_device(int index) {
    const int count = cuda_device_count();
    if (count == 0) return;
    const cudaError_t e = cudaSetDevice(index % count);
    if (e != cudaSuccess) {
        cudaGetLastError();
        throw Error("cudaSetDevice(" + std::to_string(index % count) + "): " + cudaGetErrorString(e), exit_code::usage);
    }
}

namespace {
int device_before_option = -1;  // the device before --device chose one; -1: none chosen
}

void use_cuda_device(int index) {
    int before = 0;
    if (device_before_option < 0 && cudaGetDevice(&before) == cudaSuccess) device_before_option = before;
    const cudaError_t e = cudaSetDevice(index);
    if (e != cudaSuccess) {
        cudaGetLastError();
        throw Error("--device " + std::to_string(index) + ": " + cudaGetErrorString(e), exit_code::usage);
    }
}

void restore_cuda_device() {
    if (device_before_option < 0) return;
    cudaSetDevice(device_before_option);
    cudaGetLastError();
    device_before_option = -1;
}

std::string cuda_device_name() {
    if (cuda_device_count() == 0) return "";
    int device = 0;
    cudaDeviceProp prop;
    if (cudaGetDevice(&device) != cudaSuccess || cudaGetDeviceProperties(&prop, device) != cudaSuccess) {
        cudaGetLastError();
        return "";
    }
    return prop.name;
}

std::size_t cuda_free_memory_bytes() {
    if (cuda_device_count() == 0) return 0;
    std::size_t free_bytes = 0, total_bytes = 0;
    if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) {
        cudaGetLastError();
        return 0;
    }
    return free_bytes;
}

}  // namespace xyzmf
