// StoreImpl: open/recovery and the per-token operations. The background
// work (flush thread, checkpoints, sweeper) is in store_background.cc.
#include "store/store_impl.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <openssl/crypto.h>

#include <cstring>

#include "crypto/random.h"
#include "util/base64url.h"
#include "util/coding.h"
#include "wal/log_files.h"
#include "wal/log_reader.h"

namespace crudjt {

namespace {

struct StoreMeta {
  uint32_t version = 0;
  uint32_t flags = 0;
  uint64_t replay_from = 0;
  uint64_t next_lsn = 0;
  uint8_t key_check[kKeyCheckBytes] = {};
  uint64_t index_entries = 0;
  uint64_t previous_records = 0;
  uint8_t wrapped[kWrappedKeyBytes] = {};
};

// Format 1 and 2 (store_impl.h); a short meta reads as a new file.
bool DecodeMeta(std::string_view m, StoreMeta* out) {
  if (m.size() < 40) return false;
  const uint8_t* p = reinterpret_cast<const uint8_t*>(m.data());
  out->version = DecodeFixed32(p);
  out->replay_from = DecodeFixed64(p + 8);
  out->next_lsn = DecodeFixed64(p + 16);
  std::memcpy(out->key_check, p + 24, kKeyCheckBytes);
  if (out->version >= 2 && m.size() >= kStoreMetaBytes) {
    out->flags = DecodeFixed32(p + 4);
    out->index_entries = DecodeFixed64(p + 40);
    out->previous_records = DecodeFixed64(p + 48);
    std::memcpy(out->wrapped, p + 56, kWrappedKeyBytes);
  }
  return true;
}

}  // namespace

namespace {
Options WithoutSecrets(const Options& o) {
  Options copy = o;
  copy.previous_secret_keys.clear();
  return copy;
}
}  // namespace

StoreImpl::StoreImpl(const std::string& dir, const Options& options)
    : dir_(dir), options_(WithoutSecrets(options)) {
  std::memset(&keys_, 0, sizeof(keys_));
  std::memset(index_key_, 0, sizeof(index_key_));
  std::memset(wrapped_index_key_, 0, sizeof(wrapped_index_key_));
}

StoreImpl::~StoreImpl() {
  Close();
  keys_.Wipe();
  for (DerivedKeys& p : previous_) p.Wipe();
  OPENSSL_cleanse(index_key_, sizeof(index_key_));
}

int64_t StoreImpl::NowMs() const {
  if (options_.TEST_clock_ms) return options_.TEST_clock_ms();
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// ---------------------------------------------------------------- open

Status StoreImpl::Init(std::string_view secret_key, const std::vector<std::string>& previous,
                       OpenInfo* info) {
  if (options_.flush_interval_ms == 0) {
    return Status::InvalidArgument("flush_interval_ms must be > 0");
  }
  if (options_.checkpoint_log_bytes == 0) {
    return Status::InvalidArgument("checkpoint_log_bytes must be > 0");
  }
  Status s = DeriveKeys(secret_key, &keys_);
  if (!s.ok()) return s;
  previous_.reserve(previous.size());
  for (size_t i = 0; i < previous.size(); ++i) {
    DerivedKeys k;
    s = DeriveKeys(previous[i], &k);
    if (!s.ok()) {
      return Status::InvalidArgument("previous_secret_keys[" + std::to_string(i) + "]: " +
                                     s.message());
    }
    bool duplicate = std::memcmp(k.key_check, keys_.key_check, kKeyCheckBytes) == 0;
    for (const DerivedKeys& p : previous_) {
      duplicate = duplicate || std::memcmp(k.key_check, p.key_check, kKeyCheckBytes) == 0;
    }
    bool id_clash = !duplicate && k.key_id == keys_.key_id;
    for (const DerivedKeys& p : previous_) id_clash = id_clash || (!duplicate && k.key_id == p.key_id);
    if (id_clash) {
      k.Wipe();
      return Status::InvalidArgument("previous_secret_keys[" + std::to_string(i) +
                                     "]: its 32-bit key id collides with another key's; "
                                     "use a different secret");
    }
    if (!duplicate) previous_.push_back(k);
    k.Wipe();
  }
  slots_.push_back(KeySlot{keys_.key_id, keys_.seal_key, nullptr});
  for (const DerivedKeys& p : previous_) slots_.push_back(KeySlot{p.key_id, p.seal_key, nullptr});
  for (KeySlot& slot : slots_) {
    s = Aead::Create(slot.seal_key, &slot.aead);
    if (!s.ok()) return s;
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
  // Named so that top -H, perf and gdb tell them from the host's threads.
  flush_thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "crudjt-flush");
    FlushThreadMain();
  });
  sweep_thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "crudjt-sweep");
    SweepThreadMain();
  });
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
  // Which index key the store's tokens are hashed with.
  bool known = fresh;
  std::memcpy(index_key_, keys_.index_key, kSubkeyBytes);
  if (meta.version == 1) {
    // Format 1 used each secret's own index key.
    if (std::memcmp(meta.key_check, keys_.key_check, kKeyCheckBytes) == 0) known = true;
    for (const DerivedKeys& p : previous_) {
      if (!known && std::memcmp(meta.key_check, p.key_check, kKeyCheckBytes) == 0) {
        std::memcpy(index_key_, p.index_key, kSubkeyBytes);
        known = true;
      }
    }
  } else if (meta.version == 2) {
    known = UnwrapKey(keys_.wrap_key, meta.wrapped, index_key_).ok();
    for (const DerivedKeys& p : previous_) {
      if (!known) known = UnwrapKey(p.wrap_key, meta.wrapped, index_key_).ok();
    }
    if (!known) std::memcpy(index_key_, keys_.index_key, kSubkeyBytes);
    index_entries_ = meta.index_entries;
    previous_records_ = meta.previous_records;
  }
  info->key_changed = !known;
  legacy_keys_ = known && (meta.version == 1 || (meta.flags & kMetaFlagLegacyKeys) != 0);
  const bool rotated =
      !fresh && std::memcmp(meta.key_check, keys_.key_check, kKeyCheckBytes) != 0;
  const bool rewrite_meta = fresh || rotated || meta.version != kStoreFormatVersion;
  hasher_.reset(new IndexHasher(index_key_));
  {
    uint8_t subject_key[kSubkeyBytes];
    Status ks = DeriveSubjectKey(index_key_, subject_key);
    if (!ks.ok()) return ks;
    subject_hasher_.reset(new IndexHasher(subject_key));
    OPENSSL_cleanse(subject_key, sizeof(subject_key));
    ks = WrapKey(keys_.wrap_key, index_key_, wrapped_index_key_);
    if (!ks.ok()) return ks;
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

  std::vector<TreeKey> touched_entries;  // for RepairIndexLocked
  auto apply = [this, &touched_entries](wal::RecordType type, uint64_t,
                                        std::string_view payload) -> Status {
    TreeKey key;
    std::memcpy(key.bytes, payload.data(), kTreeKeyBytes);
    if (type == wal::kPut && SubjectIndex::IsEntryValue(payload.substr(kTreeKeyBytes))) {
      touched_entries.push_back(key);
    } else if (type == wal::kDelete) {
      std::string cur;
      RecordHead head;
      const uint8_t* nonce;
      std::string_view sealed;
      if (tree_->Get(key, &cur).ok() && !SubjectIndex::IsEntryValue(cur) &&
          SealedRecord::Decode(cur, &head, &nonce, &sealed).ok() && head.has_subject) {
        touched_entries.push_back(SubjectIndex::EntryKey(head.subject, key));
      }
    }
    // The counters follow the replayed changes exactly as they followed the
    // live ones.
    return ApplyChange(type, key, payload.substr(kTreeKeyBytes), ValueClass::kUnknown);
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
  if (!touched_entries.empty()) {
    s = RepairIndexLocked(&touched_entries);
    if (!s.ok()) return s;
  }
  if (!fresh && (rotated || meta.version == 1)) {
    // The counters depend on which key is current; the change of key (or a
    // format-1 store, which kept none) needs one full count.
    s = RecountLocked();
    if (!s.ok()) return s;
  }
  l.unlock();

  if (rewrite_meta) {
    // Record the format, key check and wrapped index key at once, so that
    // a store never has a zero meta once it holds data and a rotated store
    // no longer depends on the old secret for its index key.
    s = DoCheckpoint(/*force=*/true);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

// ---------------------------------------------------------------- crypto

int StoreImpl::SlotOf(uint32_t key_id) const {
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].key_id == key_id) return int(i);
  }
  return -1;
}

