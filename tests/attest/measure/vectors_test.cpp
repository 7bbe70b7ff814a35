// Every case of ../shared/testdata/snp-measure/expected.json (values from virtee/sev-snp-measure's
// tests/test_guest.py), run through the library.
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cloister/common/encoding.h"
#include "cloister/common/file.h"
#include "cloister/snp_measure/measure.h"
#include "testing/testdata.h"

namespace cloister::snp_measure {
namespace {

using nlohmann::json;
using cloister::testing::shared_testdata;

struct VectorCase {
  std::string name;
  json spec;
};

void PrintTo(const VectorCase& c, std::ostream* os) { *os << c.name; }

// Loaded at registration; a missing shared file becomes a failing case, not a crash.
std::vector<VectorCase> load_cases() {
  std::vector<VectorCase> cases;
  try {
    std::ifstream in(shared_testdata("snp-measure/expected.json"));
    json doc = json::parse(in);
    for (const json& c : doc.at("cases")) cases.push_back({c.at("name").get<std::string>(), c});
  } catch (const std::exception& e) {
    cases.push_back({"expected_json_unreadable", json{{"load_error", e.what()}}});
  }
  return cases;
}

std::optional<std::string> opt_string(const json& spec, const char* key) {
  if (!spec.contains(key) || spec.at(key).is_null()) return std::nullopt;
  return spec.at(key).get<std::string>();
}

std::uint64_t hex_int(const std::string& text) { return std::stoull(text, nullptr, 16); }

class SnpMeasureVector : public ::testing::TestWithParam<VectorCase> {};

TEST_P(SnpMeasureVector, Reproduces) {
  const json& spec = GetParam().spec;
  ASSERT_FALSE(spec.contains("load_error")) << spec.at("load_error").get<std::string>();

  const std::string fixture = spec.at("ovmf").get<std::string>();
  if (!spec.at("fixture_included").get<bool>()) {
    // The SVSM fixtures (4.56 MiB) are not shipped; expected.json says so. Should they appear,
    // this case stops skipping and must reproduce.
    auto dir = shared_testdata("snp-measure");
    if (!std::filesystem::exists(dir / fixture)) {
      GTEST_SKIP() << fixture << " is not shipped in snp-measure/ (fixture_included: false)";
    }
  }

  LaunchConfig config;
  auto mode = parse_mode(spec.at("mode").get<std::string>());
  ASSERT_TRUE(mode) << mode.error().to_string();
  config.mode = *mode;
  config.vcpus = spec.at("vcpus").get<unsigned>();
  if (auto sig = opt_string(spec, "vcpu_sig")) config.vcpu_signature = static_cast<std::uint32_t>(hex_int(*sig));
  if (auto type = opt_string(spec, "vcpu_type")) {
    // The named CPU model and the listed signature must agree.
    auto sig = vcpu_type_signature(*type);
    ASSERT_TRUE(sig) << sig.error().to_string();
    EXPECT_EQ(*sig, config.vcpu_signature);
  }
  config.guest_features = hex_int(spec.at("guest_features").get<std::string>());
  auto vmm = parse_vmm_type(spec.at("vmm_type").get<std::string>());
  ASSERT_TRUE(vmm) << vmm.error().to_string();
  config.vmm = *vmm;

  auto firmware = read_file(shared_testdata("snp-measure/" + fixture));
  ASSERT_TRUE(firmware) << firmware.error().to_string();
  config.firmware = *firmware;

  // "" = an empty file (upstream passes /dev/null), null = not given.
  if (auto kernel = opt_string(spec, "kernel")) {
    ASSERT_TRUE(kernel->empty()) << "vectors only use empty kernel files";
    auto initrd = opt_string(spec, "initrd");
    ASSERT_TRUE(!initrd || initrd->empty());
    config.kernel = kernel_hashes({}, {}, opt_string(spec, "append"));
  }

  if (auto svsm = opt_string(spec, "svsm")) {
    auto bytes = read_file(shared_testdata("snp-measure/" + *svsm));
    ASSERT_TRUE(bytes) << bytes.error().to_string();
    config.svsm = *bytes;
    config.ovmf_vars_size = spec.at("ovmf_vars_size").get<std::uint64_t>();
  }

  if (auto expected_ovmf = opt_string(spec, "expected_ovmf_hash")) {
    auto digest = snp_firmware_digest(config.firmware);
    ASSERT_TRUE(digest) << digest.error().to_string();
    EXPECT_EQ(hex_encode(*digest), *expected_ovmf);
  }
  if (auto seed = opt_string(spec, "snp_ovmf_hash")) {
    auto raw = hex_decode(*seed);
    ASSERT_TRUE(raw && raw->size() == 48);
    Sha384 s{};
    std::copy(raw->begin(), raw->end(), s.begin());
    config.snp_ovmf_hash = s;
  }

  auto result = measure(config);
  if (auto error = opt_string(spec, "expected_error")) {
    ASSERT_FALSE(result) << "expected failure, got " << hex_encode(result->digest);
    EXPECT_EQ(result.error().message(), *error);
    return;
  }
  ASSERT_TRUE(result) << result.error().to_string();

  if (auto expected = opt_string(spec, "expected_measurement")) {
    EXPECT_EQ(hex_encode(result->digest), *expected);
  }
  if (spec.contains("expected_vmsa_files")) {
    // One VMSA per vCPU is what --dump-vmsa writes as vmsa<N>.bin (checked end to end in the CLI tests).
    EXPECT_EQ(result->vmsas.size(), spec.at("expected_vmsa_files").size());
    for (const Bytes& page : result->vmsas) EXPECT_EQ(page.size(), 4096u);
  }
  // Only the dump cases and the error cases may lack a measurement.
  EXPECT_TRUE(spec.contains("expected_measurement") && (!spec.at("expected_measurement").is_null() ||
                                                        spec.contains("expected_vmsa_files")));
}

INSTANTIATE_TEST_SUITE_P(ExpectedJson, SnpMeasureVector, ::testing::ValuesIn(load_cases()),
                         [](const ::testing::TestParamInfo<VectorCase>& info) { return info.param.name; });

// The SEV-ES dump case asserts no measurement upstream; its note says it equals the 4-vCPU case.
TEST(SnpMeasureVectors, SevEsDumpCaseMatchesMultipleVcpuCase) {
  std::ifstream in(shared_testdata("snp-measure/expected.json"));
  json doc = json::parse(in);
  std::optional<std::string> four_vcpus;
  for (const json& c : doc.at("cases")) {
    if (c.at("name") == "test_seves_with_multiple_vcpus") four_vcpus = c.at("expected_measurement").get<std::string>();
  }
  ASSERT_TRUE(four_vcpus);
  LaunchConfig config;
  config.mode = Mode::seves;
  config.vcpus = 4;
  config.vcpu_signature = *vcpu_type_signature("EPYC-v4");
  config.guest_features = 0x21;
  config.firmware = *read_file(shared_testdata("snp-measure/ovmf_AmdSev_suffix.bin"));
  config.kernel = kernel_hashes({}, {}, std::nullopt);
  auto m = measure(config);
  ASSERT_TRUE(m) << m.error().to_string();
  EXPECT_EQ(hex_encode(m->digest), *four_vcpus);
  ASSERT_EQ(m->vmsas.size(), 4u);
  // SEV-ES ignores --guest-features: its VMSAs carry SEV_FEATURES 0 (offset 0x3B0).
  for (const Bytes& page : m->vmsas) {
    for (std::size_t i = 0; i < 8; ++i) EXPECT_EQ(page[0x3B0 + i], 0);
  }
}

}  // namespace
}  // namespace cloister::snp_measure
