// `cloister attest ...` end to end, through the real binary.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cloister/common/file.h"
#include "sim_state.h"
#include "testing/testdata.h"

namespace cloister::attest {
namespace {

using ::testing::HasSubstr;
using cloister::testing::bin_path;
using cloister::testing::run_process;
using cloister::testing::shared_testdata;
using cloister::testing::TempDir;

std::string sd(const char* rel) { return shared_testdata(rel).string(); }
std::string cli() { return bin_path("cloister").string(); }
const char* kNowFlag = "--now=2025-07-01T00:00:00Z";

TEST(AttestCli, Help) {
  for (std::vector<std::string> args : {std::vector<std::string>{"attest", "--help"}, {"attest", "verify", "--help"},
                                        {"attest", "show", "--help"}, {"attest", "sim", "--help"}}) {
    args.insert(args.begin(), cli());
    auto r = run_process(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_FALSE(r.out.empty());
  }
  auto r = run_process({cli(), "attest", "verify", "--help"});
  EXPECT_THAT(r.out, HasSubstr("--trust-sim-root"));
  EXPECT_THAT(r.out, HasSubstr("--min-tcb"));
}

TEST(AttestCli, ShowTextAndJson) {
  auto t = run_process({cli(), "attest", "show", sd("snp/trustee/e2e-genoa/report.bin")});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_THAT(t.out, HasSubstr("Genoa"));
  EXPECT_THAT(t.out, HasSubstr("bl=10 tee=0 snp=23 ucode=25"));
  auto j = run_process({cli(), "attest", "show", "--json", sd("snp/go-sev-guest/attestation.bin")});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["version"], 2);
  EXPECT_EQ(doc["policy"]["debug"], true);
  EXPECT_EQ(doc["measurement"], "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01");
  auto missing = run_process({cli(), "attest", "show", "/nonexistent/report.bin"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("/nonexistent/report.bin"));
  auto vcek = run_process({cli(), "attest", "show", sd("snp/go-sev-guest/vcek.der")});
  EXPECT_EQ(vcek.exit_code, 2);
  EXPECT_THAT(vcek.err, HasSubstr("expected 1184"));
}

TEST(AttestCli, VerifyAcceptsAndPrintsClaims) {
  auto r = run_process({cli(), "attest", "verify", sd("snp/virtee-sev/report_milan.bin"), "--vcek",
                        sd("snp/virtee-sev/vcek_milan.der"), "--chain", sd("snp/virtee-sev/cert_chain_milan.pem"),
                        "--product", "milan", "--expect-measurement",
                        "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f",
                        "--expect-host-data", std::string(64, '0'), "--min-tcb", "bl=3,tee=0,snp=8,ucode=115", kNowFlag});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto claims = nlohmann::json::parse(r.out);
  EXPECT_EQ(claims["tee"], "snp");
  EXPECT_EQ(claims["product"], "Milan");
  EXPECT_EQ(claims["reported_tcb"]["microcode"], 115);
}

TEST(AttestCli, VerifyRejectionsExitOneNamingTheCheck) {
  struct Case {
    std::vector<std::string> args;
    const char* reason;
  };
  std::vector<Case> cases = {
      {{sd("snp/go-sev-guest/attestation.bin"), "--vcek", sd("snp/go-sev-guest/vcek.der")}, "[policy:debug]"},
      {{sd("snp/virtee-sev/report_milan.bin"), "--vcek", sd("snp/virtee-sev/vcek_milan.der"), "--expect-host-data",
        std::string(64, '1')},
       "[policy:host-data]"},
      {{sd("snp/trustee/test-vlek-report.bin"), "--vcek", sd("snp/trustee/test-vlek.der"), "--allowed-vmpl", "0"},
       "[policy:vmpl]"},
      {{sd("snp/trustee/e2e-genoa/report.bin"), "--vcek", sd("snp/trustee/e2e-genoa/vcek.der"), "--product", "milan"},
       "[chain]"},
      {{sd("snp/trustee/test-report.bin"), "--vcek", sd("snp/virtee-sev/vcek_milan.der")}, "[report-signature]"},
      {{sd("snp/virtee-sev/report_milan.bin"), "--vcek", sd("snp/virtee-sev/vcek_milan.der"), "--min-tcb", "snp=9"},
       "[policy:min-tcb]"},
  };
  for (auto& c : cases) {
    std::vector<std::string> argv{cli(), "attest", "verify"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    argv.push_back(kNowFlag);
    auto r = run_process(argv);
    EXPECT_EQ(r.exit_code, 1) << c.reason << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.reason));
    EXPECT_TRUE(r.out.empty());
  }
}

TEST(AttestCli, VerifyTimeAndUnusableInput) {
  // The trustee VLEK expired 2025-12-10: rejected today, accepted at a fixed time.
  std::vector<std::string> vlek{cli(), "attest", "verify", sd("snp/trustee/test-vlek-report.bin"), "--vcek",
                                sd("snp/trustee/test-vlek.der"), "--chain", sd("snp/trustee/milan_ask_ark_asvk.pem")};
  auto late = run_process(vlek);
  EXPECT_EQ(late.exit_code, 1);
  EXPECT_THAT(late.err, HasSubstr("[cert-validity]"));
  vlek.push_back(kNowFlag);
  auto ok = run_process(vlek);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(nlohmann::json::parse(ok.out)["signer"], "vlek");

  TempDir tmp;
  Bytes report = *read_file(shared_testdata("snp/virtee-sev/report_milan.bin"));
  report.resize(1000);
  ASSERT_TRUE(write_file_atomic(tmp / "short.bin", report));
  auto s = run_process({cli(), "attest", "verify", (tmp / "short.bin").string(), "--vcek", sd("snp/virtee-sev/vcek_milan.der")});
  EXPECT_EQ(s.exit_code, 2);
  EXPECT_THAT(s.err, HasSubstr("1000 bytes"));
  auto nocert = run_process({cli(), "attest", "verify", sd("snp/virtee-sev/report_milan.bin")});
  EXPECT_EQ(nocert.exit_code, 2);
  auto badnow = run_process({cli(), "attest", "verify", sd("snp/virtee-sev/report_milan.bin"), "--vcek",
                             sd("snp/virtee-sev/vcek_milan.der"), "--now", "yesterday"});
  EXPECT_EQ(badnow.exit_code, 2);
  auto badhex = run_process({cli(), "attest", "verify", sd("snp/virtee-sev/report_milan.bin"), "--vcek",
                             sd("snp/virtee-sev/vcek_milan.der"), "--expect-host-data", "xyz"});
  EXPECT_EQ(badhex.exit_code, 2);
}

TEST(AttestCli, VerifyEvidenceJson) {
  auto r = run_process({cli(), "attest", "verify", "--evidence", sd("kbs/snp-evidence-genoa.json"), kNowFlag});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["product"], "Genoa");
}

TEST(AttestCli, SimulatorFlow) {
  TempDir tmp;
  std::string state = testsim::state().dir.path().string() + "/sim";
  std::string measurement(96, 'a'), host(64, 'b');
  auto rep = run_process({cli(), "attest", "sim", "report", "--state", state, "--measurement", measurement, "--host-data",
                          host, "--report-data", "0102", "--out", (tmp / "r.bin").string(), "--evidence",
                          (tmp / "e.json").string(), "--cert-table", (tmp / "t.bin").string()});
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  EXPECT_THAT(rep.err, HasSubstr("INSECURE"));
  std::string now = "--now=2026-09-23T00:00:00Z";
  // Not trusted by default.
  auto untrusted = run_process({cli(), "attest", "verify", "--evidence", (tmp / "e.json").string(), now});
  EXPECT_EQ(untrusted.exit_code, 1);
  EXPECT_THAT(untrusted.err, HasSubstr("[untrusted-root]"));  // the evidence carries the sim ARK
  auto trusted = run_process({cli(), "attest", "verify", "--evidence", (tmp / "e.json").string(), "--trust-sim-root",
                              state, "--expect-host-data", host, "--expect-report-data", "0102", now});
  ASSERT_EQ(trusted.exit_code, 0) << trusted.err;
  auto claims = nlohmann::json::parse(trusted.out);
  EXPECT_EQ(claims["tee"], "snp-sim");
  EXPECT_EQ(claims["measurement"], measurement);
  auto table = run_process({cli(), "attest", "verify", (tmp / "r.bin").string(), "--cert-table", (tmp / "t.bin").string(),
                            "--trust-sim-root", state, now});
  EXPECT_EQ(table.exit_code, 0) << table.err;
  // A CRL from the (trusted) sim ARK revoking the sim ASK (serial 2) turns the answer into a rejection.
  auto crl = testsim::state().fw.ark_crl({2}, testsim::kNow);
  ASSERT_TRUE(crl);
  ASSERT_TRUE(write_file_atomic(tmp / "ark.crl", *crl));
  auto revoked = run_process({cli(), "attest", "verify", (tmp / "r.bin").string(), "--cert-table",
                              (tmp / "t.bin").string(), "--trust-sim-root", state, "--crl", (tmp / "ark.crl").string(), now});
  EXPECT_EQ(revoked.exit_code, 1);
  EXPECT_THAT(revoked.err, HasSubstr("[revoked]"));
}

// Starts `cloister args...` with stdio on /dev/null and waits for `sock` to appear.
pid_t spawn_server(const std::vector<std::string>& args, const std::string& sock) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_RDWR);
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    std::string bin = cli();
    std::vector<char*> argv{bin.data()};
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  for (int i = 0; pid > 0 && i < 200 && !std::filesystem::exists(sock); ++i) ::usleep(50000);
  return pid;
}

