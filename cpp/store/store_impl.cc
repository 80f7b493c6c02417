// StoreImpl: open/recovery and the per-token operations. The background
// work (flush thread, checkpoints, sweeper) is in store_background.cc.
#include "store/store_impl.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "crypto/random.h"
#include "util/base64url.h"
#include "util/coding.h"
#include "wal/log_files.h"
#include "wal/log_reader.h"

namespace crudjt {

namespace {

constexpr size_t kTokenBytes = 16;

bool ValidLimit(int64_t v, int64_t max) { return v == kNoLimit || (v >= 1 && v <= max); }

Status CheckWriteArgs(std::string_view payload, int64_t ttl_ms, int64_t max_reads) {
  if (payload.empty()) return Status::InvalidArgument("payload is empty");
  if (payload.size() > kMaxPayloadBytes) {
    return Status::InvalidArgument("payload is " + std::to_string(payload.size()) +
                                   " bytes, more than " + std::to_string(kMaxPayloadBytes));
  }
  if (!ValidLimit(ttl_ms, kMaxTtlMs)) {
    return Status::InvalidArgument("ttl_ms must be 1.." + std::to_string(kMaxTtlMs) +
                                   " or kNoLimit, got " + std::to_string(ttl_ms));
  }
  if (!ValidLimit(max_reads, kMaxReads)) {
    return Status::InvalidArgument("max_reads must be 1.." + std::to_string(kMaxReads) +
                                   " or kNoLimit, got " + std::to_string(max_reads));
  }
  return Status::OK();
}

struct StoreMeta {
  uint32_t version = 0;
  uint32_t key_id = 0;
  uint64_t replay_from = 0;
  uint64_t next_lsn = 0;
  uint8_t key_check[kKeyCheckBytes] = {};
};

bool DecodeMeta(std::string_view m, StoreMeta* out) {
  if (m.size() < kStoreMetaBytes) return false;
  const uint8_t* p = reinterpret_cast<const uint8_t*>(m.data());
  out->version = DecodeFixed32(p);
  out->key_id = DecodeFixed32(p + 4);
  out->replay_from = DecodeFixed64(p + 8);
  out->next_lsn = DecodeFixed64(p + 16);
  std::memcpy(out->key_check, p + 24, kKeyCheckBytes);
  return true;
}

}  // namespace

StoreImpl::StoreImpl(const std::string& dir, const Options& options)
    : dir_(dir), options_(options) {
  std::memset(&keys_, 0, sizeof(keys_));
}

StoreImpl::~StoreImpl() {
  Close();
  keys_.Wipe();
}

int64_t StoreImpl::NowMs() const {
  if (options_.TEST_clock_ms) return options_.TEST_clock_ms();
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// ---------------------------------------------------------------- open

Status StoreImpl::Init(std::string_view secret_key, OpenInfo* info) {
  if (options_.flush_interval_ms == 0) {
    return Status::InvalidArgument("flush_interval_ms must be > 0");
  }
  if (options_.checkpoint_log_bytes == 0) {
    return Status::InvalidArgument("checkpoint_log_bytes must be > 0");
  }
  Status s = DeriveKeys(secret_key, &keys_);
  if (!s.ok()) return s;
  hasher_.reset(new IndexHasher(keys_.index_key));
  {
    std::unique_ptr<Aead> probe;
    s = Aead::Create(keys_.seal_key, &probe);
    if (!s.ok()) return s;
    ReturnAead(std::move(probe));
  }
  if (mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::IOError(dir_ + ": cannot create store directory: " + std::strerror(errno));
  }
  s = FileLock::Acquire(dir_, &lock_);
  if (!s.ok()) return s;

  BTreeOptions topt;
  topt.page_cache_bytes = options_.page_cache_bytes;
  s = BTree::Open(dir_ + "/" + kPageFileName, topt, &tree_);
  if (!s.ok()) return s;

  s = Recover(info);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> l(mu_);
    opened_ = true;
  }
  flush_thread_ = std::thread([this] { FlushThreadMain(); });
  sweep_thread_ = std::thread([this] { SweepThreadMain(); });
  return Status::OK();
}

Status StoreImpl::Recover(OpenInfo* info) {
  // Single-threaded: no other thread exists yet; mu_ taken for the
  // annotations' sake only where it is cheap.
  std::unique_lock<std::mutex> l(mu_);
  StoreMeta meta;
  DecodeMeta(tree_->committed_user_meta(), &meta);
  const bool fresh = meta.version == 0;
  if (meta.version > kStoreFormatVersion) {
    return Status::NotSupported(dir_ + "/" + kPageFileName + ": store format version " +
                                std::to_string(meta.version) + " is newer than this build (" +
                                std::to_string(kStoreFormatVersion) + ")");
  }
  if (!fresh) {
    info->key_changed = std::memcmp(meta.key_check, keys_.key_check, kKeyCheckBytes) != 0;
  }
  const uint64_t replay_from = fresh ? 0 : meta.replay_from;
  next_lsn_ = fresh ? 1 : meta.next_lsn;

  std::vector<uint64_t> seqs;
  Status s = wal::ListSegments(dir_, &seqs);
  if (!s.ok()) return s;
  std::vector<uint64_t> replay;
  for (uint64_t seq : seqs) {
    if (seq < replay_from) {
      // Made obsolete by the committed checkpoint; its unlink was lost.
      unlink(wal::SegmentFileName(dir_, seq).c_str());
    } else {
      replay.push_back(seq);
    }
  }
  if (!fresh && (replay.empty() || replay.front() != replay_from)) {
    return Status::Corruption(wal::SegmentFileName(dir_, replay_from) +
                              ": log segment needed by recovery is missing (the checkpoint in " +
                              dir_ + "/" + kPageFileName + " refers to it: the page file's newest meta page "
                              "or the log directory is damaged)");
  }
  for (size_t i = 1; i < replay.size(); ++i) {
    if (replay[i] != replay[i - 1] + 1) {
      return Status::Corruption(wal::SegmentFileName(dir_, replay[i - 1] + 1) +
                                ": log segment missing between " +
                                wal::SegmentFileName(dir_, replay[i - 1]) + " and " +
                                wal::SegmentFileName(dir_, replay[i]));
    }
  }

  BTree* tree = tree_.get();
  auto apply = [tree](wal::RecordType type, uint64_t, std::string_view payload) -> Status {
    TreeKey key;
    std::memcpy(key.bytes, payload.data(), kTreeKeyBytes);
    if (type == wal::kPut) return tree->Put(key, payload.substr(kTreeKeyBytes));
    return tree->Delete(key, nullptr);
  };
  uint64_t last_good = 0;
  for (size_t i = 0; i < replay.size(); ++i) {
    wal::SegmentReadResult r;
    s = wal::LogReader::ReadSegment(wal::SegmentFileName(dir_, replay[i]), replay[i], &next_lsn_,
                                    apply, &r);
    if (!s.ok()) return s;
    info->recovered_records += r.records;
    info->dropped_tail_bytes += r.file_bytes - r.good_bytes;
    if (i + 1 < replay.size()) {
      old_segments_.push_back(replay[i]);
      old_segments_bytes_ += r.file_bytes;
    }
    last_good = r.good_bytes;
  }

  std::unique_ptr<wal::LogWriter> w;
  if (replay.empty()) {
    s = wal::LogWriter::Create(dir_, replay_from == 0 ? 1 : replay_from, &w);
  } else {
    s = wal::LogWriter::Reopen(dir_, replay.back(), last_good, &w);
  }
  if (!s.ok()) return s;
  log_ = std::move(w);
  l.unlock();

  if (fresh || info->key_changed) {
    // Record the format and key check at once, so that a store never has a
    // zero meta once it holds data.
    s = DoCheckpoint(/*force=*/true);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

// ---------------------------------------------------------------- crypto

std::unique_ptr<Aead> StoreImpl::TakeAead() {
  {
    std::lock_guard<std::mutex> l(aead_mu_);
    if (!aead_pool_.empty()) {
      std::unique_ptr<Aead> a = std::move(aead_pool_.back());
      aead_pool_.pop_back();
      return a;
    }
  }
  std::unique_ptr<Aead> a;
  if (!Aead::Create(keys_.seal_key, &a).ok()) return nullptr;
  return a;
}

void StoreImpl::ReturnAead(std::unique_ptr<Aead> aead) {
  std::lock_guard<std::mutex> l(aead_mu_);
  aead_pool_.push_back(std::move(aead));
}

bool StoreImpl::ParseToken(std::string_view token, TreeKey* key) const {
  if (token.size() > kMaxTokenChars || !IsBase64Url(token)) return false;
  hasher_->Hash(token, key->bytes);
  return true;
}

Status StoreImpl::Seal(const TreeKey& key, std::string_view payload, int64_t ttl_ms,
                       int64_t max_reads, const uint8_t* nonce_in, std::string* record) {
  uint8_t nonce[kAeadNonceBytes];
  Status s;
  if (nonce_in != nullptr) {
    std::memcpy(nonce, nonce_in, sizeof(nonce));
  } else {
    s = RandomBytes(nonce, sizeof(nonce));
    if (!s.ok()) return s;
  }
  std::unique_ptr<Aead> aead = TakeAead();
  if (!aead) return Status::IOError("cannot create an AEAD context");
  std::string sealed;
  s = aead->Seal(nonce, std::string_view(reinterpret_cast<const char*>(key.bytes), kTreeKeyBytes),
                 payload, &sealed);
  ReturnAead(std::move(aead));
  if (!s.ok()) return s;
  RecordHead head;
  head.expires_at_ms = ttl_ms == kNoLimit ? 0 : NowMs() + ttl_ms;
  head.reads_left = max_reads;
  head.key_id = keys_.key_id;
  SealedRecord::Encode(head, nonce, sealed, record);
  return Status::OK();
}

Status StoreImpl::Unseal(const TreeKey& key, std::string_view record, std::string* payload) {
  RecordHead head;
  const uint8_t* nonce;
  std::string_view sealed;
  Status s = SealedRecord::Decode(record, &head, &nonce, &sealed);
  if (!s.ok()) return s;
  std::unique_ptr<Aead> aead = TakeAead();
  if (!aead) return Status::IOError("cannot create an AEAD context");
  s = aead->Open(nonce, std::string_view(reinterpret_cast<const char*>(key.bytes), kTreeKeyBytes),
                 sealed, payload);
  ReturnAead(std::move(aead));
  if (!s.ok()) {
    return Status::Corruption(dir_ + "/" + kPageFileName +
                              ": a record sealed under the current key fails authentication");
  }
  return Status::OK();
}

// ---------------------------------------------------------------- writes

Status StoreImpl::WritableLocked() const {
  if (closed_ || !opened_) return Status::Closed("store " + dir_ + " is closed");
  return bg_error_;
}

Status StoreImpl::LogAndPut(const TreeKey& key, std::string_view value) {
  std::string_view k(reinterpret_cast<const char*>(key.bytes), kTreeKeyBytes);
  Status s = log_->AddRecord(wal::kPut, next_lsn_, k, value);
  if (!s.ok()) {
    if (log_->broken()) bg_error_ = s;
    return s;
  }
  ++next_lsn_;
  s = tree_->Put(key, value);
  // The record is in the log but not in the tree: the two disagree until a
  // restart replays it, so refuse further writes.
  if (!s.ok()) bg_error_ = s;
  MaybeRequestCheckpoint();
  return s;
}

bool StoreImpl::CheckpointDueLocked() const {
  if (log_->size() >= options_.checkpoint_log_bytes + wal::kSegmentHeaderSize) return true;
  const uint64_t dirty = tree_->dirty_pages();
  if (dirty * kPageSize > options_.page_cache_bytes / 2) return true;
  // Space bound: the page file holds the committed tree, the snapshot in
  // flight and the pages rewritten since (copy-on-write: a freed page is
  // reusable only once the next checkpoint commits), so checkpoints follow
  // the dirty pages, and WaitForCheckpointRoom caps them.
  return dirty >= kMinDirtyPagesForCheckpoint &&
         dirty * kDirtyTreeFraction >= tree_->tree_pages();
}

void StoreImpl::WaitForCheckpointRoom(std::unique_lock<std::mutex>* l) {
  while (checkpoint_inflight_ && !closed_ && tree_) {
    const uint64_t dirty = tree_->dirty_pages();
    if (dirty < kStallFactor * kMinDirtyPagesForCheckpoint ||
        dirty * kDirtyTreeFraction < kStallFactor * tree_->tree_pages()) {
      return;
    }
    room_cv_.wait(*l);
  }
}

void StoreImpl::MaybeRequestCheckpoint() {
  if (checkpoint_wanted_ || !CheckpointDueLocked()) return;
  checkpoint_wanted_ = true;
  cv_.notify_all();
}

Status StoreImpl::LogAndDelete(const TreeKey& key) {
  std::string_view k(reinterpret_cast<const char*>(key.bytes), kTreeKeyBytes);
  Status s = log_->AddRecord(wal::kDelete, next_lsn_, k);
  if (!s.ok()) {
    if (log_->broken()) bg_error_ = s;
    return s;
  }
  ++next_lsn_;
  s = tree_->Delete(key, nullptr);
  if (!s.ok()) bg_error_ = s;
  MaybeRequestCheckpoint();
  return s;
}

Status StoreImpl::SyncLog(const std::shared_ptr<wal::LogWriter>& log) {
  if (log->synced_size() >= log->size()) return Status::OK();
  Status s = log->Sync();
  if (s.ok()) {
    last_fsync_ms_.store(NowMs());
  } else {
    std::lock_guard<std::mutex> l(mu_);
    if (bg_error_.ok()) bg_error_ = s;
  }
  return s;
}

Status StoreImpl::SyncIfRequired() {
  if (options_.durability != Durability::kSync) return Status::OK();
  std::shared_ptr<wal::LogWriter> log;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!log_) return Status::Closed("store " + dir_ + " is closed");
    log = log_;
  }
  return SyncLog(log);
}

Status StoreImpl::GetLive(const TreeKey& key, int64_t now, std::string* value, RecordHead* head) {
  Status s = tree_->Get(key, value);
  if (!s.ok()) return s;
  const uint8_t* nonce;
  std::string_view sealed;
  s = SealedRecord::Decode(*value, head, &nonce, &sealed);
  if (!s.ok()) return Status::Corruption(dir_ + "/" + kPageFileName + ": " + s.message());
  if (head->key_id != keys_.key_id) return Status::NotFound();  // another secret's record
  if (head->expires_at_ms != 0 && head->expires_at_ms <= now) return Status::NotFound();
  return Status::OK();
}

Status StoreImpl::Create(std::string_view payload, int64_t ttl_ms, int64_t max_reads,
                         std::string* token, std::string_view subject) {
  if (!subject.empty()) return Status::NotSupported("subjects: not implemented yet");
  Status s = CheckWriteArgs(payload, ttl_ms, max_reads);
  if (!s.ok()) return s;
  // One getrandom() for the token and the nonce.
  uint8_t raw[kTokenBytes + kAeadNonceBytes];
  s = RandomBytes(raw, sizeof(raw));
  if (!s.ok()) return s;
  std::string t = Base64UrlEncode(raw, kTokenBytes);
  TreeKey key;
  hasher_->Hash(t, key.bytes);
  std::string record;
  s = Seal(key, payload, ttl_ms, max_reads, raw + kTokenBytes, &record);
  if (!s.ok()) return s;
  {
    std::unique_lock<std::mutex> l(mu_);
    WaitForCheckpointRoom(&l);
    s = WritableLocked();
    if (!s.ok()) return s;
    s = LogAndPut(key, record);
    if (!s.ok()) return s;
  }
  s = SyncIfRequired();
  if (!s.ok()) return s;
  *token = std::move(t);
  return Status::OK();
}

Status StoreImpl::Read(std::string_view token, ReadResult* result) {
  if (token.empty()) return Status::InvalidArgument("token is empty");
  TreeKey key;
  if (!ParseToken(token, &key)) return Status::NotFound();
  std::string value;
  RecordHead head;
  bool wrote = false;
  int64_t now;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (closed_ || !opened_) return Status::Closed("store " + dir_ + " is closed");
    now = NowMs();
    Status s = GetLive(key, now, &value, &head);
    if (!s.ok()) return s;
    if (head.reads_left != kNoLimit) {
      s = WritableLocked();
      if (!s.ok()) return s;
      head.reads_left -= 1;
      if (head.reads_left == 0) {
        s = LogAndDelete(key);
      } else {
        std::string updated = value;
        SealedRecord::SetReadsLeft(&updated, head.reads_left);
        s = LogAndPut(key, updated);
      }
      if (!s.ok()) return s;
      wrote = true;
    }
  }
  if (wrote) {
    Status s = SyncIfRequired();
    if (!s.ok()) return s;
  }
  Status s = Unseal(key, value, &result->payload);
  if (!s.ok()) return s;
  result->ttl_left_ms = head.expires_at_ms == 0 ? kNoLimit : head.expires_at_ms - now;
  result->reads_left = head.reads_left;
  return Status::OK();
}

