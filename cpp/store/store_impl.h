// StoreImpl: the Store behind Store::Open. Orchestrates the write-ahead log
// (wal/), the B+tree (btree/) and the crypto (crypto/), and runs two
// background threads: the flush thread (group-commit fsync of the log every
// flush_interval_ms, checkpoints) and the expiry sweeper.
//
// Write path (Create, Update, Remove, Touch, a Read that decrements, and
// ApplyBatch): validate, hash the token and seal the payload WITHOUT the
// mutex; then under mu_: plan the tree changes (a Pending list that later
// ops of the same batch read through), append ALL their log records with
// one pwrite (LogWriter::AddRecords), apply them to the tree, wake the
// flush thread at most once, release. With
// Durability::kSync the log is fdatasync()ed before returning. A log write
// that fails leaves neither the log nor the tree changed (IOError names the
// file); reads keep working. A failure that cannot be undone (truncate after
// a failed write, fsync) becomes the sticky bg_error_ that every later write
// returns, as leveldb's bg_error_.
//
// Checkpoint (flush thread when the log passes checkpoint_log_bytes or the
// dirty pages pass half the page cache; Checkpoint(); Close()):
//   under mu_:    fdatasync the current segment, create segment seq+1
//                 (header fsynced, renamed into place), switch to it, and
//                 BTree::BeginCheckpoint(user meta: replay from seq+1,
//                 next lsn, key check, key id, format version)
//   without mu_:  BTree::WriteCheckpoint (pages, fsync, meta page, fsync)
//   under mu_:    FinishCheckpoint; on success unlink segments < seq+1.
// A crash anywhere in this leaves either the old meta (replay from the old
// segment: it and every later one are still there) or the new one.
//
// Recovery (Open): the tree as of its last committed meta, then every
// segment >= the meta's replay_from in order, lsns consecutive from the
// meta's next_lsn; the last segment's torn tail is truncated away
// (OpenInfo::dropped_tail_bytes). See doc/wal_format.md.
//
// Lock order: checkpoint_mu_ before mu_.
#ifndef CRUDJT_STORE_STORE_IMPL_H_
#define CRUDJT_STORE_STORE_IMPL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "btree/btree.h"
#include "crudjt/store.h"
#include "crypto/aead.h"
#include "crypto/index_hasher.h"
#include "crypto/keys.h"
#include "store/record.h"
#include "store/subject_index.h"
#include "util/file_lock.h"
#include "wal/log_writer.h"

namespace crudjt {

// The store's part of every meta page (BTree user meta, kUserMetaBytes),
// format 2:
//   OFFSET SIZE DESCRIPTION
//        0    4 store format version (kStoreFormatVersion; 0 = new file)
//        4    4 flags: bit 0 = upgraded from format 1 (token records with
//               unmasked keys may exist, see store/subject_index.h)
//        8    8 replay_from: first log segment seq recovery must replay
//       16    8 next_lsn: the lsn the first replayed record must carry
//       24   16 key_check of the current key (crypto/keys.h)
//       40    8 subject index entries in the tree at the checkpoint
//       48    8 token records sealed under a non-current key at the checkpoint
//       56   72 the store's index key wrapped under the current key's
//               wrap_key (crypto/keys.h WrapKey)
// Format 1 (last release; opened and upgraded at the first checkpoint):
//        0    4 version 1 | 4 key_id | 8 replay_from | 8 next_lsn |
//       24   16 key_check; the index key was the current secret's own.
// Log replay keeps the two counters exact: every replayed change adjusts
// them as the live change did.
constexpr uint32_t kStoreFormatVersion = 2;
constexpr size_t kStoreMetaBytes = 128;
constexpr uint32_t kMetaFlagLegacyKeys = 1;

// Checkpoint cadence for the space bound (CheckpointDueLocked): due once
// this many pages are dirty and they are 1/kDirtyTreeFraction of the tree's
// pages; writers wait (WaitForCheckpointRoom) while a checkpoint is in
// flight and the dirty pages reach kStallFactor times that. The page
// file then holds at most the committed tree, the snapshot in flight (<=
// 1/4 of the tree) and the pages rewritten since (<= 1/4): 1.5x the tree
// plus free-list pages, whatever the speed of the disk. Measured: 200k
// create+delete cycles over 40k live tokens leave the page file 1.2-1.3x
// its size at 40k (1.3-1.7x without the wait, on a disk with ~3.5 ms
// fsyncs, where the wait then limits churn to the checkpoint rate). Not
// waiting while free page numbers remained was tried: the dirty set then
// outgrew the bound during one checkpoint, the next snapshot kept that
// many pages pending, and churn on a loaded machine left the file 1.65x.
constexpr uint64_t kMinDirtyPagesForCheckpoint = 512;
constexpr uint64_t kDirtyTreeFraction = 8;
constexpr uint64_t kStallFactor = 2;

// Name of the page file inside the store directory.
constexpr char kPageFileName[] = "crudjt.pages";

class StoreImpl : public Store {
 public:
  StoreImpl(const std::string& dir, const Options& options);
  ~StoreImpl() override;

