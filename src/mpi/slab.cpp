// Slabs of one lattice over MPI ranks (see slab.hpp).
#include "slab.hpp"

#include <algorithm>
#include <string>

#include "xyzmf/error.hpp"

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
                        std::to_string(halo) + " ghost rows a pass needs; run at most " +
                        std::to_string(std::max<index_t>(1, s.rows / halo)) + " ranks",
                    exit_code::usage);
    }
    s.local = global;
    s.local.L[s.axis] = s.owned() + 2 * index_t(halo);
    return s;
}

template <class Real>
SlabStepper<Real>::SlabStepper(Backend<Real>& be, MPI_Comm comm, const Lattice& global, const Couplings& c)
    : be_(be), comm_(comm), global_(global) {
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &ranks_);
    // The serial run's choice for the whole lattice: 0 means four sweeps (a
    // step a pass), else that many fused steps a pass in the backend's scheme.
    const int m = be.fused_steps_per_pass(global);
    const Rk4Stepper stepper = m > 0 ? Rk4Stepper::fused : Rk4Stepper::four_sweep;
    const FusedScheme scheme = m > 0 ? be.fused_plan(global, m, FusedScheme::best).scheme : FusedScheme::best;
    const int per_pass = m > 0 ? m : 1;
    slab_ = make_slab(global, ranks_, rank_, 4 * per_pass);
    y_ = StateBuffer<Real>(be, slab_.local);
    rk4_ = std::make_unique<Rk4<Real>>(be, slab_.local, c, stepper, per_pass, scheme);
    // The local plan may fuse fewer steps than asked (never more): the ghost
    // rows then cover more than a pass spoils, and any grouping of steps
    // gives the same numbers.
    const std::size_t n = 3 * std::size_t(slab_.halo) * std::size_t(slab_.row_sites);
    send_lo_.resize(n);
    send_hi_.resize(n);
    recv_lo_.resize(n);
    recv_hi_.resize(n);
}

template <class Real>
void SlabStepper<Real>::set_from_global(const HostState& g) {
    const index_t N = global_.sites(), S = slab_.local.component_stride(), R = slab_.row_sites;
    const index_t local_rows = slab_.local.L[slab_.axis];
    std::vector<Real> rows(std::size_t(local_rows * R));
    for (int c = 0; c < 3; ++c) {
        for (index_t r = 0; r < local_rows; ++r) {  // local row r is global row begin - halo + r, periodic
            index_t gr = (slab_.begin - slab_.halo + r) % slab_.rows;
            if (gr < 0) gr += slab_.rows;
            const double* src = g.data() + c * N + gr * R;
            std::copy(src, src + R, rows.begin() + r * R);
        }
        be_.upload(y_.data() + c * S, rows.data(), rows.size());
    }
}

template <class Real>
void SlabStepper<Real>::exchange() {
    const index_t S = slab_.local.component_stride(), R = slab_.row_sites, H = slab_.halo, n = slab_.owned();
    const std::size_t block = std::size_t(H * R);
    // Down to the rank below: my first H owned rows (its upper ghost rows); up
    // to the rank above: my last H owned rows (its lower ghost rows).
    for (int c = 0; c < 3; ++c) {
        be_.download(send_lo_.data() + c * block, y_.data() + c * S + H * R, block);
        be_.download(send_hi_.data() + c * block, y_.data() + c * S + n * R, block);
    }
    const int below = (rank_ + ranks_ - 1) % ranks_, above = (rank_ + 1) % ranks_;
    const MPI_Datatype type = sizeof(Real) == 8 ? MPI_DOUBLE : MPI_FLOAT;
    const int count = int(send_lo_.size());
    MPI_Request req[4];
    MPI_Irecv(recv_lo_.data(), count, type, below, 1, comm_, &req[0]);  // below's last rows: my lower ghosts
    MPI_Irecv(recv_hi_.data(), count, type, above, 0, comm_, &req[1]);  // above's first rows: my upper ghosts
    MPI_Isend(send_lo_.data(), count, type, below, 0, comm_, &req[2]);
    MPI_Isend(send_hi_.data(), count, type, above, 1, comm_, &req[3]);
    MPI_Waitall(4, req, MPI_STATUSES_IGNORE);
    for (int c = 0; c < 3; ++c) {
        be_.upload(y_.data() + c * S, recv_lo_.data() + c * block, block);
        be_.upload(y_.data() + c * S + (H + n) * R, recv_hi_.data() + c * block, block);
    }
}

template <class Real>
void SlabStepper<Real>::advance(double h, std::int64_t n) {
    const int m = rk4_->steps_per_pass();
    while (n > 0) {
        const std::int64_t k = std::min<std::int64_t>(n, m);
        rk4_->advance(y_, h, k);
        exchange();
        n -= k;
    }
}

template <class Real>
HostState SlabStepper<Real>::gather_all() {
    const index_t S = slab_.local.component_stride(), R = slab_.row_sites, H = slab_.halo, N = global_.sites();
    const index_t mine = slab_.owned() * R;
    std::vector<double> local(3 * std::size_t(mine));
    std::vector<Real> tmp(static_cast<std::size_t>(mine));
    for (int c = 0; c < 3; ++c) {
        be_.download(tmp.data(), y_.data() + c * S + H * R, tmp.size());
        std::copy(tmp.begin(), tmp.end(), local.begin() + c * mine);
    }
    std::vector<int> counts(ranks_), displs(ranks_);
    for (int r = 0; r < ranks_; ++r) {
        const Slab s = make_slab(global_, ranks_, r, slab_.halo);
        counts[r] = int(s.owned() * R);
        displs[r] = int(s.begin * R);
    }
    HostState all(3 * std::size_t(N));
    for (int c = 0; c < 3; ++c)
        MPI_Allgatherv(local.data() + c * mine, int(mine), MPI_DOUBLE, all.data() + c * N, counts.data(),
                       displs.data(), MPI_DOUBLE, comm_);
    return all;
}

template class SlabStepper<float>;
template class SlabStepper<double>;

}  // namespace xyzmf