Status StoreImpl::Update(std::string_view token, std::string_view payload, int64_t ttl_ms,
                         int64_t max_reads, bool* updated) {
  *updated = false;
  Status s = CheckWriteArgs(payload, ttl_ms, max_reads);
  if (!s.ok()) return s;
  if (token.empty()) return Status::InvalidArgument("token is empty");
  TreeKey key;
  if (!ParseToken(token, &key)) {
    std::lock_guard<std::mutex> l(mu_);
    return closed_ ? Status::Closed("store " + dir_ + " is closed") : Status::OK();
  }
  std::string record;
  s = Seal(key, payload, ttl_ms, max_reads, nullptr, &record);
  if (!s.ok()) return s;
  {
    std::unique_lock<std::mutex> l(mu_);
    WaitForCheckpointRoom(&l);
    s = WritableLocked();
    if (!s.ok()) return s;
    std::string old;
    RecordHead head;
    s = GetLive(key, NowMs(), &old, &head);
    if (s.IsNotFound()) return Status::OK();
    if (!s.ok()) return s;
    s = LogAndPut(key, record);
    if (!s.ok()) return s;
  }
  s = SyncIfRequired();
  if (!s.ok()) return s;
  *updated = true;
  return Status::OK();
}

Status StoreImpl::Remove(std::string_view token, bool* removed) {
  *removed = false;
  if (token.empty()) return Status::InvalidArgument("token is empty");
  TreeKey key;
  const bool valid = ParseToken(token, &key);
  {
    std::unique_lock<std::mutex> l(mu_);
    if (valid) WaitForCheckpointRoom(&l);
    Status s = WritableLocked();
    if (s.IsClosed() || !valid) return s.IsClosed() ? s : Status::OK();
    if (!s.ok()) return s;
    std::string old;
    RecordHead head;
    s = GetLive(key, NowMs(), &old, &head);
    if (s.IsNotFound()) return Status::OK();
    if (!s.ok()) return s;
    s = LogAndDelete(key);
    if (!s.ok()) return s;
  }
  Status s = SyncIfRequired();
  if (!s.ok()) return s;
  *removed = true;
  return Status::OK();
}

