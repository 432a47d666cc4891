// The ranks' own rows of a state (or of fields computed from it: the XDMF
// sidecar's), written into the run's HDF5 file together
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

// `rows` rows of `row_values` values of `type` each, from `data`, written by every
// rank into the file rank 0 names, from byte `base` plus `first_row` rows: one
// collective MPI-IO write. Empty path: rank 0 could not prepare the file.
void write_rows_collectively(const std::string& disk_path, std::uint64_t offset, MPI_Comm comm, int rank,
                             const void* data, index_t first_row, index_t rows, index_t row_values,
                             MPI_Datatype type, int type_bytes) {
    const std::string path = from_root(disk_path, comm, rank);
    unsigned long long base = offset;
    MPI_Bcast(&base, 1, MPI_UNSIGNED_LONG_LONG, 0, comm);
    if (path.empty()) {
        if (rank == 0) return;  // the root throws its own error
        throw Error("mpi: rank " + std::to_string(rank) + " stops: rank 0 could not allocate a state in its file",
                    exit_code::io);
    }
    // One row of the slowest axis: a slab is `rows` of them, whatever its
    // size (MPI counts are ints).
    MPI_Datatype row;
    MPI_Type_contiguous(int(row_values), type, &row);
    MPI_Type_commit(&row);
    const MPI_Offset at = MPI_Offset(base + std::uint64_t(first_row) * std::uint64_t(row_values) * std::uint64_t(type_bytes));
    MPI_File fh;
    int rc = MPI_File_open(comm, path.c_str(), MPI_MODE_WRONLY, MPI_INFO_NULL, &fh);
    if (rc == MPI_SUCCESS) {
        MPI_File_set_errhandler(fh, MPI_ERRORS_RETURN);
        rc = MPI_File_write_at_all(fh, at, data, int(rows), row, MPI_STATUS_IGNORE);
        const int closed = MPI_File_close(&fh);  // collective: every rank's rows are in the file after it
        if (rc == MPI_SUCCESS) rc = closed;
    }
    MPI_Type_free(&row);
    if (rc != MPI_SUCCESS)
        throw Error(path + ": rank " + std::to_string(rank) + " could not write its rows (" + mpi_error(rc) + ")",
                    exit_code::io);
}

}  // namespace

template <class Real>
void SlabDomain<Real>::write_staged(const std::string& disk_path, std::uint64_t offset) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the file's spins are little-endian: write_staged copies memory as it is"
#endif
    write_rows_collectively(disk_path, offset, comm_, rank_, staged_.data(), slab_.begin, slab_.owned(),
                            3 * slab_.row_sites, sizeof(Real) == 8 ? MPI_DOUBLE : MPI_FLOAT, int(sizeof(Real)));
}

template <class Real>
void SlabDomain<Real>::write_own_values(const std::string& disk_path, std::uint64_t offset, const double* values,
                                        int per_site) {
    write_rows_collectively(disk_path, offset, comm_, rank_, values, slab_.begin, slab_.owned(),
                            index_t(per_site) * slab_.row_sites, MPI_DOUBLE, 8);
}

template void SlabDomain<float>::write_staged(const std::string&, std::uint64_t);
template void SlabDomain<double>::write_staged(const std::string&, std::uint64_t);
template void SlabDomain<float>::write_own_values(const std::string&, std::uint64_t, const double*, int);
template void SlabDomain<double>::write_own_values(const std::string&, std::uint64_t, const double*, int);

}  // namespace xyzmf
