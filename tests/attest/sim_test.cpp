#include "cloister/attest/sim.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <functional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cloister/attest/attester.h"
#include "cloister/attest/evidence.h"
#include "cloister/attest/policy.h"
#include "cloister/common/encoding.h"
#include "cloister/common/fd.h"
#include "cloister/common/file.h"
#include "sev_guest_abi.h"
#include "sim_state.h"
#include "testing/testdata.h"

namespace cloister::attest {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
namespace fs = std::filesystem;

using testsim::kInit;
using testsim::kNow;
using testsim::state;

SimLaunch launch() {
  SimLaunch l;
  l.measurement.fill(0x4d);
  l.host_data.fill(0x68);
  return l;
}

ReportData rd(std::uint8_t v) {
  ReportData r{};
  r.fill(v);
  return r;
}

Verifier sim_verifier() { return std::move(*Verifier::create({state().fw.anchor()})); }

TEST(SimState, FilesAndPermissions) {
  fs::path dir = state().dir.path() / "sim";
  for (const char* key : {"ark.key", "ask.key", "chips/0/vcek.key", "chips/1/vcek.key"}) {
    struct stat st {};
    ASSERT_EQ(::stat((dir / key).c_str(), &st), 0) << key;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << key;
  }
  for (const char* f : {"ark.pem", "ask.pem", "state.json", "chips/0/vcek.der", "chips/0/chip.json"})
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  // Reloading gives the same chip; chip 1 is another chip.
  auto again = SimFirmware::load(dir, 0);
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(again->chip_id(), state().fw.chip_id());
  EXPECT_EQ(again->tcb(), (TcbVersion{0, 7, 0, 21, 200}));
  auto chip1 = SimFirmware::load(dir, 1);
  ASSERT_TRUE(chip1);
  EXPECT_NE(chip1->chip_id(), state().fw.chip_id());
  // A second init over an existing state is refused.
  SimInitOptions o;
  o.now = kInit;
  auto re = SimFirmware::init(dir, o);
  ASSERT_FALSE(re);
  EXPECT_EQ(re.error().code(), Errc::failed_precondition);
}

TEST(SimState, ChainHasAmdShape) {
  auto anchor = load_sim_anchor(state().dir.path() / "sim");
  ASSERT_TRUE(anchor);
  EXPECT_EQ(anchor->kind, RootKind::sim);
  EXPECT_EQ(anchor->product, Product::genoa);
  auto ext = parse_cert_extensions(state().fw.vcek_der());
  ASSERT_TRUE(ext);
  EXPECT_EQ(ext->product_name, "Genoa");
  EXPECT_EQ(ext->snp_spl, 21);
  EXPECT_EQ(ext->ucode_spl, 200);
  EXPECT_EQ(ext->hwid->size(), 64u);
}

TEST(Sim, ReportsVerifyOnlyWhenTheSimRootIsTrusted) {
  auto report = state().fw.report(launch(), rd(0x11), {});
  ASSERT_TRUE(report) << report.error().to_string();
  auto parsed = parse_report(*report);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->version, 3u);
  EXPECT_EQ(parsed->cpuid_product(), Product::genoa);

  auto amd = Verifier::create(builtin_amd_anchors());
  ASSERT_TRUE(amd);
  std::vector<Bytes> ask_only{state().fw.ask_der()};
  auto no = amd->verify_chain(state().fw.vcek_der(), ask_only, {kNow, std::nullopt});
  ASSERT_FALSE(no);
  EXPECT_THAT(no.error().message(), StartsWith("[chain]"));
  // Presenting the sim ARK as if it were a root does not make it one.
  std::vector<Bytes> with_ark{state().fw.ask_der(), state().fw.ark_der()};
  auto no2 = amd->verify_chain(state().fw.vcek_der(), with_ark, {kNow, std::nullopt});
  ASSERT_FALSE(no2);
  EXPECT_THAT(no2.error().message(), StartsWith("[untrusted-root]"));

