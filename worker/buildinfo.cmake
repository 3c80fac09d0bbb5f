# Writes sw_build.h (the git commit and the build date of `segworker version`) at every build,
# touching it only when its text changes, so an unchanged tree does not recompile.
#   cmake -DSRC=<source dir> -DOUT=<header> [-DCOMMIT=<id>] -P buildinfo.cmake
# COMMIT (or SW_COMMIT in the environment) names the commit when the tree has no .git (a
# container build); the date honours SOURCE_DATE_EPOCH, for reproducible builds.
if(NOT COMMIT AND DEFINED ENV{SW_COMMIT})
  set(COMMIT "$ENV{SW_COMMIT}")
endif()
if(NOT COMMIT)
  execute_process(COMMAND git -C "${SRC}" describe --always --dirty --abbrev=12
                  OUTPUT_VARIABLE COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0 OR COMMIT STREQUAL "")
    set(COMMIT "unknown")
  endif()
endif()
string(TIMESTAMP date "%Y-%m-%d" UTC)
set(text "/* Generated at build time by worker/buildinfo.cmake; do not edit. */\n#define SW_BUILD_COMMIT \"${COMMIT}\"\n#define SW_BUILD_DATE \"${date}\"\n")
set(old "")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
