// The ranks' own rows of a state, written into the run's HDF5 file together
// with MPI-IO: rank 0 has allocated the state's spins in the file (contiguous,
// RunOutput::prepare_spins) and says where they lie; each rank writes its rows
// of the slowest axis, which are one contiguous run of those bytes, in one
// collective call; rank 0 then finishes the state's group. The bytes are those a
// serial run writes (little-endian IEEE, (x, y, z) per site), so the file equals
// the serial file dataset for dataset (tests/mpi_run_test.sh compares them).
//
// Why MPI-IO and not the parallel HDF5 library: one process holds one HDF5
// library, and Debian's parallel one is built without thread safety, which the
// Python module needs (it runs commands on several threads at once; with the
// parallel library the Python tests crashed in 3 runs of 4). HDF5 never touches
// raw data it did not write, so it keeps the file open meanwhile.
#include <string>
#include <vector>

#include "xyzmf/error.hpp"
#include "slab.hpp"

namespace xyzmf {

namespace {

// Rank 0's string on every rank.
std::string from_root(const std::string& mine, MPI_Comm comm, int rank) {
    unsigned long long n = mine.size();
    MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, comm);
    std::string s = rank == 0 ? mine : std::string(std::size_t(n), '\0');
    if (n > 0) MPI_Bcast(s.data(), int(n), MPI_CHAR, 0, comm);
    return s;
}

std::string mpi_error(int code) {
    char text[MPI_MAX_ERROR_STRING];
    int n = 0;
    MPI_Error_string(code, text, &n);
    return std::string(text, std::size_t(n));
}

}  // namespace

template <class Real>
void SlabDomain<Real>::write_staged(const std::string& disk_path, std::uint64_t offset) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the file's spins are little-endian: write_staged copies memory as it is"
#endif
    const std::string path = from_root(disk_path, comm_, rank_);
    unsigned long long base = offset;
    MPI_Bcast(&base, 1, MPI_UNSIGNED_LONG_LONG, 0, comm_);
    if (path.empty()) {
        if (rank_ == 0) return;  // the root throws its own error
        throw Error("mpi: rank " + std::to_string(rank_) + " stops: rank 0 could not allocate a state in its file",
                    exit_code::io);
    }
    // One row of the slowest axis, 3 values a site: a slab is `owned` of them,
    // whatever its size (MPI counts are ints).
    MPI_Datatype row;
    MPI_Type_contiguous(int(3 * slab_.row_sites), sizeof(Real) == 8 ? MPI_DOUBLE : MPI_FLOAT, &row);
    MPI_Type_commit(&row);
    const MPI_Offset at =
        MPI_Offset(base + std::uint64_t(slab_.begin) * std::uint64_t(slab_.row_sites) * 3 * sizeof(Real));
    MPI_File fh;
    int rc = MPI_File_open(comm_, path.c_str(), MPI_MODE_WRONLY, MPI_INFO_NULL, &fh);
    if (rc == MPI_SUCCESS) {
        MPI_File_set_errhandler(fh, MPI_ERRORS_RETURN);
        rc = MPI_File_write_at_all(fh, at, staged_.data(), int(slab_.owned()), row, MPI_STATUS_IGNORE);
        const int closed = MPI_File_close(&fh);  // collective: every rank's rows are in the file after it
        if (rc == MPI_SUCCESS) rc = closed;
    }
    MPI_Type_free(&row);
    if (rc != MPI_SUCCESS)
        throw Error(path + ": rank " + std::to_string(rank_) + " could not write its rows (" + mpi_error(rc) + ")",
                    exit_code::io);
}

template void SlabDomain<float>::write_staged(const std::string&, std::uint64_t);
template void SlabDomain<double>::write_staged(const std::string&, std::uint64_t);

}  // namespace xyzmf
