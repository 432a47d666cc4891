// The Backend interface: where the state lives and how the per-site kernels of
// include/xyzmf/stage_ops.hpp are launched over it. Two implementations, chosen at
// run time: CpuBackend (OpenMP loops) and CudaBackend (device arrays, kernels).
// Buffers are explicit; the host sees the state only through download().
#pragma once

#include <cstddef>
#include <memory>
#include <functional>
#include <string>
#include <vector>

#include "xyzmf/dtwa_site.hpp"
#include "xyzmf/lattice.hpp"
#include "xyzmf/fused_rk4.hpp"
#include "xyzmf/stage_ops.hpp"

namespace xyzmf {

enum class BackendKind { cpu, cuda };

template <class Real>
class Backend {
public:
    virtual ~Backend() = default;
    virtual BackendKind kind() const = 0;
    virtual std::string description() const = 0;  // e.g. "cpu (OpenMP, 2 threads)"

    virtual Real* allocate(std::size_t count) = 0;
    virtual void release(Real* p) = 0;
    virtual void upload(Real* dst, const Real* host_src, std::size_t count) = 0;
    virtual void download(Real* host_dst, const Real* src, std::size_t count) = 0;
    virtual void copy(Real* dst, const Real* src, std::size_t count) = 0;

    // One fused RK stage over every site (see StageArgs).
    virtual void stage(const StageArgs<Real>& args) = 0;
    // How this backend cuts `lat` into work items for `steps` fused RK4 steps
    // per pass (tile sizes suit its caches or shared memory), in the given
    // scheme or (best) its measured choice. The plan may fuse fewer steps than
    // asked (plan.steps), or none (0) where it cannot fuse at all.
    virtual FusedPlan fused_plan(const Lattice& lat, int steps, FusedScheme scheme) const = 0;
    // Steps per fused pass this backend runs best on `lat` (measured; see
    // fused_plan); 0 where the four-sweep path is faster.
    virtual int fused_steps_per_pass(const Lattice& lat) const = 0;
    // One fused pass: args.plan.steps whole RK4 steps, y -> out (see include/xyzmf/fused_rk4.hpp).
    virtual void rk4_fused(const FusedArgs<Real>& args) = 0;
    // out = y + sum_s c_s k_s over all 3N elements.
    virtual void combine(const CombineArgs<Real>& args, index_t count) = 0;
    // max over elements of the scaled embedded error.
    virtual double error_norm(const ErrorArgs<Real>& args, index_t count) = 0;
    // The dissipation of a batch of DTWA trajectories over one half step, in
    // place (dtwa_site.hpp; docs/physics.md 8).
    virtual void dissipate(const DissipateArgs<Real>& args) = 0;
    // Sums and maxima of a state and its time derivative (see Observables)
    // over sites [first, last) of lat (one process's own rows of a lattice
    // spread over several, src/core/domain.hpp), or over all of them.
    virtual Observables observe(const Real* s, const Real* dsdt, const Lattice& lat, index_t first, index_t last) = 0;
    Observables observe(const Real* s, const Real* dsdt, const Lattice& lat) { return observe(s, dsdt, lat, 0, lat.sites()); }
    // The same for each copy of a batch (lat.copies of them, in order), in
    // one pass: a sweep stops, and refills, each lattice on its own.
    virtual std::vector<Observables> observe_copies(const Real* s, const Real* dsdt, const Lattice& lat) = 0;

    // Host memory for snapshots: page-locked on CUDA, so copies to it can
    // run alongside kernels.
    virtual Real* allocate_host(std::size_t count) = 0;
    virtual void release_host(Real* p) = 0;
    // Starts copying the state src (padded blocks) into host (3N values, x, y,
    // z blocks unpadded) for a snapshot; src may be overwritten as soon as this
    // returns. The CPU copies at once; CUDA snapshots src on the device and
    // copies it out on a second stream while the next steps run. Call the
    // returned function (from any thread) to wait for host to be filled.
    virtual std::function<void()> start_download(Real* host, const Real* src, const Lattice& lat) = 0;
};

// A state-sized buffer owned by a backend (RAII: released with the backend's own
// deallocator): the x block, then y, then z, each lat.component_stride() apart.
template <class Real>
class StateBuffer {
public:
    StateBuffer() = default;
    StateBuffer(Backend<Real>& be, const Lattice& lat) : be_(&be), count_(3 * std::size_t(lat.component_stride())) {
        p_ = be.allocate(count_);
    }
    // Any other array on the backend (e.g. per-copy couplings of a batch).
    StateBuffer(Backend<Real>& be, std::size_t count) : be_(&be), count_(count) { p_ = be.allocate(count_); }
    StateBuffer(StateBuffer&& o) noexcept { swap(o); }
    StateBuffer& operator=(StateBuffer&& o) noexcept { swap(o); return *this; }
    StateBuffer(const StateBuffer&) = delete;
    StateBuffer& operator=(const StateBuffer&) = delete;
    ~StateBuffer() { if (p_) be_->release(p_); }

    Real* data() const { return p_; }
    std::size_t count() const { return count_; }
    void swap(StateBuffer& o) noexcept {
        std::swap(be_, o.be_); std::swap(p_, o.p_); std::swap(count_, o.count_);
    }

private:
    Backend<Real>* be_ = nullptr;
    Real* p_ = nullptr;
    std::size_t count_ = 0;
};

// Host state (3N contiguous: x, y, z blocks) <-> padded backend buffer.
template <class Real>
void upload_state(Backend<Real>& be, const StateBuffer<Real>& dst, const Real* host, const Lattice& lat) {
    const index_t N = lat.sites(), S = lat.component_stride();
    for (int c = 0; c < 3; ++c) be.upload(dst.data() + c * S, host + c * N, std::size_t(N));
}
template <class Real>
void download_state(Backend<Real>& be, Real* host, const StateBuffer<Real>& src, const Lattice& lat) {
    const index_t N = lat.sites(), S = lat.component_stride();
    for (int c = 0; c < 3; ++c) be.download(host + c * N, src.data() + c * S, std::size_t(N));
}

// Factories. make_cuda_backend throws xyzmf::Error when the build has no CUDA
// or no device is present; cuda_device_count() is 0 in both cases.
template <class Real> std::unique_ptr<Backend<Real>> make_cpu_backend();
template <class Real> std::unique_ptr<Backend<Real>> make_cuda_backend();
int cuda_device_count();
// The device this process's CUDA backends use from now on: index modulo the
// device count (one rank per GPU under mpirun); nothing without a device.
void cuda_select_device(int index);
// --device N: the GPU this process's CUDA backends use from now on, until
// restore_cuda_device() puts back the one used before (the Python module runs
// many commands in one process). The caller has checked 0 <= index < count.
void use_cuda_device(int index);
void restore_cuda_device();
std::string cuda_device_name();           // "" without a device
std::size_t cuda_free_memory_bytes();     // 0 without a device

}  // namespace xyzmf
