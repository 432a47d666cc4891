// Slabs of one lattice over MPI ranks (see slab.hpp).
#include "slab.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <string>

#include "xyzmf/error.hpp"
#include "bloch_ball.hpp"
#include "rank_order.hpp"

#if defined(OPEN_MPI) && __has_include(<mpi-ext.h>)
#include <mpi-ext.h>  // MPIX_Query_cuda_support
#endif

namespace xyzmf {

Slab make_slab(const Lattice& global, int ranks, int rank, int halo) {
    if (global.copies != 1)
        throw Error("mpi: one lattice per run (copies = " + std::to_string(global.copies) + ")", exit_code::usage);
    Slab s;
    s.axis = global.dim - 1;
    s.rows = global.L[s.axis];
    s.row_sites = 1;
    for (int a = 0; a < s.axis; ++a) s.row_sites *= global.L[a];
    const index_t base = s.rows / ranks, extra = s.rows % ranks;
    s.begin = rank * base + std::min<index_t>(rank, extra);
    s.end = s.begin + base + (rank < extra ? 1 : 0);
    s.halo = halo;
    if (base < halo) {
        const char* axis_name[] = {"x", "y", "z"};
        throw Error("mpi: " + lattice_text(global) + " over " + std::to_string(ranks) + " ranks leaves " +
                        std::to_string(base) + " " + axis_name[s.axis] + "-rows a rank, fewer than the " +
                        std::to_string(halo) + " ghost rows a pass needs; " +
                        (s.rows / halo <= 1 ? std::string("run it on one rank (without mpirun)")
                                            : "run at most " + std::to_string(s.rows / halo) + " ranks"),
                    exit_code::usage);
    }
    s.local = global;
    s.local.L[s.axis] = s.owned() + 2 * index_t(halo);
    return s;
}

namespace {
template <class Real>
MPI_Datatype mpi_type() {
    return sizeof(Real) == 8 ? MPI_DOUBLE : MPI_FLOAT;
}
}  // namespace

bool cuda_aware_mpi() {
#if defined(MPIX_CUDA_AWARE_SUPPORT) && MPIX_CUDA_AWARE_SUPPORT
    return MPIX_Query_cuda_support() == 1;  // built with CUDA support, and the library in use has it
#else
    return false;  // this MPI cannot say, or was built without: stage through host memory
#endif
}

template <class Real>
SlabDomain<Real>::SlabDomain(Backend<Real>& be, MPI_Comm comm, const Lattice& global, Rk4Stepper stepper,
                             int steps_per_pass, bool staged, IntegratorKind integrator)
    : be_(be), comm_(comm), global_(global), stepper_(stepper) {
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &ranks_);
    if (integrator == IntegratorKind::dopri5) stepper_ = Rk4Stepper::four_sweep;  // (no RK4 at all)
    // What Rk4 would choose for the whole lattice (integrators.cpp): the
    // requested steps per pass or the backend's measured choice, 0 meaning
    // four sweeps; the plan may fuse fewer. The local Rk4 gets this choice
    // explicitly, never its own for the slab's shape.
    if (stepper_ == Rk4Stepper::fused) {
        per_pass_ = std::min(steps_per_pass > 0 ? steps_per_pass : be.fused_steps_per_pass(global), kMaxFusedSteps);
        if (per_pass_ < 1) stepper_ = Rk4Stepper::four_sweep;
    }
    if (stepper_ == Rk4Stepper::fused) {
        const FusedPlan p = be.fused_plan(global, per_pass_, FusedScheme::best);
        if (p.steps >= 1) {
            per_pass_ = p.steps;
            scheme_ = p.scheme;
        }
    } else {
        per_pass_ = 1;
    }
    // A pass of m steps spoils 4m rows at each edge of the block; the local
    // plan may fuse fewer steps than asked (never more), and any grouping of
    // steps gives the same numbers.
    slab_ = make_slab(global, ranks_, rank_, integrator == IntegratorKind::dopri5 ? Domain<Real>::kAdaptiveHalo : 4 * per_pass_);
    // MPI reads and writes the state's rows in place where it can reach the
    // backend's memory: always on the CPU, on a GPU only with a CUDA-aware MPI.
    direct_ = !staged && (be.kind() == BackendKind::cpu || cuda_aware_mpi());
    if (direct_) return;
    const std::size_t n = 3 * std::size_t(slab_.halo) * std::size_t(slab_.row_sites);
    send_lo_.resize(n);
    send_hi_.resize(n);
    recv_lo_.resize(n);
    recv_hi_.resize(n);
}

