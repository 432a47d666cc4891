// xyzmf: the program's entry point; the command line itself is run by
// run_command_line (entry.cpp), which the Python module calls too.
#include <csignal>
#include <string>
#include <vector>

#include "cli.hpp"
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

int main(int argc, char** argv) {
    first_instruction(argc, argv, nullptr);  // (idempotent; in case a loader skipped .preinit_array)
    const std::vector<std::string> arguments(argv + 1, argv + argc);
    // Under mpirun/srun (an MPI build only): one lattice over the ranks.
    if (xyzmf::cli::launched_by_mpi()) return xyzmf::cli::run_under_mpi(arguments, argv[0]);
    return xyzmf::cli::run_command_line(arguments, argv[0]);
}
