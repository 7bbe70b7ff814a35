# Builtin-family parsers on untrusted strings (included from fuzz/rego/CMakeLists.txt).
cloister_add_fuzzer(rego_builtins ${CMAKE_CURRENT_LIST_DIR}/builtins_fuzz.cpp DEPS cloister_rego)
target_include_directories(fuzz_rego_builtins PRIVATE ${PROJECT_SOURCE_DIR}/src/rego)
