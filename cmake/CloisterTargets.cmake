# Per-target defaults for cloister's own code (third-party headers are found as SYSTEM includes,
# so -Werror applies to our code only).

function(cloister_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
  target_compile_features(${target} PUBLIC cxx_std_20)
endfunction()

# cloister_add_library(NAME SOURCES... [DEPS ...] [PRIVATE_DEPS ...])
# Defines cloister_<NAME>: public headers live in include/cloister/<NAME>/.
function(cloister_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  set(target cloister_${name})
  add_library(${target} STATIC ${ARG_SOURCES})
  file(GLOB_RECURSE public_headers CONFIGURE_DEPENDS
       ${PROJECT_SOURCE_DIR}/include/cloister/${name}/*.h)
  target_sources(${target} PUBLIC FILE_SET HEADERS
                 BASE_DIRS ${PROJECT_SOURCE_DIR}/include FILES ${public_headers})
  target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(${target} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  cloister_target_defaults(${target})
  add_library(cloister::${name} ALIAS ${target})
endfunction()

# cloister_add_test(NAME SOURCES... DEPS ...)
# A GoogleTest binary; each TEST becomes a ctest test (discovered when ctest runs).
function(cloister_add_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} cloister_testing GTest::gtest GTest::gtest_main)
  cloister_target_defaults(${name})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST
                       PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS "${ARG_LABELS}")
endfunction()

# cloister_add_fuzzer(NAME SOURCE DEPS ...)
# With CLOISTER_FUZZ (clang): a libFuzzer binary. Otherwise: the same entry point linked with a
# small driver that replays the seed corpus, run as a ctest so every target keeps compiling and
# its seeds keep passing.
function(cloister_add_fuzzer name source)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  set(target fuzz_${name})
  if(CLOISTER_FUZZ)
    add_executable(${target} ${source})
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${target} PRIVATE -fsanitize=fuzzer,address,undefined)
  else()
    add_executable(${target} ${source} ${PROJECT_SOURCE_DIR}/fuzz/replay_main.cpp)
    if(CLOISTER_BUILD_TESTS)
      add_test(NAME fuzz_replay.${name}
               COMMAND ${target} ${PROJECT_SOURCE_DIR}/fuzz/corpus/${name})
    endif()
  endif()
  target_link_libraries(${target} PRIVATE ${ARG_DEPS})
  cloister_target_defaults(${target})
  set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/fuzz)
endfunction()