  // Called once by Store::Open: keys, lock, tree, recovery, threads.
  // previous: Options::previous_secret_keys (the copy in options_ is
  // dropped at construction).
  Status Init(std::string_view secret_key, const std::vector<std::string>& previous,
              OpenInfo* info);

  Status Create(std::string_view payload, int64_t ttl_ms, int64_t max_reads,
                std::string* token, std::string_view subject = {}) override;
  Status Read(std::string_view token, ReadResult* result) override;
  Status Update(std::string_view token, std::string_view payload, int64_t ttl_ms,
                int64_t max_reads, bool* updated) override;
  Status Remove(std::string_view token, bool* removed) override;
  Status Touch(std::string_view token, int64_t ttl_ms, bool* touched) override;
  Status RevokeSubject(std::string_view subject, uint64_t* removed) override;
  Status ListSubject(std::string_view subject, std::vector<SessionInfo>* sessions) override;
  Status RevokeHandle(std::string_view handle, bool* removed) override;
  Status ApplyBatch(const std::vector<BatchOp>& ops, std::vector<BatchResult>* results) override;
  Status ResealPrevious(uint64_t* count) override;
  Status ExportRecords(std::string_view after_key, size_t limit,
                       std::vector<std::pair<std::string, std::string>>* out,
                       bool* done) override;
  Status Sweep(uint64_t* removed) override;
  Status Flush() override;
  Status Checkpoint() override;
  StoreStats GetStats() override;
  Status Close() override;

  // Test hooks.
  struct LogState {
    std::string path;
    uint64_t size;
    uint64_t synced_size;
  };
  // The current log segment: its path, bytes written and bytes fsynced.
  LogState TEST_CurrentLog();
  // See LogWriter::TEST_SetSizeLimit / TEST_FailTruncate (current segment).
  void TEST_SetLogSizeLimit(uint64_t max_bytes);
  void TEST_FailLogTruncate(bool fail);
  uint64_t TEST_CheckpointCount() const { return checkpoints_.load(); }
  // Walks the whole tree under mu_ and checks the subject index against the
  // records: every index entry names an existing token record of its
  // subject (under the key the entry's key is made from), every token
  // record with a subject has its entry, and the entry and previous-key
  // counters equal what the walk counted. Corruption naming the first
  // problem otherwise.
  Status TEST_CheckIndex();