template <class Real>
void SlabDomain<Real>::layout(std::vector<int>& counts, std::vector<int>& displs) const {
    counts.assign(ranks_, 0);
    displs.assign(ranks_, 0);
    for (int r = 0; r < ranks_; ++r) {
        const Slab s = make_slab(global_, ranks_, r, slab_.halo);
        counts[r] = int(s.owned() * slab_.row_sites);
        displs[r] = int(s.begin * slab_.row_sites);
    }
}

template <class Real>
void SlabDomain<Real>::exchange(StateBuffer<Real>& y) {
    if (direct_) return exchange_in_place(y);
    const index_t S = slab_.local.component_stride(), R = slab_.row_sites, H = slab_.halo, n = slab_.owned();
    const std::size_t block = std::size_t(H * R);
    // Down to the rank below: my first H owned rows (its upper ghost rows); up
    // to the rank above: my last H owned rows (its lower ghost rows).
    for (int c = 0; c < 3; ++c) {
        be_.download(send_lo_.data() + c * block, y.data() + c * S + H * R, block);
        be_.download(send_hi_.data() + c * block, y.data() + c * S + n * R, block);
    }
    const int below = (rank_ + ranks_ - 1) % ranks_, above = (rank_ + 1) % ranks_;
    const int count = int(send_lo_.size());
    MPI_Request req[4];
    MPI_Irecv(recv_lo_.data(), count, mpi_type<Real>(), below, 1, comm_, &req[0]);  // below's last rows: my lower ghosts
    MPI_Irecv(recv_hi_.data(), count, mpi_type<Real>(), above, 0, comm_, &req[1]);  // above's first rows: my upper ghosts
    MPI_Isend(send_lo_.data(), count, mpi_type<Real>(), below, 0, comm_, &req[2]);
    MPI_Isend(send_hi_.data(), count, mpi_type<Real>(), above, 1, comm_, &req[3]);
    MPI_Waitall(4, req, MPI_STATUSES_IGNORE);
    for (int c = 0; c < 3; ++c) {
        be_.upload(y.data() + c * S, recv_lo_.data() + c * block, block);
        be_.upload(y.data() + c * S + (H + n) * R, recv_hi_.data() + c * block, block);
    }
}

template <class Real>
void SlabDomain<Real>::exchange_in_place(StateBuffer<Real>& y) {
    const index_t S = slab_.local.component_stride(), R = slab_.row_sites, H = slab_.halo, n = slab_.owned();
    const int count = int(H * R), below = (rank_ + ranks_ - 1) % ranks_, above = (rank_ + 1) % ranks_;
    wait_for_backend(y.data());  // the kernels that wrote y, before MPI reads it
    // Per component: the first H owned rows go down (the upper ghost rows of
    // the rank below), the last H up; the ghost rows are filled in place. The
    // rows sent and the rows received never overlap (owned >= H).
    MPI_Request req[12];
    for (int c = 0; c < 3; ++c) {
        Real* base = y.data() + c * S;
        MPI_Irecv(base, count, mpi_type<Real>(), below, 2 * c + 1, comm_, &req[4 * c]);
        MPI_Irecv(base + (H + n) * R, count, mpi_type<Real>(), above, 2 * c, comm_, &req[4 * c + 1]);
        MPI_Isend(base + H * R, count, mpi_type<Real>(), below, 2 * c, comm_, &req[4 * c + 2]);
        MPI_Isend(base + n * R, count, mpi_type<Real>(), above, 2 * c + 1, comm_, &req[4 * c + 3]);
    }
    MPI_Waitall(12, req, MPI_STATUSES_IGNORE);
}

template <class Real>
void SlabDomain<Real>::wait_for_backend(const Real* p) {
    if (be_.kind() == BackendKind::cpu) return;
    Real one;
    be_.download(&one, p, 1);  // synchronous: after every kernel launched before it
}