TEST(AttestCli, SimServeAndGuestReport) {
  TempDir tmp;
  std::string state = testsim::state().dir.path().string() + "/sim";
  std::string sock = (tmp / "sandbox.sock").string(), host(64, 'c'), meas(96, 'd');
  pid_t pid = spawn_server({"attest", "sim", "serve", "--state", state, "--socket", sock, "--measurement", meas,
                           "--host-data", host},
                          sock);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(std::filesystem::exists(sock));
  auto rep = run_process({cli(), "attest", "sim", "report", "--socket", sock, "--report-data", "abcd", "--out",
                          (tmp / "r.bin").string(), "--cert-table", (tmp / "t.bin").string()});
  EXPECT_EQ(rep.exit_code, 0) << rep.err;
  // The generic guest command finds no device or configfs-tsm here and falls back to the socket.
  auto detected = run_process({cli(), "attest", "report", "--report-data", "abcd", "--out", (tmp / "d.bin").string(),
                               "--sim-socket", sock, "--device", (tmp / "no-dev").string(), "--tsm-root",
                               (tmp / "no-tsm").string()});
  EXPECT_EQ(detected.exit_code, 0) << detected.err;
  EXPECT_THAT(detected.err, HasSubstr("report from sim"));
  auto none = run_process({cli(), "attest", "report", "--report-data", "abcd", "--out", (tmp / "n.bin").string(),
                           "--device", (tmp / "no-dev").string(), "--tsm-root", (tmp / "no-tsm").string()});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_THAT(none.err, HasSubstr("no SEV-SNP attestation interface"));
  // The guest cannot pass launch values through the client either.
  auto sneaky = run_process({cli(), "attest", "sim", "report", "--socket", sock, "--host-data", std::string(64, '0'),
                             "--out", (tmp / "x.bin").string()});
  EXPECT_EQ(sneaky.exit_code, 2);
  ::kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_FALSE(std::filesystem::exists(sock));
  auto v = run_process({cli(), "attest", "verify", (tmp / "r.bin").string(), "--cert-table", (tmp / "t.bin").string(),
                        "--trust-sim-root", state, "--expect-host-data", host, "--expect-measurement", meas,
                        "--expect-report-data", "abcd", "--now=2026-09-23T00:00:00Z"});
  EXPECT_EQ(v.exit_code, 0) << v.err;
}

