// Store: the crudjt token store, one per directory.
//
// A Store owns a directory holding a page file (an encrypted B+tree) and a
// write-ahead log, plus an exclusive OS lock so that only one process at a
// time may open it. Tokens are 22-character base64url strings made of 128
// random bits from the OS CSPRNG; the store never writes a token, a payload
// or the secret key to disk in plaintext (see doc/file_format.md).
//
// Thread-safety: every method may be called from any thread concurrently;
// the store serialises them internally. The background flush thread and the
// expiry sweeper never race with callers.
//
// Limits: see the k* constants below. A violated limit is reported as
// Status::InvalidArgument, never by aborting.
#ifndef CRUDJT_INCLUDE_STORE_H_
#define CRUDJT_INCLUDE_STORE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "crudjt/options.h"
#include "crudjt/status.h"

namespace crudjt {

// Largest payload (the MessagePack bytes of the user's data) accepted.
constexpr size_t kMaxPayloadBytes = 256;
// Length of the tokens this store makes.
constexpr size_t kTokenChars = 22;
// Tokens longer than this can never exist in any crudjt store; lookups of
// them report not-found without touching the tree.
constexpr size_t kMaxTokenChars = 128;
// "No limit" for ttl_ms and max_reads.
constexpr int64_t kNoLimit = -1;
// Largest ttl (ms) and max_reads accepted: 2^53-1 seconds / reads, the
// largest integers JavaScript represents exactly.
constexpr int64_t kMaxSafeInteger = 9007199254740991LL;
constexpr int64_t kMaxTtlMs = kMaxSafeInteger / 1000 * 1000;
constexpr int64_t kMaxReads = kMaxSafeInteger;
// Secret key sizes accepted (raw bytes, after base64 decoding).
constexpr size_t kSecretKeySizes[] = {32, 48, 64};

struct ReadResult {
  std::string payload;        // the bytes given to Create/Update
  int64_t ttl_left_ms = kNoLimit;  // > 0 while alive, or kNoLimit
  int64_t reads_left = kNoLimit;   // after this read's decrement, or kNoLimit
};

struct OpenInfo {
  // True when the store already held data sealed under a different secret
  // key. Open still succeeds; old tokens read as not found.
  bool key_changed = false;
  // Records replayed from the log during recovery, and bytes of torn tail
  // dropped.
  uint64_t recovered_records = 0;
  uint64_t dropped_tail_bytes = 0;
};

struct StoreStats {
  uint64_t live_tokens = 0;        // records in the tree (may include expired
                                   // ones the sweeper has not removed yet)
  uint64_t page_file_bytes = 0;
  uint64_t log_bytes = 0;
  uint64_t pages_total = 0;
  uint64_t pages_free = 0;
  uint64_t cache_bytes = 0;
  int64_t last_fsync_ms = 0;       // wall clock, 0 = never
  int64_t last_checkpoint_ms = 0;  // wall clock, 0 = never
  int64_t last_sweep_ms = 0;       // wall clock, 0 = never
  uint64_t last_sweep_removed = 0;
};

class Store {
 public:
  // Opens (creating if needed) the store in `dir`, recovering from the log.
  // `secret_key` is the raw key (32, 48 or 64 bytes). On success *store owns
  // the open store and the directory lock. Errors:
  //   Busy            another process holds the lock (message names the path
  //                   and the holder's pid when known)
  //   InvalidArgument bad key size or options
  //   NotSupported    the files were written by a newer format version
  //   Corruption      a checksum failed in a page that recovery needed
  //   IOError         the directory cannot be created/opened/locked
  static Status Open(const std::string& dir, std::string_view secret_key,
                     const Options& options, std::unique_ptr<Store>* store,
                     OpenInfo* info = nullptr);

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  // Closes if still open (errors are dropped; call Close() to see them).
  virtual ~Store();

  // Stores `payload` (1..kMaxPayloadBytes bytes) under a new random token.
  // ttl_ms: lifetime (1..kMaxTtlMs) or kNoLimit. max_reads: reads allowed
  // (1..kMaxReads) or kNoLimit. On ok, *token holds the 22-char token and
  // the write is durable per Options::durability.
  virtual Status Create(std::string_view payload, int64_t ttl_ms, int64_t max_reads,
                        std::string* token) = 0;

  // Looks the token up. A live token: ok, *result filled. If the token has a
  // read limit, this read decrements it first (durably) and reports what is
  // left; the read that leaves 0 deletes the token. Unknown, expired,
  // exhausted, malformed (non-base64url, too long) or other-key tokens:
  // NotFound. Empty token: InvalidArgument.
  virtual Status Read(std::string_view token, ReadResult* result) = 0;

  // Replaces payload *and* limits of a live token. *updated = false (status
  // ok) for an unknown/expired/exhausted/malformed token; never revives one.
  virtual Status Update(std::string_view token, std::string_view payload, int64_t ttl_ms,
                        int64_t max_reads, bool* updated) = 0;

  // Deletes a live token. *removed = true iff a live token was removed.
  virtual Status Remove(std::string_view token, bool* removed) = 0;

  // Removes expired records now (the background sweeper calls this too).
  // Callers are not blocked for the whole pass: the sweep works in small
  // batches. *removed (optional) receives the count.
  virtual Status Sweep(uint64_t* removed) = 0;

  // Forces an fsync of the log (and returns its status).
  virtual Status Flush() = 0;

  // Writes dirty pages to the page file and resets the log.
  virtual Status Checkpoint() = 0;

  virtual StoreStats GetStats() = 0;

  // Stops the background threads, checkpoints, fsyncs, releases the lock.
  // Idempotent. After Close every other method returns Closed.
  virtual Status Close() = 0;

 protected:
  Store() = default;
};

}  // namespace crudjt

#endif  // CRUDJT_INCLUDE_STORE_H_