template <class Real>
void SlabDomain<Real>::overlap_halo(const Couplings& c, bool measure_first) {
    measure_first_ = measure_first;
    strip_ = slab_.local;
    strip_.L[slab_.axis] = 3 * index_t(slab_.halo);
    try {
        strip_lo_ = StateBuffer<Real>(be_, strip_);
        strip_hi_ = StateBuffer<Real>(be_, strip_);
        if (direct_) ghosts_in_ = StateBuffer<Real>(be_, 2 * 3 * std::size_t(slab_.halo) * std::size_t(slab_.row_sites));
        // the whole lattice's choice of stepper and pass, as for the block
        strip_rk4_ = std::make_unique<Rk4<Real>>(be_, strip_, c, stepper_, per_pass_, scheme_);
    } catch (const std::exception&) {
        // auto on a device too full for the strips (about 9 halo rows more):
        // the exchange after the pass, which needs none, as before auto existed
        if (!measure_first) throw;
        drop_strips();
    }
    // every rank the same way: a rank without room for the strips decides for all
    if (measure_first && any(strip_rk4_ == nullptr)) drop_strips();
}

template <class Real>
void SlabDomain<Real>::drop_strips() {
    measure_first_ = false;
    strip_rk4_.reset();
    strip_lo_ = StateBuffer<Real>();
    strip_hi_ = StateBuffer<Real>();
    ghosts_in_ = StateBuffer<Real>();
}

template <class Real>
void SlabDomain<Real>::advance(Rk4<Real>& rk4, StateBuffer<Real>& y, double h, std::int64_t n) {
    if (!strip_rk4_) return Domain<Real>::advance(rk4, y, h, n);
    if (measure_first_) {
        Domain<Real>::advance(rk4, y, h, n);
        return choose_overlap(y, h);
    }
    while (n > 0) {
        const int k = int(std::min<std::int64_t>(n, per_pass_));
        overlapped_pass(rk4, y, h, k);
        n -= k;
    }
}

template <class Real>
void SlabDomain<Real>::step_strips(const StateBuffer<Real>& y, double h, int n) {
    const index_t S = slab_.local.component_stride(), Ss = strip_.component_stride(), R = slab_.row_sites,
                  H = slab_.halo, own = slab_.owned();
    const std::size_t block = std::size_t(H * R);
    // Block rows [0, 3H) around my first H owned rows, and [own - H, own + 2H)
    // around my last H: after n steps their middle H rows are the rows the
    // neighbours need.
    for (int c = 0; c < 3; ++c) {
        be_.copy(strip_lo_.data() + c * Ss, y.data() + c * S, 3 * block);
        be_.copy(strip_hi_.data() + c * Ss, y.data() + c * S + (own - H) * R, 3 * block);
    }
    strip_rk4_->advance(strip_lo_, h, n);
    strip_rk4_->advance(strip_hi_, h, n);
}

template <class Real>
void SlabDomain<Real>::choose_overlap(StateBuffer<Real>& y, double h) {
    measure_first_ = false;
    // y's ghost rows are fresh, so another exchange changes nothing, and the
    // strips' results are dropped: the state is untouched. The barrier keeps
    // the ranks' start-up skew out of the exchange's time.
    using clock = std::chrono::steady_clock;
    double took[2] = {HUGE_VAL, HUGE_VAL};  // exchange, strips
    for (int i = 0; i < 3; ++i) {
        wait_for_backend(y.data());
        MPI_Barrier(comm_);
        auto t0 = clock::now();
        exchange(y);
        wait_for_backend(y.data());
        auto t1 = clock::now();
        step_strips(y, h, per_pass_);
        wait_for_backend(strip_hi_.data());
        auto t2 = clock::now();
        took[0] = std::min(took[0], std::chrono::duration<double>(t1 - t0).count());
        took[1] = std::min(took[1], std::chrono::duration<double>(t2 - t1).count());
    }
    double slowest[2];
    MPI_Allreduce(took, slowest, 2, MPI_DOUBLE, MPI_MAX, comm_);  // one decision on every rank
    if (slowest[1] >= slowest[0]) drop_strips();
}

