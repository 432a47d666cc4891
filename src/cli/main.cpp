// xyzmf: the program's entry point; the command line itself is run by
// run_command_line (entry.cpp), which the Python module calls too.
#include <malloc.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cli.hpp"
#include "xyzmf/error.hpp"
#include "mpi_session.hpp"
#include "signals.hpp"

namespace {
// The program's first instruction, before any library's initialisers and
// before main: from here on a stop signal is recorded, not fatal, so that
// whenever it comes the command ends with 128 + signal, one line on stderr and
// no temporary file (signals.hpp). A file-size limit (ulimit -f) must end in
// "disk full" (exit 3), not in the default SIGXFSZ kill.
void first_instruction(int, char**, char**) {
    xyzmf::install_interrupt_handlers();
    std::signal(SIGXFSZ, SIG_IGN);
}
}  // namespace

// Only an executable's .preinit_array runs before the shared libraries' initialisers.
__attribute__((section(".preinit_array"), used)) static void (*const xyzmf_preinit)(int, char**, char**) =
    first_instruction;

// Large blocks from the heap, kept there when freed for the next state's
// analysis to reuse, for the commands that analyse lattice after lattice (run,
// analyze, dtwa). glibc maps every block above 32 MB afresh and unmaps it on
// free, so each analysed snapshot paid a page fault and the zeroing of every
// page of its ~20 lattice-sized arrays again: a third of `xyzmf analyze
// --all-snapshots` of a 2048^2 run (8.1 -> 5.5 s, peak memory +20 %). Not for
// the other commands: the exact quantum gap of a ring of 10 gains no time and
// would hold 20 % more memory (253 -> 304 MB), which at 12 spins is GBs. The
// program's own policy, not the Python module's: that one lives in the user's
// interpreter.
void keep_large_blocks(const std::vector<std::string>& arguments) {
    for (const std::string& a : arguments)
        if (a == "run" || a == "analyze" || a == "dtwa") {
            mallopt(M_MMAP_MAX, 0);
            mallopt(M_TRIM_THRESHOLD, INT_MAX);
            return;
        }
}

// OMP_NUM_THREADS is --threads' default, so it is held to the same range: libgomp
// takes any number and crashed starting 100000 threads (SIGSEGV, nothing said).
// Values it cannot read it ignores itself, with a warning.
bool threads_from_environment_ok(const std::vector<std::string>& arguments) {
    for (const std::string& a : arguments)
        if (a == "--threads" || a.rfind("--threads=", 0) == 0) return true;  // (it replaces the variable)
    const char* env = std::getenv("OMP_NUM_THREADS");
    if (!env) return true;
    char* end = nullptr;
    const long long n = std::strtoll(env, &end, 10);  // (a list "4,2" names the outer level first)
    if (end == env || n <= 4096) return true;
    std::fprintf(stderr, "xyzmf: error: OMP_NUM_THREADS=%s: at most 4096 threads, as --threads takes\n", env);
    return false;
}

// What a command prints to stdout (a --json object, a summary) is its result: a
// write that failed (a full disk, a closed descriptor) is an error, not exit 0.
// (A closed stdout, >&-, is one nobody reads: not an error.)
int with_stdout_written(int code) {
    errno = 0;
    if (std::fflush(stdout) == 0 && !std::ferror(stdout)) return code;
    const int err = errno;
    if (err == EBADF) return code;
    std::fprintf(stderr, "xyzmf: error: standard output: %s: what the command printed is lost\n",
                 err ? std::strerror(err) : "a write failed");
    return code != 0 ? code : xyzmf::exit_code::io;
}

int main(int argc, char** argv) {
    first_instruction(argc, argv, nullptr);  // (idempotent; in case a loader skipped .preinit_array)
    const std::vector<std::string> arguments(argv + 1, argv + argc);
    if (!threads_from_environment_ok(arguments)) return xyzmf::exit_code::usage;
    keep_large_blocks(arguments);
    // Under mpirun/srun (an MPI build only): one lattice over the ranks.
    if (xyzmf::cli::launched_by_mpi()) return with_stdout_written(xyzmf::cli::run_under_mpi(arguments, argv[0]));
    return with_stdout_written(xyzmf::cli::run_command_line(arguments, argv[0]));
}