std::string expected_measurement(const std::string& case_name) {
  auto doc = nlohmann::json::parse(*read_text_file(shared_testdata("snp-measure/expected.json")));
  for (const auto& c : doc["cases"])
    if (c["name"] == case_name) return c["expected_measurement"];
  ADD_FAILURE() << case_name;
  return "";
}

// The host launches images; the simulator computes MEASUREMENT from them (as `attest measure`
// does), and a verifier expecting the sev-snp-measure vector's value accepts the report.
TEST(AttestCli, SimServeMeasuresTheLaunchedImages) {
  TempDir tmp;
  std::string state = testsim::state().dir.path().string() + "/sim";
  std::string sock = (tmp / "sandbox.sock").string(), host(64, 'e');
  // ../shared/testdata/snp-measure/expected.json "test_snp_default": empty kernel and initrd.
  const std::vector<std::string> images{"--ovmf", sd("snp-measure/ovmf_AmdSev_suffix.bin"), "--vcpus", "1",
                                        "--vcpu-type", "EPYC-v4", "--guest-features", "0x21", "--kernel",
                                        "/dev/null", "--initrd", "/dev/null", "--append", "console=ttyS0 loglevel=7"};
  const std::string expected = expected_measurement("test_snp_default");
  std::vector<std::string> measure_args{cli(), "attest", "measure", "--mode", "snp"};
  measure_args.insert(measure_args.end(), images.begin(), images.end());
  auto measured = run_process(measure_args);
  ASSERT_EQ(measured.exit_code, 0) << measured.err;
  EXPECT_EQ(measured.out, expected + "\n");

  std::vector<std::string> serve{"attest", "sim", "serve", "--state", state, "--socket", sock, "--host-data", host};
  serve.insert(serve.end(), images.begin(), images.end());
  pid_t pid = spawn_server(serve, sock);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(std::filesystem::exists(sock));
  auto rep = run_process({cli(), "attest", "sim", "report", "--socket", sock, "--report-data", "77", "--out",
                          (tmp / "r.bin").string(), "--cert-table", (tmp / "t.bin").string()});
  EXPECT_EQ(rep.exit_code, 0) << rep.err;
  // The guest cannot bring its own images (or measurement) through the client.
  auto sneaky = run_process({cli(), "attest", "sim", "report", "--socket", sock, "--ovmf",
                             sd("snp-measure/ovmf_OvmfX64_suffix.bin"), "--out", (tmp / "x.bin").string()});
  EXPECT_EQ(sneaky.exit_code, 2);
  EXPECT_THAT(sneaky.err, HasSubstr("fixed by the host"));
  ::kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  const std::vector<std::string> verify{cli(), "attest", "verify", (tmp / "r.bin").string(), "--cert-table",
                                        (tmp / "t.bin").string(), "--trust-sim-root", state,
                                        "--now=2026-09-23T00:00:00Z", "--expect-host-data", host};
  auto accept_args = verify;
  accept_args.insert(accept_args.end(), {"--expect-measurement", expected});
  auto accepted = run_process(accept_args);
  ASSERT_EQ(accepted.exit_code, 0) << accepted.err;
  EXPECT_EQ(nlohmann::json::parse(accepted.out)["measurement"], expected);
  // Expecting a different launch (SNPActive only, no DebugSwap) is a rejection naming the check.
  auto reject_args = verify;
  reject_args.insert(reject_args.end(), {"--expect-measurement", expected_measurement("test_snp_guest_feature_snp_only")});
  auto rejected = run_process(reject_args);
  EXPECT_EQ(rejected.exit_code, 1);
  EXPECT_THAT(rejected.err, HasSubstr("[policy:measurement]"));
}

