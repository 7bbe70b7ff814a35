// Storage for the AST nodes of one compiled policy (or one prepared query). Internal.
//
// Compiling the 60 KB Kata policy makes about 11,000 terms; one heap allocation each (and its free
// when the resolver replaces a node) was a large share of compile time. The nodes stay
// std::shared_ptr, so the evaluator and the tests read them as before, but their memory comes from
// this bump allocator, which releases everything at once when the owner goes away.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <type_traits>
#include <utility>
#include <vector>

namespace cloister::rego {

class NodeArena final : public std::pmr::memory_resource {
 public:
  NodeArena() = default;
  NodeArena(const NodeArena&) = delete;
  NodeArena& operator=(const NodeArena&) = delete;
  ~NodeArena() override {
    for (void* b : blocks_) ::operator delete(b);
  }

  // Freeing a node returns nothing to the arena: nodes the compiler drops stay until the owner
  // dies. The owner must therefore outlive every shared_ptr made here (the control block with the
  // reference counts lives in the arena) — declare the arena before the nodes' holders.
  // Allocation is single-threaded: only the compile that owns the arena makes nodes in it.
  template <typename T, typename... A>
  std::shared_ptr<T> make(A&&... args) {
    return std::allocate_shared<T>(std::pmr::polymorphic_allocator<T>(this), std::forward<A>(args)...);
  }

 private:
  // Fixed blocks well under glibc's mmap threshold (128 KiB): they come from the heap and reuse
  // the memory a previous policy released. Growing blocks (std::pmr::monotonic_buffer_resource)
  // reach sizes that glibc maps fresh for every compile, and faulting those pages in cost more
  // than the allocations saved.
  static constexpr std::size_t kBlock = 32 * 1024;

  void* do_allocate(std::size_t bytes, std::size_t align) override {
    // `align` is a power of two (memory_resource's contract): a mask, not two divisions.
    std::size_t pad = (0 - reinterpret_cast<std::uintptr_t>(cur_)) & (align - 1);
    if (pad + bytes > left_) {
      if (bytes > kBlock / 4) return own_block(bytes);  // rare: keep the current block's tail
      cur_ = static_cast<std::byte*>(own_block(kBlock));
      left_ = kBlock;
      pad = 0;  // operator new aligns to max_align_t, enough for every node type
    }
    std::byte* p = cur_ + pad;
    cur_ = p + bytes;
    left_ -= pad + bytes;
    return p;
  }
  void do_deallocate(void*, std::size_t, std::size_t) override {}
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }

  void* own_block(std::size_t bytes) {
    // Room first, so the push below cannot throw and leak the block.
    if (blocks_.size() == blocks_.capacity()) blocks_.reserve(blocks_.empty() ? 16 : 2 * blocks_.size());
    void* b = ::operator new(bytes);
    blocks_.push_back(b);
    return b;
  }

  std::vector<void*> blocks_;
  std::byte* cur_ = nullptr;
  std::size_t left_ = 0;
};

// Allocator of the lists inside nodes (a term's items, a body's expressions): from the arena when
// the node was made in one (about 5,000 lists for the Kata policy, each a heap allocation before),
// else from the heap. Arena memory is released with the arena, so growing a list leaves its old
// block there until then.
template <typename T>
class NodeAllocator {
 public:
  using value_type = T;
  // A list moved into a node brings its storage along; assigning a copy keeps the target's.
  using propagate_on_container_move_assignment = std::true_type;
  using propagate_on_container_copy_assignment = std::false_type;
  using propagate_on_container_swap = std::true_type;

  NodeAllocator() noexcept = default;  // the heap
  explicit NodeAllocator(NodeArena* arena) noexcept : arena_(arena) {}
  template <typename U>
  NodeAllocator(const NodeAllocator<U>& o) noexcept : arena_(o.arena()) {}  // NOLINT: rebinding

  T* allocate(std::size_t n) {
    if (arena_) return static_cast<T*>(arena_->allocate(n * sizeof(T), alignof(T)));
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t) noexcept {
    if (!arena_) ::operator delete(p);
  }
  // Copies of a node's list go to the heap: the arena belongs to the compile that made the node
  // (single-threaded), and a copy may be made later, by anyone.
  NodeAllocator select_on_container_copy_construction() const noexcept { return NodeAllocator(); }

  NodeArena* arena() const noexcept { return arena_; }
  template <typename U>
  bool operator==(const NodeAllocator<U>& o) const noexcept {
    return arena_ == o.arena();
  }

 private:
  NodeArena* arena_ = nullptr;
};

// A node in `arena` when there is one, otherwise on the heap (tests and one-off parses that keep
// the nodes beyond any owner). A new node (not a copy) with lists that can live in the arena
// (a use_arena member) gets them there too.
template <typename T, typename... A>
std::shared_ptr<T> make_node(NodeArena* arena, A&&... args) {
  if (arena) {
    auto n = arena->make<T>(std::forward<A>(args)...);
    if constexpr (sizeof...(A) == 0 && requires(T& x) { x.use_arena(arena); }) n->use_arena(arena);
    return n;
  }
  return std::make_shared<T>(std::forward<A>(args)...);
}

}  // namespace cloister::rego
