#include "io.h"

#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "cloister/common/file.h"

namespace cloister::verity::detail {

Status pread_full(int fd, std::span<std::uint8_t> out, std::uint64_t offset, const std::filesystem::path& name) {
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(Errc::io, "cannot read " + name.string() + " at offset " + std::to_string(offset + done) + ": " +
                                      errno_string(errno));
    }
    if (n == 0) {
      return make_error(Errc::invalid_argument, name.string() + " ends at offset " + std::to_string(offset + done) +
                                                    ", expected " + std::to_string(out.size() - done) + " more bytes");
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

Status pwrite_full(int fd, ByteView data, std::uint64_t offset, const std::filesystem::path& name) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(Errc::io, "cannot write " + name.string() + " at offset " + std::to_string(offset + done) +
                                      ": " + errno_string(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

Result<FileInfo> file_info(int fd, const std::filesystem::path& name) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return make_error(Errc::io, "cannot stat " + name.string() + ": " + errno_string(errno));
  FileInfo info;
  info.id = {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
  if (S_ISREG(st.st_mode)) {
    info.size = static_cast<std::uint64_t>(st.st_size);
  } else if (S_ISBLK(st.st_mode)) {
    info.block_device = true;
    if (::ioctl(fd, BLKGETSIZE64, &info.size) != 0) {
      return make_error(Errc::io, "cannot get the size of " + name.string() + ": " + errno_string(errno));
    }
  } else {
    return make_error(Errc::invalid_argument, name.string() + " is not a regular file or block device");
  }
  return info;
}

Status for_each_data_chunk(int fd, const std::filesystem::path& name, const Params& params, unsigned threads,
                           const ProgressFn& progress, const ChunkVisitor& visit,
                           const std::atomic<std::uint64_t>* stop_before) {
  const std::uint64_t bs = params.data_block_size;
  const std::uint64_t chunk_blocks = std::max<std::uint64_t>(1, kChunkBytes / bs);
  const std::uint64_t chunks = (params.data_blocks + chunk_blocks - 1) / chunk_blocks;
  const std::uint64_t total = params.data_blocks * bs;
  threads = static_cast<unsigned>(std::min<std::uint64_t>(effective_threads(threads), std::max<std::uint64_t>(chunks, 1)));

  std::atomic<std::uint64_t> done_bytes{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::optional<Error> first_error;

  auto worker = [&](unsigned t, bool report) {
    auto record = [&](Error e) {
      std::lock_guard lock(error_mutex);
      if (!first_error) first_error = std::move(e);
      failed = true;
    };
    auto hasher = BlockHasher::create(params.hash, params.salt);
    if (!hasher) return record(std::move(hasher.error()));
    std::unique_ptr<std::uint8_t[]> buffer(new std::uint8_t[chunk_blocks * bs]);
    auto last_report = std::chrono::steady_clock::now();
    for (std::uint64_t c = t; c < chunks && !failed; c += threads) {
      std::uint64_t first = c * chunk_blocks;
      if (stop_before && first >= stop_before->load()) break;
      std::uint64_t n = std::min(chunk_blocks, params.data_blocks - first);
      std::span<std::uint8_t> chunk(buffer.get(), n * bs);
      if (auto st = pread_full(fd, chunk, first * bs, name); !st) return record(std::move(st.error()));
      if (auto st = visit(first, chunk, *hasher); !st) return record(std::move(st.error()));
      done_bytes += n * bs;
      if (report && progress) {
        auto now = std::chrono::steady_clock::now();
        if (now - last_report >= std::chrono::milliseconds(200)) {
          progress(done_bytes.load(), total);
          last_report = now;
        }
      }
    }
  };

  std::vector<std::thread> pool;
  try {
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker, t, false);
  } catch (const std::exception& e) {
    failed = true;
    for (auto& th : pool) th.join();
    return make_error(Errc::internal, std::string("cannot start hashing thread: ") + e.what());
  }
  worker(0, true);
  for (auto& th : pool) th.join();
  if (first_error) return forward_error(std::move(*first_error));
  if (progress) progress(done_bytes.load(), total);
  return {};
}

}  // namespace cloister::verity::detail
