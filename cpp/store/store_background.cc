// StoreImpl: checkpoints, the flush thread, the expiry sweeper and Close.
// The protocol is described at the top of store_impl.h.
#include <unistd.h>

#include <chrono>
#include <cstring>

// pager.h completes CheckpointSnapshot (btree.h only declares it), which
// owning a std::unique_ptr<CheckpointSnapshot> requires.
#include "btree/pager.h"
#include "store/store_impl.h"
#include "util/coding.h"
#include "wal/log_files.h"

namespace crudjt {

namespace {
constexpr size_t kSweepBatch = 512;
}  // namespace

std::string StoreImpl::EncodeMeta(uint64_t replay_from) const {
  std::string m(kStoreMetaBytes, '\0');
  uint8_t* p = reinterpret_cast<uint8_t*>(&m[0]);
  EncodeFixed32(p, kStoreFormatVersion);
  EncodeFixed32(p + 4, legacy_keys_ ? kMetaFlagLegacyKeys : 0);
  EncodeFixed64(p + 8, replay_from);
  EncodeFixed64(p + 16, next_lsn_);
  std::memcpy(p + 24, keys_.key_check, kKeyCheckBytes);
  EncodeFixed64(p + 40, index_entries_);
  EncodeFixed64(p + 48, previous_records_);
  std::memcpy(p + 56, wrapped_index_key_, kWrappedKeyBytes);
  return m;
}

Status StoreImpl::DoCheckpoint(bool force) {
  std::lock_guard<std::mutex> cl(checkpoint_mu_);
  std::shared_ptr<wal::LogWriter> old;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!tree_ || !log_) return Status::Closed("store " + dir_ + " is closed");
    if (!bg_error_.ok()) return bg_error_;
    old = log_;
    if (!force && tree_->clean() && old_segments_.empty() &&
        old->size() == wal::kSegmentHeaderSize) {
      return Status::OK();  // nothing since the last checkpoint
    }
  }
  // Only checkpoints switch segments and checkpoint_mu_ is held, so `old`
  // stays current until the switch below. Most of its unsynced bytes go to
  // disk, and the next segment is created (fsync, rename, directory fsync),
  // without blocking callers.
  Status s = SyncLog(old);
  if (!s.ok()) return s;
  const uint64_t new_seq = old->seq() + 1;
  std::unique_ptr<wal::LogWriter> fresh;
  s = wal::LogWriter::Create(dir_, new_seq, &fresh);
  if (!s.ok()) return s;  // nothing changed; a later checkpoint retries

  std::unique_ptr<CheckpointSnapshot> snap;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!bg_error_.ok()) {
      fresh.reset();
      unlink(wal::SegmentFileName(dir_, new_seq).c_str());
      return bg_error_;
    }
    // The rest of the old segment (written since the SyncLog above) must
    // reach the disk before any record of the new one: the new segment's
    // first Sync() does that first (set_predecessor), so writers do not
    // wait for an fdatasync here.
    fresh->set_predecessor(old);
    old_segments_.push_back(old->seq());
    old_segments_bytes_ += old->size();
    log_ = std::move(fresh);
    s = tree_->BeginCheckpoint(EncodeMeta(new_seq), &snap);
    if (!s.ok()) return s;  // the rotation alone is harmless
    checkpoint_inflight_ = true;
  }

  s = tree_->WriteCheckpoint(snap.get());

  std::vector<uint64_t> obsolete;
  {
    std::lock_guard<std::mutex> l(mu_);
    tree_->FinishCheckpoint(std::move(snap), s);
    checkpoint_inflight_ = false;
    room_cv_.notify_all();
    if (!s.ok()) return s;
    for (uint64_t seq : old_segments_) {
      if (seq < new_seq) obsolete.push_back(seq);
    }
    old_segments_.clear();
    old_segments_bytes_ = 0;
  }
  for (uint64_t seq : obsolete) unlink(wal::SegmentFileName(dir_, seq).c_str());
  last_checkpoint_ms_.store(NowMs());
  checkpoints_.fetch_add(1);
  return Status::OK();
}

Status StoreImpl::Checkpoint() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (closed_ || !opened_) return Status::Closed("store " + dir_ + " is closed");
  }
  return DoCheckpoint(/*force=*/false);
}

Status StoreImpl::Flush() {
  std::shared_ptr<wal::LogWriter> log;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (closed_ || !opened_) return Status::Closed("store " + dir_ + " is closed");
    if (!bg_error_.ok()) return bg_error_;
    log = log_;
  }
  return SyncLog(log);
}

void StoreImpl::FlushThreadMain() {
  const auto interval = std::chrono::milliseconds(options_.flush_interval_ms);
  std::unique_lock<std::mutex> l(mu_);
  while (!closed_) {
    cv_.wait_for(l, interval, [this] { return closed_ || checkpoint_wanted_; });
    if (closed_) break;
    std::shared_ptr<wal::LogWriter> log = log_;
    bool due = checkpoint_wanted_ || CheckpointDueLocked();
    checkpoint_wanted_ = false;
    const bool failed = !bg_error_.ok();
    l.unlock();
    bool backoff = false;
    if (!failed) {
      SyncLog(log);  // errors become bg_error_
      // A failure is retried, but not before a full interval has passed.
      if (due) backoff = !DoCheckpoint(/*force=*/false).ok();
    }
    l.lock();
    if (backoff) cv_.wait_for(l, interval, [this] { return closed_; });
  }
}

