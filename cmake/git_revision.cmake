# Run at every build (target xyzmf_version): stamps the current git revision into
# version.hpp as `git describe` names it from the last version tag ("v0.1.0" on the
# tagged commit, "v0.1.0-3-gabc1234" three commits on; the short hash without a
# tag), "-dirty" when tracked files differ from it. configure_file rewrites
# the header only when its text changes, so an unchanged revision rebuilds nothing.
# Inputs: SRC (source dir), OUT (header path), PROJECT_VERSION.
execute_process(COMMAND git describe --tags --always --match "v[0-9]*" WORKING_DIRECTORY ${SRC}
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
