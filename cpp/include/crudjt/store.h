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
#include <utility>
#include <vector>

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
// Subjects ("log out everywhere"): 1..kMaxSubjectBytes bytes (UTF-8 in
// practice; the engine treats them as opaque bytes and stores only a keyed
// hash of them).
constexpr size_t kMaxSubjectBytes = 128;
// A session handle (ListSubject / RevokeHandle): the 22-character base64url
// (no padding) of the token's 16-byte tree key. It names a record without
// revealing the token (the tree key is a keyed one-way hash of it).
constexpr size_t kHandleChars = 22;
// Largest number of ops ApplyBatch takes in one call.
constexpr size_t kMaxBatchOps = 4096;

struct ReadResult {
  std::string payload;        // the bytes given to Create/Update
  int64_t ttl_left_ms = kNoLimit;  // > 0 while alive, or kNoLimit
  int64_t reads_left = kNoLimit;   // after this read's decrement, or kNoLimit
};

// One live session of a subject (ListSubject).
struct SessionInfo {
  std::string handle;              // kHandleChars base64url chars
  int64_t ttl_left_ms = kNoLimit;  // > 0, or kNoLimit
  int64_t reads_left = kNoLimit;   // >= 1, or kNoLimit
};

// One operation of ApplyBatch. The views must stay valid during the call.
// kPut stores a record under a token the CALLER chose (22..kMaxTokenChars
// base64url characters, e.g. an express-session id), creating it or
// replacing a live one whole (payload, limits, subject); applied = true when
// it replaced a live token. The caller is responsible for the token's
// entropy; only its keyed hash is stored, as for every token.
enum class BatchOpType : uint8_t { kCreate = 0, kRead = 1, kUpdate = 2, kRemove = 3, kTouch = 4, kPut = 5 };
struct BatchOp {
  BatchOpType type = BatchOpType::kRead;
  std::string_view token;         // read, update, remove, touch, put
  std::string_view payload;       // create, update, put
  int64_t ttl_ms = kNoLimit;      // create, update, touch, put
  int64_t max_reads = kNoLimit;   // create, update, put
  std::string_view subject;       // create, put; empty = none
};
// The outcome of one BatchOp, as the single-op method would report it.
struct BatchResult {
  // ok; NotFound for a read of a dead token; InvalidArgument for a bad op;
  // IOError/Closed when the batch's log write or sync failed.
  Status status;
  std::string token;     // create: the new token
  ReadResult read;       // read: the result when status is ok
  bool applied = false;  // update / remove / touch: the token was live
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
  // Token records sealed under a key other than the current secret (exact,
  // kept across restarts). They are readable while that key is listed in
  // Options::previous_secret_keys; ResealPrevious() or the next Update moves
  // them to the current key. 0 = no previous key is needed any more.
  uint64_t previous_key_records = 0;
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
  // (1..kMaxReads) or kNoLimit. subject: empty (none) or 1..kMaxSubjectBytes
  // bytes naming the token's owner for RevokeSubject/ListSubject (stored as
  // a keyed hash only). On ok, *token holds the 22-char token and the write
  // is durable per Options::durability.
  virtual Status Create(std::string_view payload, int64_t ttl_ms, int64_t max_reads,
                        std::string* token, std::string_view subject = {}) = 0;

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

  // Sliding expiry: a live token's lifetime becomes ttl_ms (1..kMaxTtlMs, or
  // kNoLimit = never expires) from now; payload, read counter and subject
  // are untouched and nothing is re-sealed. *touched = false (status ok) for
  // an unknown/expired/exhausted/malformed token; never revives one. Logged
  // and durable like any write. InvalidArgument: empty token, bad ttl_ms.
  virtual Status Touch(std::string_view token, int64_t ttl_ms, bool* touched) = 0;

  // Deletes every live token created with `subject` (1..kMaxSubjectBytes,
  // else InvalidArgument), with work proportional to that subject's tokens
  // (not to the store). *removed = how many live tokens were deleted. Runs
  // in batches of a few hundred per mutex hold.
  virtual Status RevokeSubject(std::string_view subject, uint64_t* removed) = 0;

  // The live (not expired, not exhausted) tokens of `subject`, as handles.
  // *sessions is cleared first. InvalidArgument as RevokeSubject.
  virtual Status ListSubject(std::string_view subject, std::vector<SessionInfo>* sessions) = 0;

  // Deletes the live token behind a handle from ListSubject. *removed =
  // false (status ok) when it is not live or the handle is malformed (not
  // kHandleChars base64url characters of a 16-byte key).
  virtual Status RevokeHandle(std::string_view handle, bool* removed) = 0;

  // Runs `ops` in order under one hold of the store's mutex, as if each were
  // called alone (a later op sees an earlier one's effect), with all their
  // log records appended by ONE write, one wake-up of the flush thread at
  // most, and, with Durability::kSync, one fdatasync for the whole batch.
  // Sealing and hashing happen before the mutex is taken. *results gets one
  // entry per op (its own Status). Returns non-ok only when no op ran:
  // Closed, or InvalidArgument for more than kMaxBatchOps ops. A log write
  // that fails fails every op that wanted to write (nothing of them is
  // applied); read-only ops keep their results.
  virtual Status ApplyBatch(const std::vector<BatchOp>& ops, std::vector<BatchResult>* results) = 0;

  // Re-seals under the current key every token record still sealed under a
  // previous key (StoreStats::previous_key_records), a few hundred records
  // per mutex hold so callers are not blocked for long. *count (optional)
  // receives how many were re-sealed. Records of keys no longer supplied
  // stay as they are (they read as not found).
  virtual Status ResealPrevious(uint64_t* count) = 0;

  // For migration tools: up to `limit` live token records (not subject index
  // entries, not expired ones) with tree key > after_key (16 bytes; empty =
  // from the first key), in key order, as (tree key, sealed record) pairs in
  // the format of store/record.h. *out is cleared first; *done = true when
  // the end of the tree was reached. InvalidArgument: after_key not empty
  // and not 16 bytes, or limit == 0.
  virtual Status ExportRecords(std::string_view after_key, size_t limit,
                               std::vector<std::pair<std::string, std::string>>* out,
                               bool* done) = 0;

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