 private:
  // The tree keys a token may live under: the masked hash, and in a store
  // upgraded from format 1 also the unmasked one (n = 1 or 2).
  struct TokenKeys {
    TreeKey k[2];
    int n = 0;
  };
  // What a tree value is, for the counters.
  enum class ValueClass : uint8_t { kUnknown, kNone, kEntry, kCurrent, kPrevious };
  // Tree changes planned under mu_ and not yet logged. Later ops of the same
  // batch see them (Lookup consults them before the tree).
  struct Change {
    wal::RecordType type;
    TreeKey key;
    std::string value;
    ValueClass old;  // what the key held before (kUnknown: look it up)
  };
  struct Pending {
    std::vector<Change> changes;  // append with push_back; shrink only by Clear/Truncate
    // The newest change of `key`, or null. Linear up to kLinearFind
    // changes, then through a hash index built as changes are appended (a
    // batch of 4096 updates would otherwise cost 4096^2 key compares).
    const Change* Find(const TreeKey& key) const;
    void Clear();
    void Truncate(size_t n);
    static constexpr size_t kLinearFind = 32;
    mutable std::unordered_map<uint64_t, uint32_t> by_prefix;  // first 8 key bytes -> index
    mutable size_t indexed = 0;  // changes[0..indexed) are in by_prefix
  };
  // Sealed outside the lock for a create/update.
  struct Sealed {
    TreeKey key;
    std::string record;
  };

  int64_t NowMs() const;
  bool ParseToken(std::string_view token, TokenKeys* keys) const;  // false: never exists
  void HashSubject(std::string_view subject, uint8_t sh[kSubjectHashBytes]) const;
  // nonce: fresh random bytes (nullptr: drawn here). sh: nullptr = none.
  Status Seal(const TreeKey& key, std::string_view payload, int64_t ttl_ms, int64_t max_reads,
              const uint8_t* nonce, const uint8_t* sh, std::string* record);
  // With the key the record's key_id names (current or previous).
  Status Unseal(const TreeKey& key, std::string_view record, std::string* payload);
  // The slot of a key_id, or -1 (a key we do not have).
  int SlotOf(uint32_t key_id) const;
  ValueClass Classify(std::string_view value) const;

  // Under mu_: the value of `key` as of the pending changes. NotFound.
  Status Lookup(const TreeKey& key, const Pending& p, std::string* value);
  // Under mu_: a live token record readable with a key we hold, or NotFound.
  // *key receives which of keys.k it lives under.
  Status GetLive(const TokenKeys& keys, int64_t now, const Pending& p, TreeKey* key,
                 std::string* value, RecordHead* head);
  // Under mu_: plans the deletion of a token record and its index entry.
  void PlanDeleteToken(const TreeKey& key, std::string_view value, Pending* p);
  // Under mu_: appends every pending change to the log with one write, then
  // applies them to the tree (keeping the counters) and wakes the flush
  // thread if a checkpoint is due. Sets bg_error_ when the log and the tree
  // can no longer be trusted to agree. Clears *p.
  Status CommitLocked(Pending* p);
  // Under mu_: one tree change with the counters kept exact.
  Status ApplyChange(wal::RecordType type, const TreeKey& key, std::string_view value,
                     ValueClass old);
  void Count(ValueClass c, int delta);
  // Under mu_: the log passed checkpoint_log_bytes, the dirty pages passed
  // half the page cache, or they passed 1/kDirtyTreeFraction of the tree
  // (and kMinDirtyPagesForCheckpoint).
  bool CheckpointDueLocked() const;
  // Under mu_, after logged changes: wakes the flush thread when a
  // checkpoint is due, so a burst of writes cannot outrun the interval.
  void MaybeRequestCheckpoint();
  // Under mu_ (*l holds it), before a write: while a checkpoint is in
  // flight and the dirty pages reach kStallFactor times the checkpoint
  // threshold, waits for it to finish (backpressure: the page file would
  // otherwise grow with every page the writers touch faster than the disk
  // takes checkpoints).
  void WaitForCheckpointRoom(std::unique_lock<std::mutex>* l);
  Status WritableLocked() const;  // Closed / bg_error_ / ok
  // After a write was applied: fdatasync when Durability::kSync.
  Status SyncIfRequired();
  Status SyncLog(const std::shared_ptr<wal::LogWriter>& log);
  // The batch machinery behind every single-op method too.
  struct OpState;
  void PrepareOp(const BatchOp& op, OpState* st);
  void RunOpLocked(const BatchOp& op, int64_t now, OpState* st, Pending* p);
  // states[n] and results[n] are the caller's (the stack for single ops).
  Status RunBatch(const BatchOp* ops, size_t n, OpState* states, BatchResult* results);
  Status RunOne(const BatchOp& op, BatchResult* out);
  // Under mu_: recounts index entries and previous-key records (a full
  // scan; at open after a key change or a format upgrade).
  Status RecountLocked();

