// `mpirun -np P xyzmf ...`: the program's MPI session (built with -DXYZMF_MPI=ON).
// main() starts it only when a launcher (mpirun, mpiexec, srun) started the
// process, so a plain `xyzmf` of an MPI build runs exactly as a serial build.
// A run then spreads its lattice over the ranks (src/mpi/slab.hpp); rank 0
// writes the file and prints, the others are silent unless they fail alone.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "xyzmf/backend.hpp"
#include "analysis.hpp"
#include "domain.hpp"
#include "run_config.hpp"

namespace xyzmf::cli {

// True when a launcher started this process and the build has MPI.
bool launched_by_mpi();
// MPI_Init, the command line on every rank, MPI_Finalize (or MPI_Abort when a
// rank failed alone); the exit code of the command.
int run_under_mpi(const std::vector<std::string>& arguments, const std::string& program);

// The Domain of a run on this session's ranks (collective), or null outside
// an MPI session: the run then holds the whole lattice.
template <class Real>
std::unique_ptr<Domain<Real>> make_run_domain(Backend<Real>& be, const RunConfig& cfg);

// run --analyze in an MPI session: a RunHooks::on_spread_state that computes a
// state's structure factor and vortices with all ranks (src/mpi/slab_analysis.hpp)
// and hands the whole lattice's parts to `deliver` on rank 0 (collective to
// make; null outside a session).
std::function<void(const std::string& where, double t, const HostState& owned)> spread_analysis_hook(
    const RunConfig& cfg, const AnalysisOptions& opt, std::function<void(const std::string& where, AnalysisParts parts)> deliver);

// In an MPI session: true on rank 0 only; outside one: true.
bool session_root();
// Runs f on rank 0 only (outside a session: here); when it throws
// xyzmf::Error there, every rank throws: rank 0 its own error, the others a
// silent one with its exit code, so that all of them stop together and one
// prints. Collective in a session.
void on_root(const std::function<void()>& f);
// rank 0's `bytes` bytes at data on every rank (nothing outside a session).
void share_from_root(void* data, int bytes);
// Rank 0's string on every rank (the string itself outside an MPI session).
std::string share_string_from_root(const std::string& mine);
// This process's rank and the number of ranks (0 and 1 outside a session).
int session_rank();
int session_ranks();
// Collective: each rank's error from f (an xyzmf::Error's exit code) made
// everyone's: when any rank failed, every rank throws (its own error, else a
// silent one with the largest exit code), and each reports its own.
void on_every_rank(const std::function<void()>& f);
// For work each rank does alone (an MPI sweep's parts): a stop signal that
// reaches any rank, even one whose part is done, stops every rank at its next
// poll(), not after the others have run their parts to the end; so does a rank
// that fails (poll() then throws a silent Error: that rank says why). Made on
// every rank, poll() on the main thread only (nothing outside a session). The
// destructor waits for every other rank's words (mpi_session.cpp), so nothing is
// left in flight.
class StopRelay {
public:
    StopRelay();
    ~StopRelay();
    StopRelay(const StopRelay&) = delete;
    StopRelay& operator=(const StopRelay&) = delete;
    // Tells the others of a stop here; adopts a stop another rank told of.
    void poll();

private:
    struct Words;
    std::unique_ptr<Words> words_;
};
// The sum over ranks of v[0..n) in place, on every rank (nothing outside a session).
void sum_over_ranks(double* v, int n);
// Collective, right after each rank parsed the command line (the same on all):
// when any rank refused it, all stop. Returns this rank's exit code (its own
// refusal's, else the largest); `error` is emptied on a rank other than 0 that
// met rank 0's refusal, so that it is said once. Outside a session: `code`.
int agree_on_command_line(int code, std::string& error);

}  // namespace xyzmf::cli