  auto anchors = builtin_amd_anchors();
  anchors.push_back(state().fw.anchor());
  auto both = Verifier::create(anchors);
  ASSERT_TRUE(both);
  auto chain = both->verify_chain(state().fw.vcek_der(), {}, {kNow, std::nullopt});
  ASSERT_TRUE(chain) << chain.error().to_string();
  EXPECT_EQ(chain->root, RootKind::sim);
  auto v = both->verify_report(*report, *chain);
  ASSERT_TRUE(v) << v.error().to_string();
  // Mechanism says "valid sim report"; default policy still refuses the sim root.
  auto denied = appraise(*v, AppraisalPolicy{});
  ASSERT_FALSE(denied);
  EXPECT_THAT(denied.error().message(), StartsWith("[policy:root]"));
  AppraisalPolicy p;
  p.allow_sim_root = true;
  p.host_data = Bytes(32, 0x68);
  p.measurements = {Bytes(48, 0x4d)};
  p.report_data = Bytes(64, 0x11);
  auto claims = appraise(*v, p);
  ASSERT_TRUE(claims) << claims.error().to_string();
  EXPECT_EQ(claims->tee, "snp-sim");
  std::string want_host;
  for (int i = 0; i < 32; ++i) want_host += "68";
  EXPECT_EQ(claims->host_data, want_host);
}

TEST(Sim, VcekWithADifferentTcbIsRejected) {
  auto report = state().fw.report(launch(), rd(1), {});
  ASSERT_TRUE(report);
  auto other = state().fw.issue_vcek(TcbVersion{0, 7, 0, 22, 200}, kNow);  // same key, snp 22
  ASSERT_TRUE(other);
  Verifier v = sim_verifier();
  auto chain = v.verify_chain(*other, {}, {kNow, std::nullopt});
  ASSERT_TRUE(chain) << chain.error().to_string();
  auto r = v.verify_report(*report, *chain);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message(), StartsWith("[tcb-mismatch]"));
}

TEST(Sim, ChipIdMaskSigningKeyAndProductBindings) {
  Verifier v = sim_verifier();
  auto chain = v.verify_chain(state().fw.vcek_der(), {}, {kNow, std::nullopt});
  ASSERT_TRUE(chain);
  Report base = *parse_report(*state().fw.report(launch(), rd(2), {}));

  Report masked = base;
  masked.signer_info.mask_chip_key = true;
  masked.chip_id.fill(0);
  EXPECT_TRUE(v.verify_report(*state().fw.sign(masked), *chain));  // MASK_CHIP_KEY: chip_id not compared

  Report wrong_chip = base;
  wrong_chip.chip_id[0] ^= 1;
  auto c = v.verify_report(*state().fw.sign(wrong_chip), *chain);
  ASSERT_FALSE(c);
  EXPECT_THAT(c.error().message(), StartsWith("[chip-id-mismatch]"));

  Report vlek = base;
  vlek.signer_info.signing_key = SigningKey::vlek;
  auto k = v.verify_report(*state().fw.sign(vlek), *chain);
  ASSERT_FALSE(k);
  EXPECT_THAT(k.error().message(), StartsWith("[signing-key-mismatch]"));

  Report milan = base;
  milan.cpuid = Cpuid{0x19, 0x01, 0x01};
  auto p = v.verify_report(*state().fw.sign(milan), *chain);
  ASSERT_FALSE(p);
  EXPECT_THAT(p.error().message(), StartsWith("[product-mismatch]"));
}

TEST(Sim, RevokedAskIsRejected) {
  Verifier v = sim_verifier();
  ASSERT_TRUE(v.verify_chain(state().fw.vcek_der(), {}, {kNow, std::nullopt}));
  auto crl = state().fw.ark_crl({2}, kNow);
  ASSERT_TRUE(crl) << crl.error().to_string();
  ASSERT_TRUE(v.add_crl(*crl));
  auto chain = v.verify_chain(state().fw.vcek_der(), {}, {kNow, std::nullopt});
  ASSERT_FALSE(chain);
  EXPECT_THAT(chain.error().message(), StartsWith("[revoked]"));
  // A CRL revoking something else leaves the chain valid.
  Verifier v2 = sim_verifier();
  ASSERT_TRUE(v2.add_crl(*state().fw.ark_crl({77}, kNow)));
  EXPECT_TRUE(v2.verify_chain(state().fw.vcek_der(), {}, {kNow, std::nullopt}));
  // A CRL not signed by a trusted root is refused.
  auto amd = Verifier::create(builtin_amd_anchors());
  EXPECT_FALSE(amd->add_crl(*crl));
}

