// Shared by the verity suites: random data, small file helpers, and locating veritysetup.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "cloister/common/bytes.h"
#include "testing/testdata.h"

namespace cloister::verity::test {

Bytes random_bytes(std::size_t n, std::uint64_t seed);
void write_bytes(const std::filesystem::path& p, ByteView data);
Bytes read_bytes(const std::filesystem::path& p);
void flip_byte(const std::filesystem::path& p, std::uint64_t offset);

// /usr/sbin/veritysetup or wherever PATH has it; throws (failing the test) when it is missing.
std::string veritysetup();
// Runs veritysetup with `args` and returns its stdout, failing the test on a non-zero exit.
std::string run_veritysetup(const std::vector<std::string>& args);
// The value of a "Key:   \tvalue" line of veritysetup-style output ("" when absent).
std::string field(const std::string& output, const std::string& key);

std::string cloister_bin();

}  // namespace cloister::verity::test