StoreImpl::ValueClass StoreImpl::Classify(std::string_view value) const {
  if (value.empty()) return ValueClass::kNone;
  if (SubjectIndex::IsEntryValue(value)) return ValueClass::kEntry;
  if (value.size() < kRecordFixedBytes) return ValueClass::kCurrent;  // never written
  return SealedRecord::KeyId(value) == keys_.key_id ? ValueClass::kCurrent : ValueClass::kPrevious;
}

bool StoreImpl::ParseToken(std::string_view token, TokenKeys* keys) const {
  if (token.empty() || token.size() > kMaxTokenChars || !IsBase64Url(token)) return false;
  hasher_->Hash(token, keys->k[0].bytes);
  keys->n = 1;
  if (SubjectIndex::InIndexDomain(keys->k[0])) {
    if (legacy_keys_) {
      keys->k[1] = keys->k[0];  // a format-1 record may live under the raw hash
      keys->n = 2;
    }
    SubjectIndex::MaskTokenKey(&keys->k[0]);
  }
  return true;
}

void StoreImpl::HashSubject(std::string_view subject, uint8_t sh[kSubjectHashBytes]) const {
  subject_hasher_->Hash(subject, sh);
}

Status StoreImpl::Seal(const TreeKey& key, std::string_view payload, int64_t ttl_ms,
                       int64_t max_reads, const uint8_t* nonce_in, const uint8_t* sh,
                       std::string* record) {
  uint8_t nonce[kAeadNonceBytes];
  Status s;
  if (nonce_in != nullptr) {
    std::memcpy(nonce, nonce_in, sizeof(nonce));
  } else {
    s = BufferedRandomBytes(nonce, sizeof(nonce));
    if (!s.ok()) return s;
  }
  RecordHead head;
  head.expires_at_ms = ttl_ms == kNoLimit ? 0 : NowMs() + ttl_ms;
  head.reads_left = max_reads;
  head.key_id = keys_.key_id;
  if (sh != nullptr) {
    head.has_subject = true;
    std::memcpy(head.subject, sh, kSubjectHashBytes);
  }
  uint8_t ad[32];
  const size_t ad_len = SealedRecord::AssociatedData(key.bytes, head, ad);
  // Head and ciphertext written in place: one allocation, no copy.
  record->resize(kRecordV2HeadBytes + payload.size() + kAeadTagBytes);
  uint8_t* p = reinterpret_cast<uint8_t*>(&(*record)[0]);
  SealedRecord::EncodeHead(head, nonce, p);
  s = slots_[0].aead->SealTo(nonce, std::string_view(reinterpret_cast<const char*>(ad), ad_len),
                             payload, p + kRecordV2HeadBytes);
  if (!s.ok()) record->clear();
  return s;
}

Status StoreImpl::Unseal(const TreeKey& key, std::string_view record, std::string* payload) {
  RecordHead head;
  const uint8_t* nonce;
  std::string_view sealed;
  Status s = SealedRecord::Decode(record, &head, &nonce, &sealed);
  if (!s.ok()) return s;
  const int slot = SlotOf(head.key_id);
  if (slot < 0) return Status::NotFound();
  uint8_t ad[32];
  const size_t ad_len = SealedRecord::AssociatedData(key.bytes, head, ad);
  s = slots_[size_t(slot)].aead->Open(
      nonce, std::string_view(reinterpret_cast<const char*>(ad), ad_len), sealed, payload);
  if (!s.ok()) {
    return Status::Corruption(dir_ + "/" + kPageFileName + ": a record sealed under " +
                              (slot == 0 ? "the current key" : "a previous key") +
                              " fails authentication");
  }
  return Status::OK();
}

// ---------------------------------------------------------------- stats

StoreStats StoreImpl::GetStats() {
  StoreStats st;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (tree_ && log_) {
      BTreeStats t = tree_->GetStats();
      st.live_tokens = t.records >= index_entries_ ? t.records - index_entries_ : 0;
      st.previous_key_records = previous_records_;
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
