// A fixed-size, insert-only hash table shared by concurrent evaluations. Internal.
//
// Entries are published by compare-and-swap into open-addressed slots and never change or move
// while the table lives, so a lookup takes no lock and an entry's address is stable. A key whose
// probe sequence is full is not stored: callers keep their own copy then, so a full table costs
// speed, never answers. The slot array is made on first use (most policies never need one).
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

namespace cloister::rego::detail {

template <typename Entry>
class PublishTable {
 public:
  // `slots` is rounded up to a power of two; `probes` slots are tried per key.
  PublishTable(std::size_t slots, std::size_t probes) : probes_(probes) {
    std::size_t n = 16;
    while (n < slots) n *= 2;
    mask_ = n - 1;
  }
  ~PublishTable() {
    std::atomic<Entry*>* slots = slots_.load(std::memory_order_acquire);
    if (!slots) return;
    for (std::size_t i = 0; i <= mask_; ++i) delete slots[i].load(std::memory_order_relaxed);
    delete[] slots;
  }
  PublishTable(const PublishTable&) = delete;
  PublishTable& operator=(const PublishTable&) = delete;

  // The entry for a key with hash `hash` that `matches` accepts, or nullptr: no lookup of
  // find_or_add for the same key has published it yet.
  template <typename Match>
  Entry* find(std::size_t hash, Match&& matches) const {
    std::atomic<Entry*>* slots = slots_.load(std::memory_order_acquire);
    if (!slots) return nullptr;
    for (std::size_t i = 0; i < probes_; ++i) {
      Entry* e = slots[(hash + i) & mask_].load(std::memory_order_acquire);
      if (!e) return nullptr;  // (entries are never removed: the key would be here)
      if (matches(*e)) return e;
    }
    return nullptr;
  }

  // The entry for a key with hash `hash`: the first in its probe sequence that `matches`
  // accepts, else a new one from `make()` (a std::unique_ptr<Entry>) published at the first free
  // slot; nullptr when the sequence is full. `make` runs at most once, and only when a slot is
  // free; if another thread fills that slot first, its entry is examined like any other (and
  // ours published further on, or dropped).
  template <typename Match, typename Make>
  Entry* find_or_add(std::size_t hash, Match&& matches, Make&& make) {
    std::atomic<Entry*>* slots = table();
    std::unique_ptr<Entry> fresh;
    for (std::size_t i = 0; i < probes_; ++i) {
      std::atomic<Entry*>& slot = slots[(hash + i) & mask_];
      Entry* e = slot.load(std::memory_order_acquire);
      if (!e) {
        if (!fresh) fresh = make();
        if (slot.compare_exchange_strong(e, fresh.get(), std::memory_order_acq_rel, std::memory_order_acquire))
          return fresh.release();
        // Another thread published an entry here first: `e` is now that entry.
      }
      if (matches(*e)) return e;
    }
    return nullptr;
  }

 private:
  std::atomic<Entry*>* table() {
    std::atomic<Entry*>* slots = slots_.load(std::memory_order_acquire);
    if (slots) [[likely]]
      return slots;
    auto made = std::make_unique<std::atomic<Entry*>[]>(mask_ + 1);  // value-initialised: all empty
    if (slots_.compare_exchange_strong(slots, made.get(), std::memory_order_acq_rel, std::memory_order_acquire))
      return made.release();
    return slots;  // another thread made the array first
  }

  std::size_t mask_;
  std::size_t probes_;
  std::atomic<std::atomic<Entry*>*> slots_{nullptr};
};

}  // namespace cloister::rego::detail