  Status Recover(OpenInfo* info);
  // Under mu_, after replay: a batch cut short by a crash (its log write
  // torn, the complete records before the cut replayed) can leave an index
  // entry without its token record (entries are logged before their record
  // is put and after it is deleted). Deletes, through the log, every entry
  // among `touched` (entries the replay put, and entries of subject records
  // it deleted) whose record is not a token record of its subject.
  Status RepairIndexLocked(std::vector<TreeKey>* touched);
  // The whole checkpoint; `force` also checkpoints a clean tree.
  Status DoCheckpoint(bool force);
  std::string EncodeMeta(uint64_t replay_from) const;  // under mu_
  void FlushThreadMain();
  void SweepThreadMain();

  const std::string dir_;
  const Options options_;

  // Set by Init, immutable afterwards (read without locks).
  DerivedKeys keys_;                  // the current secret's subkeys
  std::vector<DerivedKeys> previous_;  // Options::previous_secret_keys'
  uint8_t index_key_[kSubkeyBytes];   // the store's (first secret's)
  uint8_t wrapped_index_key_[kWrappedKeyBytes];  // under keys_.wrap_key
  std::unique_ptr<IndexHasher> hasher_;          // index_key_
  std::unique_ptr<IndexHasher> subject_hasher_;  // subject key of index_key_
  bool legacy_keys_ = false;  // upgraded from format 1 (meta flag)
  std::unique_ptr<FileLock> lock_;

  struct KeySlot {
    uint32_t key_id;
    const uint8_t* seal_key;
    std::unique_ptr<Aead> aead;  // thread-safe (crypto/aead.h)
  };
  std::vector<KeySlot> slots_;  // 0 = current key, 1.. = previous ones; fixed by Init

  // Serialises whole checkpoints (and Close's teardown of tree_/log_).
  std::mutex checkpoint_mu_;

  mutable std::mutex mu_;
  std::condition_variable cv_;  // wakes the background threads on Close
  // guarded by mu_, except that WriteCheckpoint is called without mu_ while
  // checkpoint_mu_ is held (BTree allows exactly that), and that tree_ and
  // log_ are only reset while both mutexes are held.
  std::unique_ptr<BTree> tree_;
  std::shared_ptr<wal::LogWriter> log_;  // current segment; Sync() runs without mu_
  std::vector<uint64_t> old_segments_;   // guarded by mu_: seqs still needed by recovery
  uint64_t old_segments_bytes_ = 0;      // guarded by mu_
  uint64_t next_lsn_ = 1;                // guarded by mu_
  Pending pending_;                      // guarded by mu_: RunBatch's plan, reused
  std::string log_buf_;                  // guarded by mu_: CommitLocked's encoding, reused
  uint64_t index_entries_ = 0;           // guarded by mu_: subject index entries
  uint64_t previous_records_ = 0;        // guarded by mu_: records of non-current keys
  Status bg_error_;                      // guarded by mu_: sticky
  bool closed_ = false;                  // guarded by mu_
  bool checkpoint_wanted_ = false;       // guarded by mu_
  bool checkpoint_inflight_ = false;     // guarded by mu_: Begin..FinishCheckpoint
  std::condition_variable room_cv_;      // checkpoint_inflight_ turned false, or Close
  bool opened_ = false;                  // guarded by mu_: Init succeeded

  std::thread flush_thread_;
  std::thread sweep_thread_;

  std::atomic<int64_t> last_fsync_ms_{0};
  std::atomic<int64_t> last_checkpoint_ms_{0};
  std::atomic<int64_t> last_sweep_ms_{0};
  std::atomic<uint64_t> last_sweep_removed_{0};
  std::atomic<uint64_t> checkpoints_{0};
};

}  // namespace crudjt

#endif  // CRUDJT_STORE_STORE_IMPL_H_