TEST(SimServer, GuestGetsReportsWithTheHostsLaunchValues) {
  cloister::testing::TempDir tmp;
  auto fw = SimFirmware::load(state().dir.path() / "sim");
  ASSERT_TRUE(fw);
  auto server = SimServer::start(std::move(*fw), launch(), tmp / "snp.sock");
  ASSERT_TRUE(server) << server.error().to_string();
  auto attester = make_sim_attester(tmp / "snp.sock");
  auto out = attester->get_report(rd(0x33), true);
  ASSERT_TRUE(out) << out.error().to_string();
  auto ev = evidence_from_cert_table(out->report, out->cert_table);
  ASSERT_TRUE(ev);
  Verifier v = sim_verifier();
  auto chain = v.verify_chain(ev->leaf, ev->chain, {kNow, std::nullopt});
  ASSERT_TRUE(chain) << chain.error().to_string();
  auto rep = v.verify_report(ev->report, *chain);
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->report.report_data, rd(0x33));
  EXPECT_EQ(rep->report.host_data, launch().host_data);
  EXPECT_EQ(rep->report.measurement, launch().measurement);
  EXPECT_EQ((*server)->served(), 1u);

  // A guest that tries to choose HOST_DATA (or anything but report_data) is refused.
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, (tmp / "snp.sock").c_str());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
  ASSERT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  for (auto [field, value] : {std::pair{"host_data", std::string(64, 'f')}, {"measurement", std::string(96, 'f')},
                               {"ovmf", std::string("OVMF.fd")}, {"vmpl", std::string("1")}}) {
    nlohmann::json req{{"op", "report"}, {"report_data", std::string(128, '0')}, {field, value}};
    ASSERT_TRUE(sim_write_frame(fd.get(), req.dump()));
    auto resp = sim_read_frame(fd.get());
    ASSERT_TRUE(resp);
    auto j = nlohmann::json::parse(*resp);
    EXPECT_FALSE(j["ok"].get<bool>()) << field;
    EXPECT_THAT(j["error"].get<std::string>(), HasSubstr(std::string("'") + field + "' is not accepted"));
  }
  for (const char* bad : {R"({"op":"report","report_data":"00"})", R"({"op":"launch"})", "[1,2]", "garbage"}) {
    ASSERT_TRUE(sim_write_frame(fd.get(), bad));
    auto r = sim_read_frame(fd.get());
    ASSERT_TRUE(r);
    EXPECT_FALSE(nlohmann::json::parse(*r)["ok"].get<bool>()) << bad;
  }
  EXPECT_EQ((*server)->served(), 1u);
  (*server)->stop();
  EXPECT_FALSE(fs::exists(tmp / "snp.sock"));
  EXPECT_FALSE(attester->get_report(rd(1), false));
}

// The expected.json case a simulated launch reproduces: SNP, direct boot of an empty kernel and
// initrd with a command line, DebugSwap (../shared/testdata/snp-measure, from sev-snp-measure).
struct MeasureCase {
  snp_measure::LaunchSpec spec;
  std::array<std::uint8_t, 48> expected{};
};

