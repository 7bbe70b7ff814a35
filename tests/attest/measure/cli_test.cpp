// `cloister attest measure` end to end: flags, output formats, VMSA dumps and exit codes.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cloister/common/encoding.h"
#include "cloister/common/file.h"
#include "cloister/snp_measure/measure.h"
#include "testing/testdata.h"

namespace cloister::snp_measure {
namespace {

using cloister::testing::bin_path;
using cloister::testing::run_process;
using cloister::testing::shared_testdata;
using cloister::testing::TempDir;

// expected.json test_snp_default / test_snp_without_kernel_default / test_sev / test_seves.
constexpr const char* kSnpDefault =
    "803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977";
constexpr const char* kSnpWithoutKernel =
    "e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af9b63f6e8a1674dbf281a9278a4a2ebe0eed9f22adbcd0e2b";
constexpr const char* kOvmfHash =
    "086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74";
constexpr const char* kSev = "82a3ee5d537c3620628270c292ae30cb40c3c878666a7890ee7ef2a08fb535ff";

std::string ovmf(const char* name = "ovmf_AmdSev_suffix.bin") {
  return shared_testdata(std::string("snp-measure/") + name).string();
}

cloister::testing::ProcessResult measure_cli(std::vector<std::string> args) {
  std::vector<std::string> argv{bin_path("cloister").string(), "attest", "measure"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv);
}

TEST(MeasureCli, SnpDirectBootMatchesVector) {
  auto r = measure_cli({"--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", ovmf(), "--kernel",
                        "/dev/null", "--initrd", "/dev/null", "--append", "console=ttyS0 loglevel=7",
                        "--guest-features", "0x21"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, std::string(kSnpDefault) + "\n");
}

TEST(MeasureCli, CpuSignatureSpellingsAgree) {
  const std::vector<std::string> common{"--mode", "snp", "--vcpus", "1", "--ovmf", ovmf(), "--guest-features", "33"};
  for (std::vector<std::string> cpu : {std::vector<std::string>{"--vcpu-type", "EPYC-v4"},
                                       std::vector<std::string>{"--vcpu-sig", "0x800f12"},
                                       std::vector<std::string>{"--vcpu-sig", "8392466"},
                                       std::vector<std::string>{"--vcpu-family", "23", "--vcpu-model", "1",
                                                                "--vcpu-stepping", "2"}}) {
    auto args = common;
    args.insert(args.end(), cpu.begin(), cpu.end());
    auto r = measure_cli(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, std::string(kSnpWithoutKernel) + "\n") << cpu[0];
  }
}

TEST(MeasureCli, EmptyKernelPathMeansNoKernel) {
  // As in sev-snp-measure: an empty path is "not given", unlike an empty file (/dev/null).
  auto r = measure_cli({"--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", ovmf(),
                        "--guest-features", "0x21", "--kernel", "", "--initrd", ""});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, std::string(kSnpWithoutKernel) + "\n");
}

TEST(MeasureCli, Base64AndVerboseOutput) {
  auto r = measure_cli({"--mode", "sev", "--ovmf", ovmf(), "--kernel", "/dev/null", "--append",
                        "console=ttyS0 loglevel=7", "--output-format", "base64"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, base64_encode(*hex_decode(kSev)) + "\n");
  auto v = measure_cli({"--mode", "sev", "--ovmf", ovmf(), "--kernel", "/dev/null", "--initrd", "/dev/null",
                        "--append", "console=ttyS0 loglevel=7", "-v"});
  ASSERT_EQ(v.exit_code, 0) << v.err;
  EXPECT_EQ(v.out, std::string("Calculated sev guest measurement: ") + kSev + "\n");
}

TEST(MeasureCli, OvmfHashModeAndPrecomputedHash) {
  auto h = measure_cli({"--mode", "snp:ovmf-hash", "--ovmf", ovmf()});
  ASSERT_EQ(h.exit_code, 0) << h.err;
  EXPECT_EQ(h.out, std::string(kOvmfHash) + "\n");

  // The precomputed hash stands in for the OVMF pages: the measurement is unchanged.
  auto r = measure_cli({"--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", ovmf(), "--kernel",
                        "/dev/null", "--append", "console=ttyS0 loglevel=7", "--guest-features", "0x21",
                        "--snp-ovmf-hash", kOvmfHash});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, std::string(kSnpDefault) + "\n");

  auto bad = measure_cli({"--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", ovmf(),
                          "--snp-ovmf-hash", "abcd"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--snp-ovmf-hash"), std::string::npos) << bad.err;
}

TEST(MeasureCli, KernelFilesAreHashed) {
  TempDir dir;
  const std::string kernel = (dir / "vmlinuz").string();
  const std::string initrd = (dir / "initrd.img").string();
  Bytes k(300000);
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(i * 7);
  ASSERT_TRUE(write_file_atomic(kernel, k));
  ASSERT_TRUE(write_file_atomic(initrd, as_bytes("initrd")));

  LaunchConfig c;
  c.firmware = *read_file(ovmf());
  c.vcpu_signature = 0x800f12;
  c.kernel = kernel_hashes(k, as_bytes("initrd"), "root=/dev/vda");
  auto expected = measure(c);
  ASSERT_TRUE(expected);

  auto r = measure_cli({"--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", ovmf(), "--kernel",
                        kernel, "--initrd", initrd, "--append", "root=/dev/vda"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, hex_encode(expected->digest) + "\n");

  auto missing = measure_cli({"--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", ovmf(),
                              "--kernel", (dir / "absent").string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("absent"), std::string::npos) << missing.err;
}

TEST(MeasureCli, DumpVmsaWritesOnePagePerVcpu) {
  TempDir dir;
  // --dump-vmsa writes into the working directory, as sev-snp-measure does.
  auto r = run_process({"sh", "-c",
                        "cd \"$1\" && exec \"$2\" attest measure --mode snp --vcpus 4 --vcpu-type EPYC-v4 --ovmf "
                        "\"$3\" --guest-features 0x21 --dump-vmsa",
                        "sh", dir.path().string(), bin_path("cloister").string(), ovmf()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (int i = 0; i < 4; ++i) {
    auto page = read_file(dir / ("vmsa" + std::to_string(i) + ".bin"));
    ASSERT_TRUE(page) << i;
    ASSERT_EQ(page->size(), 4096u);
    EXPECT_EQ((*page)[0x3B0], 0x21);  // SEV_FEATURES
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "vmsa4.bin"));
  EXPECT_NE(*read_file(dir / "vmsa0.bin"), *read_file(dir / "vmsa1.bin"));  // BSP vs AP
  EXPECT_EQ(*read_file(dir / "vmsa1.bin"), *read_file(dir / "vmsa3.bin"));
}

TEST(MeasureCli, UnusableInputExitsTwo) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::string fw = ovmf();
  const std::string x64 = ovmf("ovmf_OvmfX64_suffix.bin");
  const std::vector<Case> cases{
      {{"--mode", "snp", "--vcpu-type", "EPYC-v4", "--ovmf", fw}, "missing --vcpus"},
      {{"--mode", "snp", "--vcpus", "1", "--ovmf", fw}, "missing --vcpu-type or --vcpu-sig or --vcpu-family"},
      {{"--mode", "snp", "--vcpus", "1", "--vcpu-type", "Skylake", "--ovmf", fw}, "unknown vCPU type 'Skylake'"},
      {{"--mode", "snp", "--vcpus", "1", "--vcpu-sig", "0xzz", "--ovmf", fw}, "--vcpu-sig"},
      {{"--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", fw, "--initrd", "/dev/null"},
       "--kernel required when using --initrd"},
      {{"--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", fw, "--append", "ro"},
       "--kernel required when using --append"},
      {{"--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", fw, "--vmm-type", "azure"},
       "unknown VMM type 'azure'"},
      {{"--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", fw, "--guest-features", "x"},
       "--guest-features"},
      {{"--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", fw, "--output-format", "json"},
       "--output-format"},
      {{"--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", "/nonexistent/OVMF.fd"},
       "/nonexistent/OVMF.fd"},
      {{"--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", x64, "--kernel", "/dev/null"},
       "Kernel specified but OVMF metadata doesn't include SNP_KERNEL_HASHES section"},
      {{"--mode", "seves", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", x64, "--kernel", "/dev/null"},
       "Kernel specified but OVMF doesn't support kernel/initrd/cmdline measurement"},
      {{"--mode", "sev", "--ovmf", fw, "--dump-vmsa"}, "--dump-vmsa"},
      {{"--mode", "snp:svsm", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", fw}, "requires --svsm"},
      {{"--mode", "snp:svsm", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", fw, "--svsm", fw},
       "requires --vars-size or --vars-file"},
      {{"--mode", "tdx", "--ovmf", fw}, "--mode"},
      {{"--mode", "snp", "--vcpus", "0", "--vcpu-type", "EPYC-v4", "--ovmf", fw}, "--vcpus"},
  };
  for (const Case& c : cases) {
    auto r = measure_cli(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.message << "\n" << r.out;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << "want '" << c.message << "' in: " << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

TEST(MeasureCli, MalformedFirmwareNamesTheOffset) {
  TempDir dir;
  Bytes fw = *read_file(ovmf());
  fw[fw.size() - 50] = 0x05;  // footer table length below its own header size
  fw[fw.size() - 49] = 0x00;
  const std::string path = (dir / "bad.fd").string();
  ASSERT_TRUE(write_file_atomic(path, fw));
  auto r = measure_cli({"--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", path});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.fd"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("offset 0xfce"), std::string::npos) << r.err;
}

TEST(MeasureCli, HelpListsTheFlags) {
  auto r = measure_cli({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* flag : {"--mode", "--vcpus", "--vcpu-type", "--vcpu-sig", "--vcpu-family", "--ovmf", "--kernel",
                           "--initrd", "--append", "--guest-features", "--vmm-type", "--output-format",
                           "--snp-ovmf-hash", "--dump-vmsa", "--svsm", "--vars-size", "EPYC-Genoa"}) {
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace cloister::snp_measure