Status StoreImpl::Touch(std::string_view, int64_t, bool* touched) {
  *touched = false;
  return Status::NotSupported("Touch: not implemented yet");
}
Status StoreImpl::RevokeSubject(std::string_view, uint64_t* removed) {
  *removed = 0;
  return Status::NotSupported("RevokeSubject: not implemented yet");
}
Status StoreImpl::ListSubject(std::string_view, std::vector<SessionInfo>* sessions) {
  sessions->clear();
  return Status::NotSupported("ListSubject: not implemented yet");
}
Status StoreImpl::RevokeHandle(std::string_view, bool* removed) {
  *removed = false;
  return Status::NotSupported("RevokeHandle: not implemented yet");
}
Status StoreImpl::ApplyBatch(const std::vector<BatchOp>&, std::vector<BatchResult>* results) {
  results->clear();
  return Status::NotSupported("ApplyBatch: not implemented yet");
}
Status StoreImpl::ResealPrevious(uint64_t* count) {
  if (count) *count = 0;
  return Status::NotSupported("ResealPrevious: not implemented yet");
}
Status StoreImpl::ExportRecords(std::string_view, size_t,
                                std::vector<std::pair<std::string, std::string>>* out,
                                bool* done) {
  out->clear();
  *done = true;
  return Status::NotSupported("ExportRecords: not implemented yet");
}

