// Fuzzes the OVMF footer-table / SEV-metadata parser and the measurement paths that consume its
// results (hashes-table placement, metadata sections, VMSA reset addresses).
#include <cstddef>
#include <cstdint>

#include "cloister/snp_measure/measure.h"
#include "firmware.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cloister::snp_measure;
  cloister::ByteView input(data, size);
  auto fw = FirmwareImage::parse(input);
  if (!fw) return 0;
  (void)fw->sev_es_reset_eip();
  (void)fw->sev_hashes_table_gpa();
  (void)fw->svsm_entry_eip();

  LaunchConfig config;
  config.firmware.assign(input.begin(), input.end());
  config.vcpus = 2;
  config.vcpu_signature = 0x800f12;
  config.kernel = kernel_hashes({}, {}, "console=ttyS0");
  for (Mode mode : {Mode::snp, Mode::seves, Mode::sev}) {
    config.mode = mode;
    (void)measure(config);
  }
  config.mode = Mode::snp;
  config.vmm = VmmType::ec2;
  config.kernel.reset();
  (void)measure(config);
  return 0;
}
