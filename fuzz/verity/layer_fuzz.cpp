// The verified-layer reader on untrusted bytes: gzip detection and inflation, tar header
// validation, padding and hashing. Any input must end in a LayerInfo or an error, never a crash;
// an accepted layer must be consistent with what was fed.
#include <cstdint>
#include <cstdlib>

#include "cloister/verity/layer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto r = cloister::verity::hash_layer(cloister::ByteView(data, size), "fuzz");
  if (r) {
    // Invariants of an accepted layer.
    if (r->padded_size % 4096 != 0 || r->padded_size < r->tar_size || r->padded_size - r->tar_size >= 4096 ||
        r->tar_size % 512 != 0 || r->root_hash.size() != 32 || r->params.data_blocks != r->padded_size / 4096) {
      std::abort();
    }
    if (r->compression == cloister::verity::LayerCompression::none && r->tar_size != size) std::abort();
  }
  return 0;
}
