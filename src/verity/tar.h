// Internal: a streaming tar validator. cloister parses the 512-byte headers itself rather than
// through libarchive because the verified layer must be exactly the byte stream it validated:
// libarchive reads ahead through its own buffers and accepts archives that simply stop at an entry
// boundary, so neither "where did the archive end" nor "is there anything after it" could be
// answered for the bytes being hashed. Here every byte is accounted for: headers (checksum, magic,
// size fields), entry data (sizes from the header or a pax 'size' record), the two-zero-block end
// marker, and a tail that must be zero (tar record padding).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "cloister/common/bytes.h"
#include "cloister/common/result.h"

namespace cloister::verity::detail {

class TarValidator {
 public:
  // Consumes the next bytes of the uncompressed stream. Errors are Errc::parse and give the offset.
  Status feed(ByteView bytes);
  // The stream has ended: it must have ended after the end-of-archive marker.
  Status finish() const;

  std::uint64_t entries() const noexcept { return entries_; }
  std::uint64_t offset() const noexcept { return offset_; }

 private:
  enum class State { header, data, zero_block, end };
  Status on_header();
  Status on_pax(bool global);

  State state_ = State::header;
  std::uint64_t offset_ = 0;          // bytes consumed
  std::uint8_t header_[512]{};
  std::size_t header_fill_ = 0;
  std::uint64_t header_offset_ = 0;
  std::uint64_t remaining_ = 0;       // entry data + padding still to skip
  std::uint64_t payload_left_ = 0;    // of which entry data (for pax collection)
  bool collect_pax_ = false;
  bool pax_global_ = false;
  std::string pax_;
  std::optional<std::uint64_t> pax_size_;
  std::string entry_name_;
  std::uint64_t entries_ = 0;
};

}  // namespace cloister::verity::detail
