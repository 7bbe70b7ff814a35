# Per-call cost of the builtin families (included from bench/rego/CMakeLists.txt).
add_executable(bench_rego_builtins ${CMAKE_CURRENT_LIST_DIR}/builtins_bench.cpp)
target_link_libraries(bench_rego_builtins PRIVATE cloister_rego benchmark::benchmark)
target_include_directories(bench_rego_builtins PRIVATE ${PROJECT_SOURCE_DIR}/src/rego)
cloister_target_defaults(bench_rego_builtins)
set_target_properties(bench_rego_builtins PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bench)
