// INSECURE simulated SEV-SNP firmware, for machines without SEV-SNP (CI, laptops, this host).
//
// It keeps a root chain shaped like AMD's (sim ARK RSA-4096 self-signed, RSASSA-PSS SHA-384 salt
// 48 → sim ASK → one P-384 sim VCEK per simulated chip, with the TCB/hwID extensions) in a state
// directory and signs version-3 reports with it. All private keys sit on the host in that
// directory, so a simulated report proves nothing about isolation: verifiers reject it unless the
// sim root is explicitly trusted (tee "snp-sim").
//
// Host side: SimServer fixes one sandbox's launch values (measurement, HOST_DATA, guest policy,
// VMPL) for a unix socket; the measurement is computed from the launched images
// (sim_launch_measurement, the same calculation as `cloister attest measure`); the guest side (SimAttester in attester.h) can only send report_data.
// Protocol: docs/snp-sim-protocol.md.
#pragma once

#include <array>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <memory>

#include "cloister/attest/report.h"
#include "cloister/attest/verify.h"
#include "cloister/common/bytes.h"
#include "cloister/common/result.h"
#include "cloister/snp_measure/measure.h"

namespace cloister::attest {

struct SimInitOptions {
  Product product = Product::genoa;
  TcbVersion tcb{0, 10, 0, 23, 25};  // fmc used on Turin only
  unsigned chips = 1;
  std::time_t now = 0;  // start of the certificates' validity
};

// What the host fixes at launch for one sandbox.
struct SimLaunch {
  std::array<std::uint8_t, 48> measurement{};
  std::array<std::uint8_t, 32> host_data{};
  std::uint64_t policy = 0x30000;  // SMT allowed, reserved bit 17 set, debug off (56860 guest policy)
  std::uint32_t vmpl = 0;
  std::uint32_t guest_svn = 0;
  std::array<std::uint8_t, 48> id_key_digest{};
  std::array<std::uint8_t, 48> author_key_digest{};
  std::array<std::uint8_t, 16> family_id{};
  std::array<std::uint8_t, 16> image_id{};
};

// MEASUREMENT for launching `images`, computed as the PSP would during SNP_LAUNCH_UPDATE (via
// cloister_snp_measure), so a simulated sandbox reports what it actually launched rather than a
// value the host typed in. SEV-SNP modes only ("snp", "snp:svsm"): SEV and SEV-ES have no
// attestation report. Errors name the flag-style field or the image and offset.
Result<std::array<std::uint8_t, 48>> sim_launch_measurement(const snp_measure::LaunchSpec& images);

class SimFirmware {
 public:
  // Creates the state directory (must not already hold a state). Keys are written 0600,
  // every file atomically.
  static Result<SimFirmware> init(const std::filesystem::path& dir, const SimInitOptions& opts);
  static Result<SimFirmware> load(const std::filesystem::path& dir, unsigned chip = 0);

  SimFirmware(SimFirmware&&) noexcept;
  SimFirmware& operator=(SimFirmware&&) noexcept;
  ~SimFirmware();

  Product product() const;
  TcbVersion tcb() const;
  const std::array<std::uint8_t, 64>& chip_id() const;
  const Bytes& ark_der() const;
  const Bytes& ask_der() const;
  const Bytes& vcek_der() const;
  TrustAnchor anchor() const;  // RootKind::sim

  // A version-3 report for `launch` with `report_data`, signed by this chip's VCEK.
  // report_id identifies the launch (random per SimServer).
  Result<Bytes> report(const SimLaunch& launch, const std::array<std::uint8_t, 64>& report_data,
                       const std::array<std::uint8_t, 32>& report_id) const;
  // Re-signs arbitrary report fields (tests: a report whose fields disagree with the VCEK).
  Result<Bytes> sign(Report report) const;
  // The extended-report certificate table: VCEK, ASK, ARK.
  Result<Bytes> cert_table() const;
  // Another VCEK certificate for the same chip key vouching for `tcb` (tests: TCB binding).
  Result<Bytes> issue_vcek(const TcbVersion& tcb, std::time_t now) const;
  // A CRL from the sim ARK revoking the listed serials (ASK serial is 2).
  Result<Bytes> ark_crl(const std::vector<long>& serials, std::time_t now) const;

 private:
  struct Impl;
  explicit SimFirmware(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The sim root (ark.pem, ask.pem) of a state directory, for Verifier::create.
Result<TrustAnchor> load_sim_anchor(const std::filesystem::path& dir);

// Serves report requests for one launched sandbox on a unix socket until stopped.
class SimServer {
 public:
  static Result<std::unique_ptr<SimServer>> start(SimFirmware firmware, SimLaunch launch,
                                                  const std::filesystem::path& socket);
  ~SimServer();  // stops
  void stop();
  const std::filesystem::path& socket() const;
  std::size_t served() const;  // reports produced so far

 private:
  struct Impl;
  explicit SimServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Frame helpers for the protocol (u32 big-endian length + JSON), exposed for the client and tests.
inline constexpr std::size_t kSimMaxFrame = 1 << 20;
Status sim_write_frame(int fd, std::string_view json);
Result<std::string> sim_read_frame(int fd);

}  // namespace cloister::attest
