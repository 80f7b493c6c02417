// Options for Store::Open.
#ifndef CRUDJT_INCLUDE_OPTIONS_H_
#define CRUDJT_INCLUDE_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace crudjt {

enum class Durability {
  // An acknowledged write has been write()n to the log file before the call
  // returns. A *process* crash (SIGKILL, abort, OOM kill) loses nothing: the
  // bytes live in the kernel's page cache and recovery replays them. A
  // *machine* crash (power loss, kernel panic) may lose the writes of the
  // last flush_interval_ms, because the log is fsync()ed by the background
  // flush thread in groups. Recovery always yields a prefix of history.
  kBackground = 0,
  // fsync() (fdatasync) the log before acknowledging. A machine crash loses
  // nothing that was acknowledged. Costs one fsync per write (or per batch).
  kSync = 1,
};

struct Options {
  Durability durability = Durability::kBackground;

  // How often the flush thread fsyncs the log (group commit) and checks
  // whether a checkpoint is due. Must be > 0.
  uint32_t flush_interval_ms = 500;

  // Checkpoint (write dirty pages to the page file, then reset the log) when
  // the log grows past this many bytes, or the dirty pages exceed half the
  // page cache or an eighth of the tree (at least 2 MiB), whichever comes
  // first. Writers wait for a checkpoint in flight when the dirty pages
  // reach a quarter of the tree, so that create+delete churn leaves the page
  // file bounded (measured: 1.2-1.3x its size after the load) even when the
  // disk is slower than the writers. Clean Close() always checkpoints.
  uint64_t checkpoint_log_bytes = 32ull << 20;

  // Upper bound on the memory held by cached pages (clean + dirty). The
  // store keeps working with any number of tokens; it only reads more.
  size_t page_cache_bytes = 64ull << 20;

  // The expiry sweeper runs once shortly after Open() (if sweep_on_open)
  // and then every sweep_interval_ms; 0 disables the periodic pass.
  // Expired tokens are invisible to readers at once whatever these say.
  bool sweep_on_open = true;
  uint64_t sweep_interval_ms = 24ull * 3600 * 1000;

  // Key rotation: raw secrets (32, 48 or 64 bytes each) that the store was
  // used with before the current one. Token records sealed under one of
  // them stay readable (with their own payload, never another's) and are
  // re-sealed under the current secret by their next Update or by
  // Store::ResealPrevious(). Tokens keep their tree keys across rotation:
  // the index key is fixed at the store's first secret and kept in the page
  // file wrapped (AEAD) under the current secret's key-wrapping subkey.
  // Once StoreStats::previous_key_records is 0 they may be dropped.
  std::vector<std::string> previous_secret_keys;

  // Test hook: the wall clock in milliseconds since the Unix epoch. Expiry
  // times are stored as absolute wall-clock milliseconds so they survive a
  // restart. Null means CLOCK_REALTIME.
  std::function<int64_t()> TEST_clock_ms;
};

}  // namespace crudjt

#endif  // CRUDJT_INCLUDE_OPTIONS_H_