TEST(AttestCli, SimLaunchTakesImagesOrAMeasurementNotBoth) {
  TempDir tmp;
  std::string state = testsim::state().dir.path().string() + "/sim";
  const std::string fw = sd("snp-measure/ovmf_AmdSev_suffix.bin");
  const std::string out = (tmp / "r.bin").string();
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases{
      {{"--ovmf", fw, "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--measurement", std::string(96, 'a')},
       "mutually exclusive"},
      {{"--kernel", "/dev/null", "--measurement", std::string(96, 'a')}, "mutually exclusive"},
      {{}, "give the launched images"},
      {{"--vcpus", "1", "--vcpu-type", "EPYC-v4"}, "--ovmf FILE is required"},
      {{"--ovmf", fw, "--vcpus", "1"}, "missing --vcpu-type"},
      {{"--ovmf", fw, "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--mode", "sev"}, "--mode"},
      {{"--ovmf", "/nonexistent/OVMF.fd", "--vcpus", "1", "--vcpu-type", "EPYC-v4"}, "/nonexistent/OVMF.fd"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args{cli(), "attest", "sim", "report", "--state", state, "--out", out};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = run_process(args);
    EXPECT_EQ(r.exit_code, 2) << c.message;
    EXPECT_THAT(r.err, HasSubstr(c.message));
  }
  auto help = run_process({cli(), "attest", "sim", "serve", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* flag : {"--ovmf", "--vcpus", "--vcpu-type", "--kernel", "--initrd", "--append", "--guest-features",
                           "--measurement", "not both"})
    EXPECT_THAT(help.out, HasSubstr(flag));
  // serve refuses the same way before it creates the socket.
  auto serve = run_process({cli(), "attest", "sim", "serve", "--state", state, "--socket", (tmp / "s.sock").string(),
                            "--ovmf", fw, "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--measurement",
                            std::string(96, 'a')});
  EXPECT_EQ(serve.exit_code, 2);
  EXPECT_THAT(serve.err, HasSubstr("mutually exclusive"));
  EXPECT_FALSE(std::filesystem::exists(tmp / "s.sock"));
  // A local report from images carries the computed measurement.
  auto local = run_process({cli(), "attest", "sim", "report", "--state", state, "--out", out, "--ovmf", fw, "--vcpus",
                            "1", "--vcpu-type", "EPYC-v4", "--guest-features", "0x1"});
  ASSERT_EQ(local.exit_code, 0) << local.err;
  auto shown = run_process({cli(), "attest", "show", out, "--json"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(nlohmann::json::parse(shown.out)["measurement"],
            expected_measurement("test_snp_without_kernel_feature_snp_only"));
}

TEST(AttestCli, SimInitCreatesAState) {
  TempDir tmp;
  auto r = run_process({cli(), "attest", "sim", "init", "--state", (tmp / "s").string(), "--product", "turin", "--tcb",
                        "fmc=1,bl=2,tee=3,snp=4,ucode=5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("INSECURE"));
  EXPECT_TRUE(std::filesystem::exists(tmp / "s" / "state.json"));
  auto again = run_process({cli(), "attest", "sim", "init", "--state", (tmp / "s").string()});
  EXPECT_EQ(again.exit_code, 2);
  // A Turin sim report verifies with its own root (Turin TCB layout, 8-byte hwID).
  auto rep = run_process({cli(), "attest", "sim", "report", "--state", (tmp / "s").string(), "--measurement",
                          std::string(96, '0'), "--out", (tmp / "r.bin").string(), "--cert-table", (tmp / "t.bin").string()});
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  auto v = run_process({cli(), "attest", "verify", (tmp / "r.bin").string(), "--cert-table", (tmp / "t.bin").string(),
                        "--trust-sim-root", (tmp / "s").string(), "--min-tcb", "fmc=1,bl=2,tee=3,snp=4,ucode=5"});
  ASSERT_EQ(v.exit_code, 0) << v.err;
  auto claims = nlohmann::json::parse(v.out);
  EXPECT_EQ(claims["product"], "Turin");
  EXPECT_EQ(claims["reported_tcb"]["fmc"], 1);
}

}  // namespace
}  // namespace cloister::attest
