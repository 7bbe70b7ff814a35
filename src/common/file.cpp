#include "cloister/common/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace cloister {

void UniqueFd::reset(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

std::string errno_string(int err) { return std::strerror(err); }

namespace {
Error os_error(const std::string& what, const std::filesystem::path& path, int err) {
  return Error(err == ENOENT ? Errc::not_found : Errc::io, what + " " + path.string() + ": " + errno_string(err));
}
}  // namespace

Result<UniqueFd> open_read(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return forward_error(os_error("cannot open", path, errno));
  return UniqueFd(fd);
}

Result<std::size_t> read_full(int fd, std::span<std::uint8_t> buffer) {
  std::size_t done = 0;
  while (done < buffer.size()) {
    ssize_t n = ::read(fd, buffer.data() + done, buffer.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(Errc::io, "read failed: " + errno_string(errno));
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

Status write_full(int fd, ByteView data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(Errc::io, "write failed: " + errno_string(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

Result<Bytes> read_file(const std::filesystem::path& path) {
  auto fd = CLOISTER_TRY(open_read(path));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return forward_error(os_error("cannot stat", path, errno));
  if (S_ISDIR(st.st_mode)) return make_error(Errc::invalid_argument, path.string() + " is a directory");
  Bytes out;
  out.reserve(S_ISREG(st.st_mode) ? static_cast<std::size_t>(st.st_size) : 0);
  std::uint8_t chunk[65536];
  for (;;) {
    auto n = read_full(fd.get(), chunk);
    if (!n) return forward_error(std::move(n.error()).wrap(path.string()));
    out.insert(out.end(), chunk, chunk + *n);
    if (*n < sizeof chunk) break;
  }
  return out;
}

Result<std::string> read_text_file(const std::filesystem::path& path) {
  auto bytes = CLOISTER_TRY(read_file(path));
  return std::string(bytes.begin(), bytes.end());
}

Result<AtomicFile> AtomicFile::create(const std::filesystem::path& target, unsigned mode) {
  std::string pattern = target.string() + ".tmp.XXXXXX";
  int fd = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (fd < 0) return forward_error(os_error("cannot create temporary file for", target, errno));
  ::fchmod(fd, static_cast<mode_t>(mode));
  return AtomicFile(target, pattern, UniqueFd(fd));
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : target_(std::move(other.target_)),
      temp_(std::move(other.temp_)),
      fd_(std::move(other.fd_)),
      committed_(std::exchange(other.committed_, true)) {}

AtomicFile& AtomicFile::operator=(AtomicFile&& other) noexcept {
  if (this != &other) {
    discard();
    target_ = std::move(other.target_);
    temp_ = std::move(other.temp_);
    fd_ = std::move(other.fd_);
    committed_ = std::exchange(other.committed_, true);
  }
  return *this;
}

AtomicFile::~AtomicFile() { discard(); }

void AtomicFile::discard() noexcept {
  if (!committed_ && !temp_.empty()) {
    fd_.reset();
    ::unlink(temp_.c_str());
  }
  committed_ = true;
}

Status AtomicFile::write(ByteView data) {
  auto st = write_full(fd_.get(), data);
  if (!st) return forward_error(std::move(st.error()).wrap(target_.string()));
  return {};
}

Status AtomicFile::commit() {
  if (committed_) return make_error(Errc::failed_precondition, "atomic file already committed or discarded");
  if (::fsync(fd_.get()) != 0) return forward_error(os_error("cannot sync", temp_, errno));
  if (::close(fd_.release()) != 0) return forward_error(os_error("cannot close", temp_, errno));
  if (::rename(temp_.c_str(), target_.c_str()) != 0) {
    int err = errno;
    ::unlink(temp_.c_str());
    committed_ = true;
    return forward_error(os_error("cannot rename into", target_, err));
  }
  committed_ = true;
  auto dir = target_.has_parent_path() ? target_.parent_path() : std::filesystem::path(".");
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);  // best effort: the rename is durable once the directory is
    ::close(dfd);
  }
  return {};
}

Status write_file_atomic(const std::filesystem::path& target, ByteView data, unsigned mode) {
  auto file = CLOISTER_TRY(AtomicFile::create(target, mode));
  CLOISTER_RETURN_IF_ERROR(file.write(data));
  return file.commit();
}

}  // namespace cloister