MeasureCase measure_case(const std::string& name) {
  auto doc = nlohmann::json::parse(*read_text_file(cloister::testing::shared_testdata("snp-measure/expected.json")));
  for (const auto& c : doc["cases"]) {
    if (c["name"] != name) continue;
    MeasureCase m;
    m.spec.mode = c["mode"];
    m.spec.vcpus = c["vcpus"].get<unsigned>();
    m.spec.vcpu_type = c["vcpu_type"].get<std::string>();
    m.spec.guest_features = c["guest_features"];
    m.spec.vmm_type = c["vmm_type"];
    m.spec.ovmf = cloister::testing::shared_testdata("snp-measure/" + c["ovmf"].get<std::string>()).string();
    for (auto [key, field] : {std::pair{"kernel", &m.spec.kernel}, {"initrd", &m.spec.initrd}, {"append", &m.spec.append}}) {
      // '' in the vectors is an empty file for kernel/initrd (upstream passes /dev/null).
      if (c[key].is_null()) continue;
      std::string v = c[key];
      *field = (v.empty() && std::string(key) != "append") ? "/dev/null" : v;
    }
    auto raw = hex_decode(c["expected_measurement"].get<std::string>());
    std::copy(raw->begin(), raw->end(), m.expected.begin());
    return m;
  }
  ADD_FAILURE() << "no case " << name;
  return {};
}

TEST(SimLaunchMeasurement, ReportCarriesTheMeasurementOfTheLaunchedImages) {
  for (const char* name : {"test_snp_default", "test_snp_without_kernel_feature_snp_only",
                           "test_snp_with_multiple_vcpus_default"}) {
    SCOPED_TRACE(name);
    MeasureCase c = measure_case(name);
    auto m = sim_launch_measurement(c.spec);
    ASSERT_TRUE(m) << m.error().to_string();
    EXPECT_EQ(*m, c.expected);
  }

  // Served by the simulator and verified with the sim root trusted and the expected measurement.
  MeasureCase c = measure_case("test_snp_default");
  SimLaunch l = launch();
  l.measurement = *sim_launch_measurement(c.spec);
  cloister::testing::TempDir tmp;
  auto server = SimServer::start(std::move(*SimFirmware::load(state().dir.path() / "sim")), l, tmp / "snp.sock");
  ASSERT_TRUE(server) << server.error().to_string();
  auto out = make_sim_attester(tmp / "snp.sock")->get_report(rd(0x5a), true);
  ASSERT_TRUE(out) << out.error().to_string();
  auto ev = evidence_from_cert_table(out->report, out->cert_table);
  ASSERT_TRUE(ev);
  Verifier v = sim_verifier();
  auto chain = v.verify_chain(ev->leaf, ev->chain, {kNow, std::nullopt});
  ASSERT_TRUE(chain);
  auto rep = v.verify_report(ev->report, *chain);
  ASSERT_TRUE(rep) << rep.error().to_string();
  AppraisalPolicy policy;
  policy.allow_sim_root = true;
  policy.measurements.push_back(Bytes(c.expected.begin(), c.expected.end()));
  EXPECT_TRUE(appraise(*rep, policy));
  // A different launch (one more vCPU) does not match what the verifier expects.
  c.spec.vcpus = 2;
  auto other = sim_launch_measurement(c.spec);
  ASSERT_TRUE(other);
  EXPECT_NE(*other, c.expected);
}

TEST(SimLaunchMeasurement, RejectsUnusableLaunches) {
  MeasureCase c = measure_case("test_snp_default");
  struct Bad {
    std::function<void(snp_measure::LaunchSpec&)> change;
    std::string message;
  };
  const std::vector<Bad> cases{
      {[](auto& s) { s.mode = "sev"; }, "SEV-SNP launches only"},
      {[](auto& s) { s.mode = "seves"; }, "SEV-SNP launches only"},
      {[](auto& s) { s.mode = "tdx"; }, "--mode"},
      {[](auto& s) { s.vcpus.reset(); }, "missing --vcpus"},
      {[](auto& s) { s.vcpu_type = "Skylake"; }, "--vcpu-type"},
      {[](auto& s) { s.ovmf = "/nonexistent/OVMF.fd"; }, "/nonexistent/OVMF.fd"},
      {[](auto& s) { s.kernel.reset(); }, "--kernel required when using --initrd"},
      {[](auto& s) { s.guest_features = "lots"; }, "--guest-features"},
      // OvmfX64 has no SNP_KERNEL_HASHES section: a direct-boot launch cannot be measured.
      {[](auto& s) { s.ovmf = cloister::testing::shared_testdata("snp-measure/ovmf_OvmfX64_suffix.bin").string(); },
       "SNP_KERNEL_HASHES"},
  };
  for (const Bad& b : cases) {
    snp_measure::LaunchSpec spec = c.spec;
    b.change(spec);
    auto m = sim_launch_measurement(spec);
    ASSERT_FALSE(m) << b.message;
    EXPECT_THAT(m.error().to_string(), HasSubstr(b.message));
  }
}

