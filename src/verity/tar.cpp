// Tar header layout: POSIX.1-2017 pax "ustar Interchange Format" (name 0/100, mode 100/8, uid
// 108/8, gid 116/8, size 124/12, mtime 136/12, chksum 148/8, typeflag 156, linkname 157/100,
// magic 257/6, version 263/2, uname, gname, devmajor, devminor, prefix 345/155); GNU tar's
// "ustar  \0" magic and base-256 numeric fields (high bit of the first byte set).
#include "tar.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace cloister::verity::detail {

namespace {
constexpr std::size_t kBlock = 512;
constexpr std::size_t kMaxPaxHeader = 1u << 20;  // bounded memory on hostile input

bool all_zero(const std::uint8_t* p, std::size_t n) {
  return std::all_of(p, p + n, [](std::uint8_t b) { return b == 0; });
}

// Octal with optional leading spaces and trailing NUL/space terminators, or GNU base-256.
std::optional<std::uint64_t> parse_number(const std::uint8_t* field, std::size_t len) {
  if (field[0] & 0x80) {
    if (field[0] != 0x80) return std::nullopt;  // negative or > 2^63 sizes are not sizes
    std::uint64_t v = 0;
    for (std::size_t i = 1; i < len; ++i) {
      if (v >> 56) return std::nullopt;
      v = (v << 8) | field[i];
    }
    return v;
  }
  std::size_t i = 0;
  while (i < len && field[i] == ' ') ++i;
  std::uint64_t v = 0;
  bool digits = false;
  for (; i < len && field[i] >= '0' && field[i] <= '7'; ++i) {
    if (v >> 60) return std::nullopt;
    v = v * 8 + static_cast<std::uint64_t>(field[i] - '0');
    digits = true;
  }
  for (; i < len; ++i) {
    if (field[i] != ' ' && field[i] != 0) return std::nullopt;
  }
  if (!digits) return std::nullopt;
  return v;
}

std::string field_string(const std::uint8_t* p, std::size_t n) {
  const char* c = reinterpret_cast<const char*>(p);  // tar text fields are bytes
  return std::string(c, strnlen(c, n));
}
}  // namespace

Status TarValidator::feed(ByteView bytes) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    switch (state_) {
      case State::header:
      case State::zero_block: {
        std::size_t take = std::min(kBlock - header_fill_, bytes.size() - i);
        if (header_fill_ == 0) header_offset_ = offset_;
        std::memcpy(header_ + header_fill_, bytes.data() + i, take);
        header_fill_ += take;
        i += take;
        offset_ += take;
        if (header_fill_ == kBlock) {
          header_fill_ = 0;
          CLOISTER_RETURN_IF_ERROR(on_header());
        }
        break;
      }
      case State::data: {
        std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, bytes.size() - i));
        if (collect_pax_) {
          std::size_t payload = static_cast<std::size_t>(std::min<std::uint64_t>(payload_left_, take));
          pax_.append(reinterpret_cast<const char*>(bytes.data() + i), payload);  // pax records are text
          payload_left_ -= payload;
        }
        remaining_ -= take;
        i += take;
        offset_ += take;
        if (remaining_ == 0) {
          state_ = State::header;
          if (collect_pax_) {
            collect_pax_ = false;
            CLOISTER_RETURN_IF_ERROR(on_pax(pax_global_));
          }
        }
        break;
      }
      case State::end: {
        const std::uint8_t* rest = bytes.data() + i;
        const std::uint8_t* nz = std::find_if(rest, bytes.data() + bytes.size(), [](std::uint8_t b) { return b != 0; });
        if (nz != bytes.data() + bytes.size()) {
          return make_error(Errc::parse, "non-zero data after the end-of-archive marker at offset " +
                                             std::to_string(offset_ + static_cast<std::uint64_t>(nz - rest)));
        }
        offset_ += bytes.size() - i;
        i = bytes.size();
        break;
      }
    }
  }
  return {};
}