void StoreImpl::SweepThreadMain() {
  using Clock = std::chrono::steady_clock;
  std::unique_lock<std::mutex> l(mu_);
  bool pending = options_.sweep_on_open;
  Clock::time_point next = Clock::now();
  if (!pending && options_.sweep_interval_ms > 0) {
    next += std::chrono::milliseconds(options_.sweep_interval_ms);
    pending = true;
  }
  while (!closed_) {
    if (!pending) {
      cv_.wait(l, [this] { return closed_; });
      break;
    }
    cv_.wait_until(l, next, [this] { return closed_; });
    if (closed_) break;
    if (Clock::now() < next) continue;
    l.unlock();
    Sweep(nullptr);
    l.lock();
    pending = options_.sweep_interval_ms > 0;
    next = Clock::now() + std::chrono::milliseconds(options_.sweep_interval_ms);
  }
}

Status StoreImpl::Sweep(uint64_t* removed) {
  uint64_t count = 0;
  TreeKey after;
  bool have_after = false;
  bool done = false;
  std::vector<std::pair<TreeKey, std::string>> expired;  // token records
  std::vector<std::pair<TreeKey, TreeKey>> entries;        // (entry, its token)
  expired.reserve(kSweepBatch);
  while (!done) {
    std::unique_lock<std::mutex> l(mu_);  // one batch per hold
    WaitForCheckpointRoom(&l);
    Status s = WritableLocked();
    if (!s.ok()) return s;
    const int64_t now = NowMs();
    expired.clear();
    entries.clear();
    TreeKey last;
    size_t visited = 0;
    s = tree_->Scan(have_after ? &after : nullptr, kSweepBatch,
                    [&](const TreeKey& k, std::string_view v) {
                      ++visited;
                      if (SubjectIndex::IsEntryValue(v)) {
                        uint8_t sh[kSubjectHashBytes];
                        TreeKey tk;
                        SubjectIndex::DecodeEntry(v, sh, &tk);
                        entries.emplace_back(k, tk);
                        return true;
                      }
                      // Only the expiry field is needed: no decryption.
                      if (v.size() >= 8) {
                        int64_t exp = SealedRecord::ExpiresAt(v);
                        if (exp > 0 && exp <= now) expired.emplace_back(k, std::string(v));
                      }
                      return true;
                    },
                    &last, &done);
    if (!s.ok()) return s;
    if (visited == 0) break;
    Pending p;
    for (const auto& e : expired) {
      PlanDeleteToken(e.first, e.second, &p);  // with its index entry
      ++count;
    }
    // An entry whose token record is gone (a batch torn by a crash between
    // the two) is dropped. An expired record's entry goes with the record.
    for (const auto& e : entries) {
      std::string value;
      s = tree_->Get(e.second, &value);
      if (s.IsNotFound() || (s.ok() && SubjectIndex::IsEntryValue(value))) {
        if (p.Find(e.first) == nullptr) {
          p.changes.push_back(Change{wal::kDelete, e.first, std::string(), ValueClass::kEntry});
        }
      } else if (!s.ok()) {
        return s;
      }
    }
    s = CommitLocked(&p);
    if (!s.ok()) return s;
    after = last;
    have_after = true;
  }
  if (removed) *removed = count;
  last_sweep_removed_.store(count);
  last_sweep_ms_.store(NowMs());
  return Status::OK();
}

Status StoreImpl::Close() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (closed_) return Status::OK();
    closed_ = true;
  }
  cv_.notify_all();
  room_cv_.notify_all();
  if (flush_thread_.joinable()) flush_thread_.join();
  if (sweep_thread_.joinable()) sweep_thread_.join();

  Status result;
  bool have_store;
  {
    std::lock_guard<std::mutex> l(mu_);
    have_store = opened_ && tree_ && log_;
  }
  if (have_store) {
    result = DoCheckpoint(/*force=*/false);
    std::shared_ptr<wal::LogWriter> log;
    {
      std::lock_guard<std::mutex> l(mu_);
      log = log_;
    }
    Status s = log->Sync();
    if (result.ok()) result = s;
  }
  {
    std::lock_guard<std::mutex> cl(checkpoint_mu_);
    std::lock_guard<std::mutex> l(mu_);
    // The tree's Close (run by its destructor) only vacuums: a failure
    // leaves the checkpoint above in force and loses nothing, and a page
    // it finds corrupt is reported to the reads that touch it. Failing
    // the shutdown for it would only stop the host's own cleanup.
    tree_.reset();
    log_.reset();
  }
  lock_.reset();
  return result;
}

}  // namespace crudjt
