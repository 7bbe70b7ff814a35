// File helpers: whole-file reads, full reads/writes on descriptors, and atomic replacement.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "cloister/common/bytes.h"
#include "cloister/common/fd.h"
#include "cloister/common/result.h"

namespace cloister {

// Errors name the path and the OS reason.
Result<Bytes> read_file(const std::filesystem::path& path);
Result<std::string> read_text_file(const std::filesystem::path& path);

Result<UniqueFd> open_read(const std::filesystem::path& path);
// Reads until `buffer` is full or EOF; returns the byte count (short only at EOF). Retries EINTR.
Result<std::size_t> read_full(int fd, std::span<std::uint8_t> buffer);
Status write_full(int fd, ByteView data);

// Writes to a temporary file beside `target` and renames it over `target` on commit(), so readers
// see either the old file or the complete new one. Destroyed without commit(): the temporary is
// removed and `target` is untouched.
class AtomicFile {
 public:
  static Result<AtomicFile> create(const std::filesystem::path& target, unsigned mode = 0644);

  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&& other) noexcept;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  int fd() const noexcept { return fd_.get(); }
  const std::filesystem::path& target() const noexcept { return target_; }
  Status write(ByteView data);
  // fsync, rename over the target, fsync the directory.
  Status commit();

 private:
  AtomicFile(std::filesystem::path target, std::filesystem::path temp, UniqueFd fd)
      : target_(std::move(target)), temp_(std::move(temp)), fd_(std::move(fd)) {}
  void discard() noexcept;

  std::filesystem::path target_;
  std::filesystem::path temp_;
  UniqueFd fd_;
  bool committed_ = false;
};

Status write_file_atomic(const std::filesystem::path& target, ByteView data, unsigned mode = 0644);

// "strerror(errno)" captured now, for messages.
std::string errno_string(int err);

}  // namespace cloister
