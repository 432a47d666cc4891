# Run at every build (target xyzmf_version): stamps the current git revision into
# version.hpp, "-dirty" when tracked files differ from it. configure_file rewrites
# the header only when its text changes, so an unchanged revision rebuilds nothing.
# Inputs: SRC (source dir), OUT (header path), PROJECT_VERSION.
execute_process(COMMAND git rev-parse --short HEAD WORKING_DIRECTORY ${SRC}
                OUTPUT_VARIABLE XYZMF_GIT_REVISION OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT XYZMF_GIT_REVISION)
  set(XYZMF_GIT_REVISION unknown)
else()
  execute_process(COMMAND git status --porcelain --untracked-files=no WORKING_DIRECTORY ${SRC}
                  OUTPUT_VARIABLE dirty OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(dirty)
    string(APPEND XYZMF_GIT_REVISION "-dirty")
  endif()
endif()
configure_file(${SRC}/cmake/version.hpp.in ${OUT} @ONLY)
