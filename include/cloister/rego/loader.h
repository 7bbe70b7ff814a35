// Loading policies and data from files, as `opa eval -d` does.
#pragma once

#include <filesystem>
#include <vector>

#include "cloister/common/result.h"
#include "cloister/rego/rego.h"

namespace cloister::rego {

struct Bundle {
  std::vector<ModuleSource> modules;
  Value data;  // JSON files deep-merged at the root of `data`
};

// Each path: a .rego file (module), a .json file (base data merged at the root), or a directory
// searched recursively for both. Conflicting non-object values at one path are an error.
Result<Bundle> load_paths(const std::vector<std::filesystem::path>& paths);

// Deep merge of two objects; a non-object clash is an error naming the key.
Result<Value> merge_data(const Value& a, const Value& b);

}  // namespace cloister::rego