template <class Real>
void SlabDomain<Real>::overlapped_pass(Rk4<Real>& rk4, StateBuffer<Real>& y, double h, int n) {
    const index_t S = slab_.local.component_stride(), Ss = strip_.component_stride(), R = slab_.row_sites,
                  H = slab_.halo, own = slab_.owned();
    const std::size_t block = std::size_t(H * R);
    step_strips(y, h, n);
    const int below = (rank_ + ranks_ - 1) % ranks_, above = (rank_ + 1) % ranks_, count = int(block);
    MPI_Request req[12];
    if (direct_) {
        wait_for_backend(strip_hi_.data());
        for (int c = 0; c < 3; ++c) {
            Real* in = ghosts_in_.data() + 2 * c * block;
            MPI_Irecv(in, count, mpi_type<Real>(), below, 2 * c + 1, comm_, &req[4 * c]);
            MPI_Irecv(in + block, count, mpi_type<Real>(), above, 2 * c, comm_, &req[4 * c + 1]);
            MPI_Isend(strip_lo_.data() + c * Ss + H * R, count, mpi_type<Real>(), below, 2 * c, comm_, &req[4 * c + 2]);
            MPI_Isend(strip_hi_.data() + c * Ss + H * R, count, mpi_type<Real>(), above, 2 * c + 1, comm_,
                      &req[4 * c + 3]);
        }
    } else {
        for (int c = 0; c < 3; ++c) {
            be_.download(send_lo_.data() + c * block, strip_lo_.data() + c * Ss + H * R, block);
            be_.download(send_hi_.data() + c * block, strip_hi_.data() + c * Ss + H * R, block);
        }
        const int all = int(send_lo_.size());
        MPI_Irecv(recv_lo_.data(), all, mpi_type<Real>(), below, 1, comm_, &req[0]);
        MPI_Irecv(recv_hi_.data(), all, mpi_type<Real>(), above, 0, comm_, &req[1]);
        MPI_Isend(send_lo_.data(), all, mpi_type<Real>(), below, 0, comm_, &req[2]);
        MPI_Isend(send_hi_.data(), all, mpi_type<Real>(), above, 1, comm_, &req[3]);
    }
    rk4.advance(y, h, n);  // on a GPU: launched, and running while MPI moves the rows
    MPI_Waitall(direct_ ? 12 : 4, req, MPI_STATUSES_IGNORE);
    // The ghost rows (which the pass spoiled) from what arrived; y is the
    // pass's output buffer now.
    for (int c = 0; c < 3; ++c) {
        Real* lo = y.data() + c * S;
        Real* hi = lo + (H + own) * R;
        if (direct_) {
            be_.copy(lo, ghosts_in_.data() + 2 * c * block, block);
            be_.copy(hi, ghosts_in_.data() + (2 * c + 1) * block, block);
        } else {
            be_.upload(lo, recv_lo_.data() + c * block, block);
            be_.upload(hi, recv_hi_.data() + c * block, block);
        }
    }
}

template <class Real>
Observables SlabDomain<Real>::observe(Backend<Real>& be, const Real* s, const Real* dsdt) {
    const index_t R = slab_.row_sites, H = slab_.halo;
    Observables mine = be.observe(s, dsdt, slab_.local, H * R, (H + slab_.owned()) * R);
    // The block's rows are numbered from begin - H: staggering flips when that is odd.
    if ((slab_.begin - H) % 2 != 0)
        for (double& v : mine.stag) v = -v;
    const std::array<double, 8> part = {mine.sum[0],  mine.sum[1],  mine.sum[2], mine.stag[0],
                                        mine.stag[1], mine.stag[2], mine.max_s2, mine.max_rate2};
    return merge_in_rank_order<Observables>(comm_, part, [](const double* p) {
        Observables o;
        for (int c = 0; c < 3; ++c) o.sum[c] = p[c], o.stag[c] = p[3 + c];
        o.max_s2 = p[6];
        o.max_rate2 = p[7];
        return o;
    });
}

template <class Real>
void SlabDomain<Real>::scatter(const HostState& global, StateBuffer<Real>& y) {
    std::vector<int> counts, displs;
    layout(counts, displs);
    const index_t N = global_.sites(), n = counts[rank_];
    HostState mine(3 * std::size_t(n));
    for (int c = 0; c < 3; ++c)
        MPI_Scatterv(rank_ == 0 ? global.data() + c * N : nullptr, counts.data(), displs.data(), MPI_DOUBLE,
                     mine.data() + c * n, int(n), MPI_DOUBLE, 0, comm_);
    set_own_sites(mine, y);
}

template <class Real>
void SlabDomain<Real>::set_own_sites(const HostState& mine, StateBuffer<Real>& y) {
    const index_t S = slab_.local.component_stride(), R = slab_.row_sites, H = slab_.halo, n = owned_sites();
    if (mine.size() != 3 * std::size_t(n))
        throw Error("mpi: rank " + std::to_string(rank_) + " was given " + std::to_string(mine.size()) +
                        " values for its " + std::to_string(n) + " sites",
                    exit_code::usage);
    std::vector<Real> real(static_cast<std::size_t>(n));
    for (int c = 0; c < 3; ++c) {
        std::copy(mine.begin() + c * n, mine.begin() + (c + 1) * n, real.begin());
        be_.upload(y.data() + c * S + H * R, real.data(), real.size());
    }
    exchange(y);  // the ghost rows
}