Status TarValidator::on_header() {
  const std::string where = "tar header at offset " + std::to_string(header_offset_);
  if (all_zero(header_, kBlock)) {
    state_ = state_ == State::zero_block ? State::end : State::zero_block;
    return {};
  }
  if (state_ == State::zero_block) {
    return make_error(Errc::parse, "lone zero block before the " + where + " (corrupt or concatenated archive)");
  }
  // Checksum: the header's bytes summed with the checksum field read as spaces; historic writers
  // summed signed chars, which readers also accept.
  auto stored = parse_number(header_ + 148, 8);
  if (!stored) return make_error(Errc::parse, where + ": checksum field is not a number (not a tar archive?)");
  std::uint64_t unsigned_sum = 0;
  std::int64_t signed_sum = 0;
  for (std::size_t k = 0; k < kBlock; ++k) {
    std::uint8_t b = (k >= 148 && k < 156) ? ' ' : header_[k];
    unsigned_sum += b;
    signed_sum += static_cast<std::int8_t>(b);
  }
  if (*stored != unsigned_sum && static_cast<std::int64_t>(*stored) != signed_sum) {
    return make_error(Errc::parse, where + ": checksum mismatch (stored " + std::to_string(*stored) + ", computed " +
                                       std::to_string(unsigned_sum) + ")");
  }
  const bool ustar = std::memcmp(header_ + 257, "ustar\0" "00", 8) == 0;
  const bool gnu = std::memcmp(header_ + 257, "ustar  \0", 8) == 0;
  const bool v7 = all_zero(header_ + 257, 8);
  if (!ustar && !gnu && !v7) return make_error(Errc::parse, where + ": unknown magic at offset 257");

  entry_name_ = field_string(header_, 100);
  if (ustar) {
    std::string prefix = field_string(header_ + 345, 155);
    if (!prefix.empty()) entry_name_ = prefix + "/" + entry_name_;
  }
  auto size = parse_number(header_ + 124, 12);
  if (!size) return make_error(Errc::parse, where + " ('" + entry_name_ + "'): size field is not a number");
  const char type = static_cast<char>(header_[156]);

  if (type == 'x' || type == 'g') {
    if (*size > kMaxPaxHeader) return make_error(Errc::limit_exceeded, where + ": pax header of " + std::to_string(*size) + " bytes");
    collect_pax_ = true;
    pax_global_ = type == 'g';
    pax_.clear();
    payload_left_ = *size;
  } else if (type == 'L' || type == 'K') {
    // GNU long name/link: the payload names the next entry; only its length matters here.
    if (*size > kMaxPaxHeader) return make_error(Errc::limit_exceeded, where + ": GNU long name of " + std::to_string(*size) + " bytes");
  } else {
    // A pax 'size' record overrides the header field for the entry that follows it.
    if (pax_size_) size = std::exchange(pax_size_, std::nullopt);
    // Links, devices, directories and FIFOs carry no data in the archive; a size here would make
    // readers disagree about where the next header starts.
    if (*size != 0 && (type == '1' || type == '2' || type == '3' || type == '4' || type == '5' || type == '6')) {
      return make_error(Errc::parse, where + " ('" + entry_name_ + "'): entry of type '" + std::string(1, type) +
                                         "' has a non-zero size " + std::to_string(*size));
    }
    ++entries_;
  }
  remaining_ = (*size + kBlock - 1) / kBlock * kBlock;
  if (remaining_ < *size) return make_error(Errc::parse, where + ": size overflows");
  state_ = remaining_ ? State::data : State::header;
  if (remaining_ == 0 && collect_pax_) {
    collect_pax_ = false;
    return on_pax(pax_global_);
  }
  return {};
}

// pax extended header records: "<length> <key>=<value>\n", length counting the whole record.
Status TarValidator::on_pax(bool global) {
  std::string_view rest = pax_;
  const std::string where = "pax header before offset " + std::to_string(offset_);
  while (!rest.empty()) {
    std::size_t len = 0;
    auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), len);
    if (ec != std::errc() || p == rest.data() || *p != ' ' || len > rest.size() || len < 5 || rest[len - 1] != '\n') {
      return make_error(Errc::parse, where + ": malformed record");
    }
    std::string_view record = rest.substr(static_cast<std::size_t>(p - rest.data()) + 1);
    record = record.substr(0, len - static_cast<std::size_t>(p - rest.data()) - 2);
    auto eq = record.find('=');
    if (eq == std::string_view::npos) return make_error(Errc::parse, where + ": record without '='");
    if (record.substr(0, eq) == "size" && !global) {
      std::string_view v = record.substr(eq + 1);
      std::uint64_t size = 0;
      auto [q, ec2] = std::from_chars(v.data(), v.data() + v.size(), size);
      if (ec2 != std::errc() || q != v.data() + v.size() || v.empty()) {
        return make_error(Errc::parse, where + ": bad size record");
      }
      pax_size_ = size;
    }
    rest.remove_prefix(len);
  }
  return {};
}

Status TarValidator::finish() const {
  switch (state_) {
    case State::end:
      if (offset_ % kBlock != 0) {
        return make_error(Errc::parse, "tar length " + std::to_string(offset_) + " is not a multiple of 512");
      }
      return {};
    case State::data:
      return make_error(Errc::parse, "truncated tar: stream ends inside the data of '" + entry_name_ + "' at offset " +
                                         std::to_string(offset_) + " (" + std::to_string(remaining_) + " bytes missing)");
    case State::header:
    case State::zero_block:
      if (header_fill_ != 0) {
        return make_error(Errc::parse, "truncated tar: stream ends inside a header at offset " + std::to_string(offset_));
      }
      return make_error(Errc::parse, "truncated tar: no end-of-archive marker (two zero blocks) before offset " +
                                         std::to_string(offset_));
  }
  return {};
}

}  // namespace cloister::verity::detail