TEST(Attesters, DetectionAndHonestFailures) {
  cloister::testing::TempDir tmp;
  DetectOptions o;
  o.sev_guest = tmp / "no-sev-guest";
  o.tsm_root = tmp / "no-tsm";
  auto none = detect_attester(o);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), Errc::not_found);
  EXPECT_THAT(none.error().message(), HasSubstr("no-sev-guest"));
  EXPECT_THAT(none.error().message(), HasSubstr("no simulator socket configured"));

  auto fw = SimFirmware::load(state().dir.path() / "sim");
  auto server = SimServer::start(std::move(*fw), launch(), tmp / "s.sock");
  ASSERT_TRUE(server);
  o.sim_socket = tmp / "s.sock";
  auto sim = detect_attester(o);
  ASSERT_TRUE(sim);
  EXPECT_EQ((*sim)->kind(), "sim");
  // The device, when present, wins over the simulator.
  ::close(::open((tmp / "fake-sev-guest").c_str(), O_CREAT | O_WRONLY, 0600));
  o.sev_guest = tmp / "fake-sev-guest";
  auto dev = detect_attester(o);
  ASSERT_TRUE(dev);
  EXPECT_EQ((*dev)->kind(), "sev-guest");
  // ...and a regular file is not an SNP guest device: the ioctl fails and says so.
  auto r = (*dev)->get_report(rd(0), false);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message(), HasSubstr("SNP_GET_REPORT"));

  EXPECT_EQ(make_sev_guest_attester(tmp / "absent")->get_report(rd(0), false).error().code(), Errc::not_found);
  // configfs-tsm on a plain directory: the entry has no kernel attributes, which is reported.
  fs::create_directories(tmp / "tsm");
  auto t = make_tsm_attester(tmp / "tsm")->get_report(rd(0), false);
  ASSERT_FALSE(t);
  EXPECT_THAT(t.error().message(), HasSubstr("privlevel"));
}

// Linux include/uapi/linux/sev-guest.h and SEV-SNP ABI 56860 MSG_REPORT_REQ/MSG_REPORT_RSP.
TEST(SevGuestAbi, Layouts) {
  using namespace sevguest;
  EXPECT_EQ(sizeof(snp_report_req), 96u);
  EXPECT_EQ(offsetof(snp_report_req, vmpl), 64u);
  EXPECT_EQ(offsetof(snp_report_req, rsvd), 68u);
  EXPECT_EQ(sizeof(snp_report_resp), 4000u);
  EXPECT_EQ(sizeof(msg_report_rsp_hdr), 32u);
  EXPECT_EQ(offsetof(msg_report_rsp_hdr, report_size), 4u);
  EXPECT_EQ(sizeof(snp_ext_report_req), 112u);
  EXPECT_EQ(offsetof(snp_ext_report_req, certs_address), 96u);
  EXPECT_EQ(offsetof(snp_ext_report_req, certs_len), 104u);
  EXPECT_EQ(sizeof(snp_guest_request_ioctl), 32u);
  EXPECT_EQ(offsetof(snp_guest_request_ioctl, exitinfo2), 24u);
  // _IOWR('S', nr, 32-byte struct): dir 3 << 30, size << 16, type 'S' << 8, nr.
  EXPECT_EQ(kSnpGetReport, (3ul << 30) | (sizeof(snp_guest_request_ioctl) << 16) | ('S' << 8) | 0);
  EXPECT_EQ(kSnpGetExtReport, (3ul << 30) | (sizeof(snp_guest_request_ioctl) << 16) | ('S' << 8) | 2);
}

}  // namespace
}  // namespace cloister::attest