template <class Real>
double SlabDomain<Real>::gather(const StateBuffer<Real>& y, Real* host) {
    std::vector<int> counts, displs;
    layout(counts, displs);
    const index_t N = global_.sites(), S = slab_.local.component_stride(), R = slab_.row_sites, H = slab_.halo;
    const index_t mine = counts[rank_];
    std::vector<Real> local(3 * std::size_t(mine));
    for (int c = 0; c < 3; ++c) be_.download(local.data() + c * mine, y.data() + c * S + H * R, std::size_t(mine));
    for (int c = 0; c < 3; ++c)
        MPI_Gatherv(local.data() + c * mine, int(mine), mpi_type<Real>(), rank_ == 0 ? host + c * N : nullptr,
                    counts.data(), displs.data(), mpi_type<Real>(), 0, comm_);
    double m = max_norm2(local.data(), mine, 0, mine), all = 0;
    MPI_Allreduce(&m, &all, 1, MPI_DOUBLE, MPI_MAX, comm_);
    return all;
}

template <class Real>
double SlabDomain<Real>::stage_own_sites(const StateBuffer<Real>& y) {
    const index_t S = slab_.local.component_stride(), R = slab_.row_sites, H = slab_.halo, mine = slab_.owned() * R;
    // (x, y, z) per site, as the file holds them, one component at a time
    // through a third of the rows' memory
    std::vector<Real> one(static_cast<std::size_t>(mine));
    staged_.resize(3 * std::size_t(mine));
    for (int c = 0; c < 3; ++c) {
        be_.download(one.data(), y.data() + c * S + H * R, std::size_t(mine));
        for (index_t n = 0; n < mine; ++n) staged_[3 * std::size_t(n) + c] = one[std::size_t(n)];
    }
    return max(max_norm2_interleaved(staged_.data(), mine));
}

template <class Real>
bool SlabDomain<Real>::any(bool mine) {
    int in = mine ? 1 : 0, out = 0;
    MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_LOR, comm_);
    return out != 0;
}

template <class Real>
int SlabDomain<Real>::largest(int mine) {
    int out = 0;
    MPI_Allreduce(&mine, &out, 1, MPI_INT, MPI_MAX, comm_);
    return out;
}

template <class Real>
double SlabDomain<Real>::max(double mine) {
    double out = 0;
    MPI_Allreduce(&mine, &out, 1, MPI_DOUBLE, MPI_MAX, comm_);
    return out;
}

template <class Real>
SlabStepper<Real>::SlabStepper(Backend<Real>& be, MPI_Comm comm, const Lattice& global, const Couplings& c,
                               bool staged, HaloExchange halo)
    : domain_(be, comm, global, Rk4Stepper::fused, 0, staged), comm_(comm), global_(global) {
    if (halo != HaloExchange::after_pass) domain_.overlap_halo(c, halo == HaloExchange::automatic);
    const Lattice& local = domain_.local();
    y_ = StateBuffer<Real>(be, local);
    rk4_ = std::make_unique<Rk4<Real>>(be, local, c, domain_.stepper(), domain_.steps_per_pass(), domain_.scheme());
}

template <class Real>
void SlabStepper<Real>::advance(double h, std::int64_t n) {
    const int m = domain_.steps_per_pass();
    while (n > 0) {
        const std::int64_t k = std::min<std::int64_t>(n, m);
        domain_.advance(*rk4_, y_, h, k);
        n -= k;
    }
}

template <class Real>
HostState SlabStepper<Real>::gather_all() {
    const index_t N = global_.sites();
    std::vector<Real> all(3 * std::size_t(N));
    domain_.gather(y_, all.data());
    MPI_Bcast(all.data(), int(all.size()), sizeof(Real) == 8 ? MPI_DOUBLE : MPI_FLOAT, 0, comm_);
    return HostState(all.begin(), all.end());
}

template class SlabDomain<float>;
template class SlabDomain<double>;
template class SlabStepper<float>;
template class SlabStepper<double>;

}  // namespace xyzmf