// ---------------------------------------------------------------- stats

StoreStats StoreImpl::GetStats() {
  StoreStats st;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (tree_ && log_) {
      BTreeStats t = tree_->GetStats();
      st.live_tokens = t.records;
      st.page_file_bytes = t.file_bytes;
      st.pages_total = t.pages_total;
      st.pages_free = t.pages_free;
      st.cache_bytes = t.cache_bytes;
      st.log_bytes = old_segments_bytes_ + log_->size();
    }
  }
  st.last_fsync_ms = last_fsync_ms_.load();
  st.last_checkpoint_ms = last_checkpoint_ms_.load();
  st.last_sweep_ms = last_sweep_ms_.load();
  st.last_sweep_removed = last_sweep_removed_.load();
  return st;
}

// ---------------------------------------------------------------- hooks

StoreImpl::LogState StoreImpl::TEST_CurrentLog() {
  std::lock_guard<std::mutex> l(mu_);
  if (!log_) return LogState{"", 0, 0};
  return LogState{log_->path(), log_->size(), log_->synced_size()};
}

void StoreImpl::TEST_SetLogSizeLimit(uint64_t max_bytes) {
  std::lock_guard<std::mutex> l(mu_);
  if (log_) log_->TEST_SetSizeLimit(max_bytes);
}

void StoreImpl::TEST_FailLogTruncate(bool fail) {
  std::lock_guard<std::mutex> l(mu_);
  if (log_) log_->TEST_FailTruncate(fail);
}

}  // namespace crudjt
