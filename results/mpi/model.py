#!/usr/bin/env python3
"""The scaling model of results/bench/mpi.md: time per RK4 step of one lattice in
slabs over P devices,

    t = (owned + 2 H) rows x row sites / rate          (the block, ghost rows included)
      + halo bytes / link bandwidth + latency           (the exchange; not overlapped)
      + 2 x halo bytes / staging bandwidth              (through host memory when the MPI
                                                         is not CUDA-aware: down and up)

and with the exchange overlapped (--halo overlap, the default on a GPU):

    t = 6 H rows x row sites / rate                    (the two edge strips, stepped first)
      + halo bytes / staging bandwidth                  (their rows down, not CUDA-aware only)
      + max(block / rate, halo bytes / link + latency)  (the block steps while the rows travel)
      + halo bytes / staging bandwidth                  (the ghost rows up, not CUDA-aware only)

with H = 4 ghost rows (one step a pass), halo bytes = 2 sides x H rows x row sites x
3 components x 8 bytes (double). Efficiency = (sites / P / rate) / t. Rates are the
H200 figures of results/bench/gpu.md; bandwidths are assumptions, stated below.
    /usr/bin/python3 results/mpi/model.py            (prints the table of mpi.md)
"""

RATE = {2: 8.62e9, 3: 6.95e9}  # measured single-H200 site-steps/s, double (fused 2D, four-sweep 3D)
NVLINK = 300e9    # B/s a GPU sends to its neighbours in an NVLink node (NVLink 4: 450 GB/s a direction; ~2/3 achieved)
IB = 25e9         # B/s a GPU gets over InfiniBand NDR (400 Gb/s = 50 GB/s a port, shared by two directions)
STAGE = 25e9      # B/s device <-> pinned host over PCIe 5 (about half of its 64 GB/s peak, each way)
LAT = {"nvlink": 10e-6, "ib": 20e-6}  # s a pass: two Isend/Irecv pairs and the wait


def efficiency(dim, side, P, link, cuda_aware, overlap=False, H=4):
    row = side ** (dim - 1)
    owned = side / P
    compute = (owned + 2 * H) * row / RATE[dim]
    halo = 2 * H * row * 3 * 8
    transfer = halo / (NVLINK if link == "nvlink" else IB) + LAT[link]
    staging = 0 if cuda_aware else 2 * halo / STAGE
    if overlap:
        t = 6 * H * row / RATE[dim] + staging + max(compute, transfer)
    else:
        t = compute + transfer + staging
    return (side ** dim / P / RATE[dim]) / t, owned, halo


def main():
    print("| lattice (double) | devices | slab rows | halo a pass | efficiency, staged through host | CUDA-aware MPI "
          "| overlapped, staged | overlapped, CUDA-aware |")
    print("|---|---|---|---|---|---|---|---|")
    for dim, side in ((2, 65536), (3, 2048)):
        for P, link in ((8, "nvlink"), (64, "ib")):
            e0, owned, halo = efficiency(dim, side, P, link, False)
            e1, _, _ = efficiency(dim, side, P, link, True)
            e2, _, _ = efficiency(dim, side, P, link, False, overlap=True)
            e3, _, _ = efficiency(dim, side, P, link, True, overlap=True)
            name = f"{side}^{dim}"
            where = "8 GPUs, NVLink node" if link == "nvlink" else "64 GPUs, InfiniBand"
            print(f"| {name} | {where} | {owned:.0f} | {halo / 1e6:.1f} MB | {e0:.0%} | {e1:.0%} | {e2:.0%} | {e3:.0%} |")


if __name__ == "__main__":
    main()
