// Runner for OPA's conformance cases (YAML files; see ../shared/testdata/opa-conformance/README.md).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "cloister/common/result.h"

namespace cloister::rego {

struct ConformanceFailure {
  std::string file;
  std::string note;
  std::string reason;
};

struct ConformanceReport {
  std::size_t passed = 0;
  std::size_t failed = 0;
  std::size_t skipped = 0;
  std::vector<ConformanceFailure> failures;
  std::vector<std::string> skipped_notes;
};

// Runs every *.yaml / *.yml case file found (recursively) under `paths`. Errors only for unreadable
// or malformed case files; a failing case is reported in the result.
Result<ConformanceReport> run_conformance(const std::vector<std::filesystem::path>& paths);

}  // namespace cloister::rego
