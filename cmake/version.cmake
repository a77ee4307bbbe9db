# The build's identity, compiled into the daemon (version, git revision).
execute_process(COMMAND git rev-parse --short HEAD
                WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
                OUTPUT_VARIABLE DFS_GIT_REVISION OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_QUIET)
if(NOT DFS_GIT_REVISION)
  set(DFS_GIT_REVISION "unknown")
endif()
configure_file(${CMAKE_SOURCE_DIR}/src/util/build_info.h.in
               ${CMAKE_BINARY_DIR}/generated/util/build_info.h @ONLY)
