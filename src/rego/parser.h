// Rego source -> AST. Internal.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "arena.h"
#include "ast.h"
#include "cloister/common/result.h"

namespace cloister::rego {

struct ParseOptions {
  bool v0 = false;          // Rego v0 syntax unless the module imports rego.v1
  std::size_t max_depth = 200;  // nesting of terms/bodies: deeper input is rejected, not recursed
  NodeArena* arena = nullptr;   // where the nodes go (must outlive them); null: the heap
  // When set, each comment is appended: its text from '#' to the end of the line, a view into the
  // parsed text (rego.parse_module reports comments; the AST keeps none). Comments inside template
  // strings are included, possibly more than once (the parser may read a template twice).
  std::vector<std::string_view>* comments = nullptr;
};

// Errors: Errc::parse, message "<file>:<line>:<col>: rego_parse_error: <what>\n<excerpt>\n<caret>".
Result<Module> parse_module(std::string_view file, std::uint32_t file_index, std::string_view text,
                            const ParseOptions& opts);
// A query: a body of literals separated by ';' or newlines.
Result<std::shared_ptr<Body>> parse_query(std::string_view file, std::uint32_t file_index, std::string_view text,
                                          const ParseOptions& opts);
// A single term (conformance input_term).
Result<TermP> parse_term(std::string_view text, const ParseOptions& opts);

}  // namespace cloister::rego
