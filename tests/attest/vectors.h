// The shared SEV-SNP vectors (../shared/testdata/snp) and the field values MANIFEST.md lists for
// them, plus loaders used by several suites.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include "cloister/attest/report.h"
#include "cloister/attest/verify.h"
#include "cloister/common/bytes.h"
#include "cloister/common/file.h"
#include "testing/testdata.h"

namespace cloister::attest::testvec {

// 2025-07-01T00:00:00Z: inside every vector certificate's validity (the VLEK expired 2025-12-10).
inline constexpr std::time_t kNow = 1751328000;

struct Vector {
  const char* report;
  const char* leaf;
  const char* chain;
  Product product;
  std::uint32_t version;
  SigningKey signer;
  std::uint64_t policy;
  std::uint32_t vmpl;
  const char* measurement;
  const char* report_data;
  std::uint64_t reported_tcb;
  TcbVersion tcb;
  const char* chip_id;
  std::uint32_t guest_svn;
  std::uint64_t platform_info;
  std::uint32_t signer_info;
  Cpuid cpuid;
  std::uint64_t current_tcb, committed_tcb, launch_tcb;
  FirmwareVersion current, committed;  // build, minor, major
};

// MANIFEST.md, "Reports: expected key fields" and the per-report notes.
inline const std::vector<Vector>& vectors() {
  static const std::vector<Vector> v = {
      {"snp/go-sev-guest/attestation.bin", "snp/go-sev-guest/vcek.der", "snp/go-sev-guest/milan_ask_ark.pem",
       Product::milan, 2, SigningKey::vcek, 0xb0000, 0,
       "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01",
       "01020304050000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
       0x4405000000000002, {0, 2, 0, 5, 68},
       "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d",
       0, 1, 0, {0, 0, 0}, 0x4405000000000002, 0x4405000000000002, 0x4405000000000002, {3, 49, 1}, {3, 49, 1}},
      {"snp/virtee-sev/report_milan.bin", "snp/virtee-sev/vcek_milan.der", "snp/virtee-sev/cert_chain_milan.pem",
       Product::milan, 2, SigningKey::vcek, 0x30000, 0,
       "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f",
       "d447b55d197491bfe15cf298f9de9986b7a7c4be2468b4f6e2d53b71d7c645810b0f2cdfca0040433be063fc1a8293f0f3f8dae7b79fecb3d1cd82bd6a93ebfd",
       0x7308000000000003, {0, 3, 0, 8, 115},
       "d49554ec717f4e5b0fe6b143bcf0405bd7ae304727edf46603f2a76aef6a3abc15d7af38db757039029f0efacfd08e244324884738c72b082e2f87a44d541eb6",
       0, 1, 0, {0, 0, 0}, 0x7308000000000003, 0x7308000000000003, 0x7308000000000003, {4, 52, 1}, {4, 52, 1}},
      {"snp/trustee/test-report.bin", "snp/trustee/test-vcek.der", "snp/trustee/milan_ask_ark_asvk.pem",
       Product::milan, 2, SigningKey::vcek, 0x3001f, 0,
       "a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c23500644e0e692e6be917f9050d3d38c",
       "ec6c52d7533cc2c4f45be7849cf112ab82b2009fe7bd43e71ed08c14400ad7e20000000000000000000000000000000000000000000000000000000000000000",
       0x7308000000000003, {0, 3, 0, 8, 115},
       "c38427a30d4c7af9d96f7a15b97269825a64cb76a2352ffd5d18115d89ad473f8e8c0bcd9a5d9286612bad4aadfb4426205a3b9e4fea82301135a170e477524e",
       4, 1, 0, {0, 0, 0}, 0xce08000000000003, 0x7308000000000003, 0x7308000000000003, {4, 52, 1}, {4, 52, 1}},
      {"snp/trustee/test-vlek-report.bin", "snp/trustee/test-vlek.der", "snp/trustee/milan_ask_ark_asvk.pem",
       Product::milan, 3, SigningKey::vlek, 0x30000, 1,
       "8922ebbdd00ec2c541f36a6e7a82a8773a7accb451ed67bc94e740dbe92c93c4e8c9af857f5ceeb5a493df2a570d7bf0",
       "819770b7e6ea6df8dd8fd4dd146b073c0bf4f3ce5b0977ecac486e3a05ed1bd54e2a7ac1f5d1ca02e7d7d5ef9f73b8574fd9359e3a480d741a4478e8a7bc27ca",
       0xd918000000000004, {0, 4, 0, 24, 217},
       "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
       0, 0x27, 4, {25, 1, 1}, 0xdc18000000000004, 0xdb18000000000004, 0xdb18000000000004, {29, 55, 1}, {29, 55, 1}},
      {"snp/trustee/e2e-genoa/report.bin", "snp/trustee/e2e-genoa/vcek.der", "snp/amd-roots/genoa/ask_ark.pem",
       Product::genoa, 3, SigningKey::vcek, 0x30000, 0,
       "6a6519d757e68c2e939c9dbbbc1828498e8de35d2766dd05f1a2cca5059d0cf4ae62a36d75c837974dd50b315506e73e",
       "7e7320889600c7ac133aea7b896c51f41026002982292a7369559796999c1bf929eef3ff23c46e858f0b1982f9a92b17c51b578d958cde6b0c92978f150cf9b0",
       0x191700000000000a, {0, 10, 0, 23, 25},
       "371c55d6d15cb50f16dc31d39a24e300caaabff4431e841111429b73ec45ad67ea6e687ffae7bf84b54a5d0e6d79b3ef6ff0bd8b4cff94c2163af5c5de8718e8",
       0, 0x25, 0, {25, 160, 2}, 0x191700000000000a, 0x191700000000000a, 0x191700000000000a, {40, 55, 1}, {40, 55, 1}},
  };
  return v;
}

inline Bytes load(const std::string& rel) {
  auto b = read_file(cloister::testing::shared_testdata(rel));
  if (!b) throw std::runtime_error(b.error().to_string());
  return *b;
}

inline std::vector<Bytes> load_chain(const std::string& rel) {
  auto certs = load_certificates(load(rel));
  if (!certs) throw std::runtime_error(certs.error().to_string());
  return *certs;
}

inline Verifier& amd_verifier() {
  static Verifier v = [] {
    auto r = Verifier::create(builtin_amd_anchors());
    if (!r) throw std::runtime_error(r.error().to_string());
    return std::move(*r);
  }();
  return v;
}

}  // namespace cloister::attest::testvec
