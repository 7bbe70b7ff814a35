// What the differential fuzz targets (compile_fuzz.cpp, decision_fuzz.cpp) compare: an
// evaluation's outcome as one text, and whether a difference is excused because a limit that
// depends on the machine or on native stack use ended one side.
#pragma once

#include <string>

#include "cloister/rego/rego.h"

namespace cloister::rego::fuzz {

inline std::string outcome(const Result<QueryResult>& r) {
  if (!r) return "error: " + r.error().message();
  return r->rows.empty() ? std::string("undefined") : to_json(r->rows[0].value);
}

inline bool machine_limit(const std::string& outcome) {
  return outcome.find("timed out") != std::string::npos || outcome.find("stack limit") != std::string::npos ||
         outcome.find("memory limit") != std::string::npos;
}

}  // namespace cloister::rego::fuzz
