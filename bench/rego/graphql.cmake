# graphql.* builtins and their stages (included from bench/rego/CMakeLists.txt).
add_executable(bench_rego_graphql ${CMAKE_CURRENT_LIST_DIR}/graphql_bench.cpp)
target_link_libraries(bench_rego_graphql PRIVATE cloister_rego benchmark::benchmark)
target_include_directories(bench_rego_graphql PRIVATE ${PROJECT_SOURCE_DIR}/src/rego)
cloister_target_defaults(bench_rego_graphql)
set_target_properties(bench_rego_graphql PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bench)
