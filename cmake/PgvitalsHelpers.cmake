# Small helpers applied per target, so third-party headers never see our warning flags.

function(pgvitals_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor
                                           -Wold-style-cast -Wpedantic)
  # GCC 12 at -O3 reports std::string concatenation inside libstdc++ as overlapping memcpy
  # (GCC bug 105329): a false positive that breaks Release builds under -Werror.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
endfunction()

# Sanitizers are chosen once for the whole build (PGVITALS_SANITIZE=address|thread|"")
# and applied to every object and link, because mixing instrumented and plain objects
# gives false reports. GCC 12's -Wmaybe-uninitialized misfires on instrumented code
# (std::function inside <regex>), so it is off in sanitizer builds only.
function(pgvitals_enable_sanitizers)
  if(NOT PGVITALS_SANITIZE STREQUAL "")
    add_compile_options(-Wno-maybe-uninitialized)
  endif()
  if(PGVITALS_SANITIZE STREQUAL "address")
    add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                        -fno-sanitize-recover=undefined)
    add_link_options(-fsanitize=address,undefined)
  elseif(PGVITALS_SANITIZE STREQUAL "thread")
    add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
    add_link_options(-fsanitize=thread)
  elseif(NOT PGVITALS_SANITIZE STREQUAL "")
    message(FATAL_ERROR "PGVITALS_SANITIZE must be address, thread or empty, not '${PGVITALS_SANITIZE}'")
  endif()
endfunction()

# One call per library part: static library, namespaced alias, warnings.
function(pgvitals_add_part name)
  cmake_parse_arguments(P "" "" "SOURCES;PUBLIC_LINKS;PRIVATE_LINKS" ${ARGN})
  add_library(pgvitals_${name} STATIC ${P_SOURCES})
  add_library(pgvitals::${name} ALIAS pgvitals_${name})
  target_include_directories(pgvitals_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src
                                                   ${PROJECT_BINARY_DIR}/src/generated)
  target_compile_features(pgvitals_${name} PUBLIC cxx_std_20)
  target_link_libraries(pgvitals_${name} PUBLIC ${P_PUBLIC_LINKS} PRIVATE ${P_PRIVATE_LINKS})
  pgvitals_set_warnings(pgvitals_${name})
endfunction()
