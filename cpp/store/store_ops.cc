// StoreImpl: the per-token operations, batches, subjects, re-sealing and
// export. Every mutating method runs through RunBatch: prepare (validate,
// hash, seal) without the mutex, plan the tree changes under it, log them
// with one write (CommitLocked), apply, then fsync once if kSync.
#include <algorithm>
#include <cstring>

#include "crypto/random.h"
#include "store/store_impl.h"
#include "util/base64url.h"
#include "util/coding.h"
#include "wal/log_files.h"

namespace crudjt {

namespace {

constexpr size_t kTokenBytes = 16;
// Records visited per mutex hold by RevokeSubject, ResealPrevious and
// ExportRecords.
constexpr size_t kStepRecords = 256;

bool ValidLimit(int64_t v, int64_t max) { return v == kNoLimit || (v >= 1 && v <= max); }

Status CheckTtl(int64_t ttl_ms) {
  if (!ValidLimit(ttl_ms, kMaxTtlMs)) {
    return Status::InvalidArgument("ttl_ms must be 1.." + std::to_string(kMaxTtlMs) +
                                   " or kNoLimit, got " + std::to_string(ttl_ms));
  }
  return Status::OK();
}

Status CheckWriteArgs(std::string_view payload, int64_t ttl_ms, int64_t max_reads) {
  if (payload.empty()) return Status::InvalidArgument("payload is empty");
  if (payload.size() > kMaxPayloadBytes) {
    return Status::InvalidArgument("payload is " + std::to_string(payload.size()) +
                                   " bytes, more than " + std::to_string(kMaxPayloadBytes));
  }
  Status s = CheckTtl(ttl_ms);
  if (!s.ok()) return s;
  if (!ValidLimit(max_reads, kMaxReads)) {
    return Status::InvalidArgument("max_reads must be 1.." + std::to_string(kMaxReads) +
                                   " or kNoLimit, got " + std::to_string(max_reads));
  }
  return Status::OK();
}

Status CheckSubject(std::string_view subject) {
  if (subject.empty() || subject.size() > kMaxSubjectBytes) {
    return Status::InvalidArgument("subject must be 1.." + std::to_string(kMaxSubjectBytes) +
                                   " bytes, got " + std::to_string(subject.size()));
  }
  return Status::OK();
}

bool IsMutation(BatchOpType t) { return t != BatchOpType::kRead; }

bool SameKey(const TreeKey& a, const TreeKey& b) {
  return std::memcmp(a.bytes, b.bytes, kTreeKeyBytes) == 0;
}

// Decodes a handle into a tree key. False: not kHandleChars canonical
// base64url characters.
bool DecodeHandle(std::string_view handle, TreeKey* key) {
  if (handle.size() != kHandleChars || !IsBase64Url(handle)) return false;
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '-' ? 62 : 63;
  };
  uint32_t acc = 0;
  int bits = 0;
  size_t out = 0;
  for (char c : handle) {
    acc = (acc << 6) | uint32_t(val(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (out < kTreeKeyBytes) key->bytes[out] = uint8_t(acc >> bits);
      ++out;
    }
  }
  // 22 chars = 132 bits: 16 bytes and 4 bits that must be zero (canonical).
  return out == kTreeKeyBytes && (acc & ((1u << bits) - 1)) == 0;
}

}  // namespace

// The per-op state of RunBatch.
struct StoreImpl::OpState {
  Status status;              // validation error, or the op's outcome
  bool skip = false;          // decided before the lock (bad args, malformed token)
  TokenKeys keys;
  Sealed sealed[2];           // create/update: sealed under keys.k[0] (and k[1])
  std::string token;          // create
  bool wrote = false;         // planned changes
  bool found = false;         // read: live
  bool applied = false;       // update/remove/touch
  std::string value;          // read: the record, unsealed after commit
  RecordHead head;
  TreeKey key;
};

namespace {
uint64_t KeyPrefix(const TreeKey& k) {
  uint64_t v;
  std::memcpy(&v, k.bytes, sizeof(v));
  return v;
}
}  // namespace

const StoreImpl::Change* StoreImpl::Pending::Find(const TreeKey& key) const {
  if (changes.size() <= kLinearFind) {
    for (size_t i = changes.size(); i-- > 0;) {
      if (SameKey(changes[i].key, key)) return &changes[i];
    }
    return nullptr;
  }
  // A big batch: index the changes appended since the last Find (the keys
  // are keyed hashes, so their first 8 bytes spread well).
  for (; indexed < changes.size(); ++indexed) {
    by_prefix[KeyPrefix(changes[indexed].key)] = uint32_t(indexed);  // newest wins
  }
  auto it = by_prefix.find(KeyPrefix(key));
  if (it == by_prefix.end()) return nullptr;
  // Another key with the same prefix (2^-64) may have overwritten the slot:
  // fall back to the scan then.
  if (SameKey(changes[it->second].key, key)) return &changes[it->second];
  for (size_t i = changes.size(); i-- > 0;) {
    if (SameKey(changes[i].key, key)) return &changes[i];
  }
  return nullptr;
}

void StoreImpl::Pending::Clear() {
  changes.clear();
  // unordered_map::clear() zeroes every bucket even when empty, and the
  // buckets never shrink: after one batch of 4096 ops every single op
  // would pay for a 64 KiB memset. Only big batches index at all.
  if (indexed > 0) {
    if (by_prefix.bucket_count() > 4 * kLinearFind) {
      std::unordered_map<uint64_t, uint32_t>().swap(by_prefix);
    } else {
      by_prefix.clear();
    }
  }
  indexed = 0;
}

void StoreImpl::Pending::Truncate(size_t n) {
  changes.resize(n);
  if (indexed > 0) by_prefix.clear();  // rebuilt by the next Find
  indexed = 0;
}

// ---------------------------------------------------------------- locked helpers

Status StoreImpl::WritableLocked() const {
  if (closed_ || !opened_) return Status::Closed("store " + dir_ + " is closed");
  return bg_error_;
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

Status StoreImpl::SyncLog(const std::shared_ptr<wal::LogWriter>& log) {
  if (log->synced_size() >= log->size() && !log->has_predecessor()) return Status::OK();
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

void StoreImpl::Count(ValueClass c, int delta) {
  uint64_t* n = c == ValueClass::kEntry ? &index_entries_
                : c == ValueClass::kPrevious ? &previous_records_ : nullptr;
  if (n == nullptr) return;
  if (delta > 0) {
    *n += uint64_t(delta);
  } else if (*n >= uint64_t(-delta)) {
    *n -= uint64_t(-delta);
  }
}

Status StoreImpl::ApplyChange(wal::RecordType type, const TreeKey& key, std::string_view value,
                              ValueClass old) {
  if (old == ValueClass::kUnknown) {
    std::string cur;
    Status s = tree_->Get(key, &cur);
    if (s.IsNotFound()) {
      old = ValueClass::kNone;
    } else if (!s.ok()) {
      return s;
    } else {
      old = Classify(cur);
    }
  }
  if (type == wal::kPut) {
    Status s = tree_->Put(key, value);
    if (!s.ok()) return s;
    Count(old, -1);
    Count(Classify(value), +1);
    return Status::OK();
  }
  bool existed = false;
  Status s = tree_->Delete(key, &existed);
  if (!s.ok()) return s;
  if (existed) Count(old, -1);
  return Status::OK();
}

Status StoreImpl::CommitLocked(Pending* p) {
  if (p->changes.empty()) return Status::OK();
  std::string& buf = log_buf_;  // reused across commits (mu_ is held)
  buf.clear();
  buf.reserve(p->changes.size() * (wal::kRecordHeaderSize + kTreeKeyBytes + 96));
  uint64_t lsn = next_lsn_;
  for (const Change& c : p->changes) {
    std::string_view k(reinterpret_cast<const char*>(c.key.bytes), kTreeKeyBytes);
    if (!wal::LogWriter::EncodeRecord(c.type, lsn++, k, c.value, &buf)) {
      p->Clear();
      return Status::InvalidArgument("log record too large");
    }
  }
  Status s = log_->AddRecords(buf);
  if (!s.ok()) {
    if (log_->broken()) bg_error_ = s;
    p->Clear();
    return s;
  }
  next_lsn_ = lsn;
  for (const Change& c : p->changes) {
    s = ApplyChange(c.type, c.key, c.value, c.old);
    // The change is in the log but not in the tree: the two disagree until
    // a restart replays it, so refuse further writes.
    if (!s.ok()) {
      bg_error_ = s;
      break;
    }
  }
  p->Clear();
  // A huge batch must not pin its buffers for ever.
  if (buf.capacity() > (1u << 20)) std::string().swap(buf);
  if (p->changes.capacity() > 1024) std::vector<Change>().swap(p->changes);
  MaybeRequestCheckpoint();
  return s;
}

Status StoreImpl::Lookup(const TreeKey& key, const Pending& p, std::string* value) {
  if (const Change* c = p.Find(key)) {
    if (c->type == wal::kDelete) return Status::NotFound();
    *value = c->value;
    return Status::OK();
  }
  return tree_->Get(key, value);
}

Status StoreImpl::GetLive(const TokenKeys& keys, int64_t now, const Pending& p, TreeKey* key,
                          std::string* value, RecordHead* head) {
  for (int i = 0; i < keys.n; ++i) {
    Status s = Lookup(keys.k[i], p, value);
    if (s.IsNotFound()) continue;
    if (!s.ok()) return s;
    if (SubjectIndex::IsEntryValue(*value)) continue;  // not a token record
    const uint8_t* nonce;
    std::string_view sealed;
    s = SealedRecord::Decode(*value, head, &nonce, &sealed);
    if (!s.ok()) return Status::Corruption(dir_ + "/" + kPageFileName + ": " + s.message());
    if (SlotOf(head->key_id) < 0) return Status::NotFound();  // a secret we do not have
    if (head->expires_at_ms != 0 && head->expires_at_ms <= now) return Status::NotFound();
    *key = keys.k[i];
    return Status::OK();
  }
  return Status::NotFound();
}

void StoreImpl::PlanDeleteToken(const TreeKey& key, std::string_view value, Pending* p) {
  p->changes.push_back(Change{wal::kDelete, key, std::string(), Classify(value)});
  RecordHead head;
  const uint8_t* nonce;
  std::string_view sealed;
  if (SealedRecord::Decode(value, &head, &nonce, &sealed).ok() && head.has_subject) {
    p->changes.push_back(Change{wal::kDelete, SubjectIndex::EntryKey(head.subject, key),
                                std::string(), ValueClass::kUnknown});
  }
}

// ---------------------------------------------------------------- batch core

void StoreImpl::PrepareOp(const BatchOp& op, OpState* st) {
  auto fail = [st](Status s) {
    st->status = std::move(s);
    st->skip = true;
  };
  switch (op.type) {
    case BatchOpType::kCreate: {
      Status s = CheckWriteArgs(op.payload, op.ttl_ms, op.max_reads);
      if (s.ok() && !op.subject.empty()) s = CheckSubject(op.subject);
      if (!s.ok()) return fail(s);
      // The token and the nonce in one draw (crypto/random.h: buffered,
      // never handed out twice).
      uint8_t raw[kTokenBytes + kAeadNonceBytes];
      s = BufferedRandomBytes(raw, sizeof(raw));
      if (!s.ok()) return fail(s);
      st->token = Base64UrlEncode(raw, kTokenBytes);
      hasher_->Hash(st->token, st->keys.k[0].bytes);
      SubjectIndex::MaskTokenKey(&st->keys.k[0]);
      st->keys.n = 1;
      uint8_t sh[kSubjectHashBytes];
      if (!op.subject.empty()) HashSubject(op.subject, sh);
      st->sealed[0].key = st->keys.k[0];
      s = Seal(st->keys.k[0], op.payload, op.ttl_ms, op.max_reads, raw + kTokenBytes,
               op.subject.empty() ? nullptr : sh, &st->sealed[0].record);
      if (!s.ok()) return fail(s);
      return;
    }
    case BatchOpType::kUpdate: {
      Status s = CheckWriteArgs(op.payload, op.ttl_ms, op.max_reads);
      if (s.ok() && op.token.empty()) s = Status::InvalidArgument("token is empty");
      if (!s.ok()) return fail(s);
      if (!ParseToken(op.token, &st->keys)) {
        st->skip = true;  // never exists: not updated
        return;
      }
      // The subject is part of the associated data and Update keeps it: a
      // short peek under the mutex finds it. A put may change it before the
      // update is applied; RunOpLocked then re-seals.
      for (int i = 0; i < st->keys.n; ++i) {
        bool has = false;
        uint8_t sh[kSubjectHashBytes];
        {
          std::lock_guard<std::mutex> l(mu_);
          std::string v;
          if (tree_ && tree_->Get(st->keys.k[i], &v).ok() && !SubjectIndex::IsEntryValue(v)) {
            RecordHead h;
            const uint8_t* nonce;
            std::string_view sealed;
            if (SealedRecord::Decode(v, &h, &nonce, &sealed).ok() && h.has_subject) {
              has = true;
              std::memcpy(sh, h.subject, kSubjectHashBytes);
            }
          }
        }
        st->sealed[i].key = st->keys.k[i];
        s = Seal(st->keys.k[i], op.payload, op.ttl_ms, op.max_reads, nullptr, has ? sh : nullptr,
                 &st->sealed[i].record);
        if (!s.ok()) return fail(s);
      }
      return;
    }
    case BatchOpType::kPut: {
      Status s = CheckWriteArgs(op.payload, op.ttl_ms, op.max_reads);
      if (s.ok() && !op.subject.empty()) s = CheckSubject(op.subject);
      // Shorter tokens than ours could be guessed; ParseToken refuses the
      // rest (longer than kMaxTokenChars, or not base64url).
      if (s.ok() && (op.token.size() < kTokenChars || !ParseToken(op.token, &st->keys))) {
        s = Status::InvalidArgument("a chosen token must be " + std::to_string(kTokenChars) + " to " +
                                    std::to_string(kMaxTokenChars) + " base64url characters");
      }
      if (!s.ok()) return fail(s);
      st->token = std::string(op.token);
      uint8_t sh[kSubjectHashBytes];
      if (!op.subject.empty()) HashSubject(op.subject, sh);
      st->sealed[0].key = st->keys.k[0];
      s = Seal(st->keys.k[0], op.payload, op.ttl_ms, op.max_reads, nullptr,
               op.subject.empty() ? nullptr : sh, &st->sealed[0].record);
      if (!s.ok()) return fail(s);
      return;
    }
    case BatchOpType::kTouch: {
      Status s = op.token.empty() ? Status::InvalidArgument("token is empty") : CheckTtl(op.ttl_ms);
      if (!s.ok()) return fail(s);
      if (!ParseToken(op.token, &st->keys)) st->skip = true;
      return;
    }
    case BatchOpType::kRead:
    case BatchOpType::kRemove: {
      if (op.token.empty()) return fail(Status::InvalidArgument("token is empty"));
      if (!ParseToken(op.token, &st->keys)) {
        st->skip = true;
        if (op.type == BatchOpType::kRead) st->status = Status::NotFound();
      }
      return;
    }
  }
  fail(Status::InvalidArgument("unknown batch op type"));
}

void StoreImpl::RunOpLocked(const BatchOp& op, int64_t now, OpState* st, Pending* p) {
  if (op.type == BatchOpType::kCreate || op.type == BatchOpType::kPut) {
    // What a put overwrites: a live token goes through the ordinary delete
    // (its subject entry too), and so does a dead record (expired, or of a
    // key we no longer hold) under the new record's key, so that no entry
    // is left without its record. What the puts replace is classified at
    // commit (kUnknown), after the deletes before them.
    ValueClass overwritten = ValueClass::kNone;
    if (op.type == BatchOpType::kPut) {
      overwritten = ValueClass::kUnknown;
      std::string old;
      RecordHead old_head;
      TreeKey at;
      Status s = GetLive(st->keys, now, *p, &at, &old, &old_head);
      if (s.ok()) {
        PlanDeleteToken(at, old, p);
        st->applied = true;
      } else if (!s.IsNotFound()) {
        st->status = s;
        return;
      } else {
        s = Lookup(st->keys.k[0], *p, &old);
        if (s.ok() && !SubjectIndex::IsEntryValue(old)) {
          PlanDeleteToken(st->keys.k[0], old, p);
        } else if (!s.ok() && !s.IsNotFound()) {
          st->status = s;
          return;
        }
      }
    }
    const uint8_t* v = reinterpret_cast<const uint8_t*>(st->sealed[0].record.data());
    if (v[20] & kRecordFlagSubject) {
      // Entry first, record second: a batch torn between them leaves a
      // dangling entry (skipped and cleaned up), never an unindexed token.
      p->changes.push_back(Change{wal::kPut, SubjectIndex::EntryKey(v + 21, st->keys.k[0]),
                                  SubjectIndex::EntryValue(v + 21, st->keys.k[0]),
                                  op.type == BatchOpType::kPut ? ValueClass::kUnknown
                                                               : ValueClass::kNone});
    }
    p->changes.push_back(Change{wal::kPut, st->keys.k[0], std::move(st->sealed[0].record),
                                overwritten});
    return;
  }
  std::string value;
  RecordHead head;
  TreeKey key;
  Status s = GetLive(st->keys, now, *p, &key, &value, &head);
  if (!s.ok()) {
    // Not found: read -> NotFound; update/remove/touch -> not applied.
    if (!s.IsNotFound() || op.type == BatchOpType::kRead) st->status = s;
    return;
  }
  switch (op.type) {
    case BatchOpType::kRead: {
      st->found = true;
      st->key = key;
      if (head.reads_left != kNoLimit) {
        head.reads_left -= 1;
        if (head.reads_left == 0) {
          PlanDeleteToken(key, value, p);
        } else {
          std::string updated = value;
          SealedRecord::SetReadsLeft(&updated, head.reads_left);
          p->changes.push_back(Change{wal::kPut, key, std::move(updated), Classify(value)});
        }
      }
      st->value = std::move(value);
      st->head = head;
      return;
    }
    case BatchOpType::kUpdate: {
      const int i = SameKey(key, st->keys.k[0]) ? 0 : 1;
      std::string rec = std::move(st->sealed[i].record);
      const uint8_t* r = reinterpret_cast<const uint8_t*>(rec.data());
      const bool rec_has = (r[20] & kRecordFlagSubject) != 0;
      if (rec_has != head.has_subject ||
          (rec_has && std::memcmp(r + 21, head.subject, kSubjectHashBytes) != 0)) {
        // Sealed for the subject the token had when the op was prepared; a
        // put since (earlier in this batch, or by another caller between
        // the peek and now) gave it another one. Re-seal here (rare; the
        // AEAD takes no lock, so sealing under mu_ is allowed).
        Status s = Seal(key, op.payload, op.ttl_ms, op.max_reads, nullptr,
                        head.has_subject ? head.subject : nullptr, &rec);
        if (!s.ok()) {
          st->status = s;
          return;
        }
      }
      p->changes.push_back(Change{wal::kPut, key, std::move(rec), Classify(value)});
      st->applied = true;
      return;
    }
    case BatchOpType::kRemove:
      PlanDeleteToken(key, value, p);
      st->applied = true;
      return;
    case BatchOpType::kTouch: {
      std::string updated = value;
      SealedRecord::SetExpiresAt(&updated, op.ttl_ms == kNoLimit ? 0 : now + op.ttl_ms);
      p->changes.push_back(Change{wal::kPut, key, std::move(updated), Classify(value)});
      st->applied = true;
      return;
    }
    case BatchOpType::kCreate:
    case BatchOpType::kPut:
      return;
  }
}

Status StoreImpl::RunBatch(const BatchOp* ops, size_t n, OpState* states, BatchResult* results) {
  bool any_mutation = false;
  for (size_t i = 0; i < n; ++i) {
    PrepareOp(ops[i], &states[i]);
    any_mutation = any_mutation || (IsMutation(ops[i].type) && !states[i].skip);
  }
  bool wrote = false;
  Status commit;
  int64_t now;
  {
    std::unique_lock<std::mutex> l(mu_);
    if (any_mutation) WaitForCheckpointRoom(&l);
    if (closed_ || !opened_) return Status::Closed("store " + dir_ + " is closed");
    const Status writable = bg_error_;
    now = NowMs();
    Pending& p = pending_;  // reused: its vector keeps its capacity
    p.Clear();
    for (size_t i = 0; i < n; ++i) {
      OpState& st = states[i];
      if (st.skip) continue;
      if (IsMutation(ops[i].type) && !writable.ok()) {
        st.status = writable;
        continue;
      }
      const size_t before = p.changes.size();
      RunOpLocked(ops[i], now, &st, &p);
      if (p.changes.size() > before && !writable.ok()) {
        // A read that must decrement cannot while writes are refused.
        p.Truncate(before);
        st.status = writable;
        st.found = false;
        continue;
      }
      st.wrote = p.changes.size() > before;
      wrote = wrote || st.wrote;
    }
    commit = CommitLocked(&p);
    // Reads that turned out to decrement wrote without waiting for room
    // before the lock (a read is not known to write until its record is
    // found): they wait after, so that a load of limited reads cannot grow
    // the page file past the bound either.
    if (wrote && !any_mutation) WaitForCheckpointRoom(&l);
  }
  Status sync;
  if (wrote && commit.ok()) sync = SyncIfRequired();
  for (size_t i = 0; i < n; ++i) {
    OpState& st = states[i];
    BatchResult& r = results[i];
    r = BatchResult();
    r.status = st.status;
    if (st.wrote && !commit.ok()) {
      r.status = commit;
      continue;
    }
    if (st.wrote && !sync.ok()) {
      r.status = sync;
      continue;
    }
    if (!r.status.ok()) continue;
    switch (ops[i].type) {
      case BatchOpType::kCreate:
        r.token = std::move(st.token);
        break;
      case BatchOpType::kRead:
        if (!st.found) {
          r.status = Status::NotFound();
          break;
        }
        r.status = Unseal(st.key, st.value, &r.read.payload);
        r.read.ttl_left_ms = st.head.expires_at_ms == 0 ? kNoLimit : st.head.expires_at_ms - now;
        r.read.reads_left = st.head.reads_left;
        break;
      default:
        r.applied = st.applied;
        break;
    }
  }
  return Status::OK();
}

// ---------------------------------------------------------------- single ops

Status StoreImpl::ApplyBatch(const std::vector<BatchOp>& ops, std::vector<BatchResult>* results) {
  results->clear();
  if (ops.size() > kMaxBatchOps) {
    return Status::InvalidArgument("a batch holds at most " + std::to_string(kMaxBatchOps) +
                                   " ops, got " + std::to_string(ops.size()));
  }
  if (ops.empty()) {
    std::lock_guard<std::mutex> l(mu_);
    return closed_ || !opened_ ? Status::Closed("store " + dir_ + " is closed") : Status::OK();
  }
  std::vector<OpState> states(ops.size());
  results->resize(ops.size());
  Status s = RunBatch(ops.data(), ops.size(), states.data(), results->data());
  if (!s.ok()) results->clear();
  return s;
}

// The single ops: RunBatch over one op whose state and result live on the
// stack (no vectors; the planned changes go to the reused pending_).
Status StoreImpl::RunOne(const BatchOp& op, BatchResult* out) {
  OpState st;
  Status s = RunBatch(&op, 1, &st, out);
  if (!s.ok()) return s;
  return out->status;
}

#define CRUDJT_RUN_ONE(op, out) RunOne(op, out)

Status StoreImpl::Create(std::string_view payload, int64_t ttl_ms, int64_t max_reads,
                         std::string* token, std::string_view subject) {
  BatchOp op;
  op.type = BatchOpType::kCreate;
  op.payload = payload;
  op.ttl_ms = ttl_ms;
  op.max_reads = max_reads;
  op.subject = subject;
  BatchResult r;
  Status s = CRUDJT_RUN_ONE(op, &r);
  if (s.ok()) *token = std::move(r.token);
  return s;
}

Status StoreImpl::Read(std::string_view token, ReadResult* result) {
  BatchOp op;
  op.type = BatchOpType::kRead;
  op.token = token;
  BatchResult r;
  Status s = CRUDJT_RUN_ONE(op, &r);
  if (s.ok()) *result = std::move(r.read);
  return s;
}

Status StoreImpl::Update(std::string_view token, std::string_view payload, int64_t ttl_ms,
                         int64_t max_reads, bool* updated) {
  *updated = false;
  BatchOp op;
  op.type = BatchOpType::kUpdate;
  op.token = token;
  op.payload = payload;
  op.ttl_ms = ttl_ms;
  op.max_reads = max_reads;
  BatchResult r;
  Status s = CRUDJT_RUN_ONE(op, &r);
  *updated = s.ok() && r.applied;
  return s;
}

Status StoreImpl::Remove(std::string_view token, bool* removed) {
  *removed = false;
  BatchOp op;
  op.type = BatchOpType::kRemove;
  op.token = token;
  BatchResult r;
  Status s = CRUDJT_RUN_ONE(op, &r);
  *removed = s.ok() && r.applied;
  return s;
}

Status StoreImpl::Touch(std::string_view token, int64_t ttl_ms, bool* touched) {
  *touched = false;
  BatchOp op;
  op.type = BatchOpType::kTouch;
  op.token = token;
  op.ttl_ms = ttl_ms;
  BatchResult r;
  Status s = CRUDJT_RUN_ONE(op, &r);
  *touched = s.ok() && r.applied;
  return s;
}

#undef CRUDJT_RUN_ONE

// ---------------------------------------------------------------- subjects

Status StoreImpl::RevokeSubject(std::string_view subject, uint64_t* removed) {
  *removed = 0;
  Status s = CheckSubject(subject);
  if (!s.ok()) return s;
  uint8_t sh[kSubjectHashBytes];
  HashSubject(subject, sh);
  TreeKey after = SubjectIndex::ScanStart(sh);
  bool wrote = false;
  for (bool done = false; !done;) {
    std::unique_lock<std::mutex> l(mu_);  // one step per hold
    WaitForCheckpointRoom(&l);
    s = WritableLocked();
    if (!s.ok()) return s;
    std::vector<std::pair<TreeKey, TreeKey>> entries;  // (entry key, token key)
    TreeKey last;
    bool end = false;
    s = tree_->Scan(&after, kStepRecords,
                    [&](const TreeKey& k, std::string_view v) {
                      if (!SubjectIndex::HasPrefix(k, sh)) {
                        done = true;
                        return false;
                      }
                      TreeKey tk;
                      if (SubjectIndex::EntryMatches(v, sh, &tk)) entries.emplace_back(k, tk);
                      return true;
                    },
                    &last, &end);
    if (!s.ok()) return s;
    done = done || end;
    const int64_t now = NowMs();
    Pending p;
    uint64_t count = 0;
    for (const auto& e : entries) {
      std::string value;
      Status g = tree_->Get(e.second, &value);
      if (!g.ok() && !g.IsNotFound()) return g;
      RecordHead head;
      const uint8_t* nonce;
      std::string_view sealed;
      const bool ours = g.ok() && !SubjectIndex::IsEntryValue(value) &&
                        SealedRecord::Decode(value, &head, &nonce, &sealed).ok() &&
                        head.has_subject && std::memcmp(head.subject, sh, kSubjectHashBytes) == 0;
      if (ours) {
        if (SlotOf(head.key_id) >= 0 && (head.expires_at_ms == 0 || head.expires_at_ms > now)) {
          ++count;
        }
        PlanDeleteToken(e.second, value, &p);  // the record and this entry
      } else {
        // Dangling (its record is gone or belongs elsewhere): drop it.
        p.changes.push_back(Change{wal::kDelete, e.first, std::string(), ValueClass::kEntry});
      }
    }
    wrote = wrote || !p.changes.empty();
    s = CommitLocked(&p);
    if (!s.ok()) return s;
    *removed += count;
    after = last;
  }
  if (wrote) return SyncIfRequired();
  return Status::OK();
}

Status StoreImpl::ListSubject(std::string_view subject, std::vector<SessionInfo>* sessions) {
  sessions->clear();
  Status s = CheckSubject(subject);
  if (!s.ok()) return s;
  uint8_t sh[kSubjectHashBytes];
  HashSubject(subject, sh);
  TreeKey after = SubjectIndex::ScanStart(sh);
  for (bool done = false; !done;) {
    std::lock_guard<std::mutex> l(mu_);
    if (closed_ || !opened_) return Status::Closed("store " + dir_ + " is closed");
    std::vector<TreeKey> tokens;
    TreeKey last;
    bool end = false;
    s = tree_->Scan(&after, kStepRecords,
                    [&](const TreeKey& k, std::string_view v) {
                      if (!SubjectIndex::HasPrefix(k, sh)) {
                        done = true;
                        return false;
                      }
                      TreeKey tk;
                      if (SubjectIndex::EntryMatches(v, sh, &tk)) tokens.push_back(tk);
                      return true;
                    },
                    &last, &end);
    if (!s.ok()) return s;
    done = done || end;
    const int64_t now = NowMs();
    Pending none;
    for (const TreeKey& tk : tokens) {
      TokenKeys keys;
      keys.k[0] = tk;
      keys.n = 1;
      std::string value;
      RecordHead head;
      TreeKey key;
      Status g = GetLive(keys, now, none, &key, &value, &head);
      if (g.IsNotFound()) continue;
      if (!g.ok()) return g;
      if (!head.has_subject || std::memcmp(head.subject, sh, kSubjectHashBytes) != 0) continue;
      SessionInfo info;
      info.handle = Base64UrlEncode(tk.bytes, kTreeKeyBytes);
      info.ttl_left_ms = head.expires_at_ms == 0 ? kNoLimit : head.expires_at_ms - now;
      info.reads_left = head.reads_left;
      sessions->push_back(std::move(info));
    }
    after = last;
  }
  return Status::OK();
}

Status StoreImpl::RevokeHandle(std::string_view handle, bool* removed) {
  *removed = false;
  TreeKey tk;
  const bool valid = DecodeHandle(handle, &tk);
  {
    std::unique_lock<std::mutex> l(mu_);
    if (valid) WaitForCheckpointRoom(&l);
    Status s = WritableLocked();
    if (s.IsClosed() || !valid) return s.IsClosed() ? s : Status::OK();
    if (!s.ok()) return s;
    TokenKeys keys;
    keys.k[0] = tk;
    keys.n = 1;
    Pending p;
    std::string value;
    RecordHead head;
    TreeKey key;
    s = GetLive(keys, NowMs(), p, &key, &value, &head);
    if (s.IsNotFound()) return Status::OK();
    if (!s.ok()) return s;
    PlanDeleteToken(key, value, &p);
    s = CommitLocked(&p);
    if (!s.ok()) return s;
  }
  Status s = SyncIfRequired();
  if (!s.ok()) return s;
  *removed = true;
  return Status::OK();
}

Status StoreImpl::RepairIndexLocked(std::vector<TreeKey>* touched) {
  std::sort(touched->begin(), touched->end(), [](const TreeKey& a, const TreeKey& b) {
    return std::memcmp(a.bytes, b.bytes, kTreeKeyBytes) < 0;
  });
  Pending p;
  for (size_t i = 0; i < touched->size(); ++i) {
    const TreeKey& ek = (*touched)[i];
    if (i > 0 && SameKey(ek, (*touched)[i - 1])) continue;
    std::string entry;
    Status s = tree_->Get(ek, &entry);
    if (s.IsNotFound()) continue;
    if (!s.ok()) return s;
    if (!SubjectIndex::IsEntryValue(entry)) continue;
    uint8_t sh[kSubjectHashBytes];
    TreeKey tk;
    SubjectIndex::DecodeEntry(entry, sh, &tk);
    std::string value;
    s = tree_->Get(tk, &value);
    if (!s.ok() && !s.IsNotFound()) return s;
    RecordHead head;
    const uint8_t* nonce;
    std::string_view sealed;
    const bool ok = s.ok() && !SubjectIndex::IsEntryValue(value) &&
                    SealedRecord::Decode(value, &head, &nonce, &sealed).ok() &&
                    head.has_subject &&
                    std::memcmp(head.subject, sh, kSubjectHashBytes) == 0 &&
                    SameKey(SubjectIndex::EntryKey(sh, tk), ek);
    if (!ok) p.changes.push_back(Change{wal::kDelete, ek, std::string(), ValueClass::kEntry});
  }
  return CommitLocked(&p);
}

Status StoreImpl::TEST_CheckIndex() {
  std::lock_guard<std::mutex> l(mu_);
  if (!tree_) return Status::Closed("store " + dir_ + " is closed");
  std::vector<std::pair<TreeKey, std::string>> entries;
  std::vector<TreeKey> subject_records;  // entry keys they need
  uint64_t previous = 0;
  TreeKey after;
  bool have_after = false;
  std::string problem;
  for (bool done = false; !done;) {
    TreeKey last;
    size_t visited = 0;
    Status s = tree_->Scan(have_after ? &after : nullptr, 4096,
                           [&](const TreeKey& k, std::string_view v) {
                             ++visited;
                             const ValueClass c = Classify(v);
                             if (c == ValueClass::kPrevious) ++previous;
                             if (c == ValueClass::kEntry) {
                               entries.emplace_back(k, std::string(v));
                               return true;
                             }
                             RecordHead head;
                             const uint8_t* nonce;
                             std::string_view sealed;
                             if (!SealedRecord::Decode(v, &head, &nonce, &sealed).ok()) {
                               if (problem.empty()) problem = "a tree value is neither an entry nor a record";
                               return true;
                             }
                             if (head.has_subject) subject_records.push_back(SubjectIndex::EntryKey(head.subject, k));
                             return true;
                           },
                           &last, &done);
    if (!s.ok()) return s;
    if (visited == 0) break;
    after = last;
    have_after = true;
  }
  if (!problem.empty()) return Status::Corruption(problem);
  auto less = [](const TreeKey& a, const TreeKey& b) {
    return std::memcmp(a.bytes, b.bytes, kTreeKeyBytes) < 0;
  };
  std::vector<TreeKey> entry_keys;
  for (const auto& e : entries) {
    uint8_t sh[kSubjectHashBytes];
    TreeKey tk;
    SubjectIndex::DecodeEntry(e.second, sh, &tk);
    const std::string where = "index entry " + Base64UrlEncode(e.first.bytes, kTreeKeyBytes);
    if (!SameKey(SubjectIndex::EntryKey(sh, tk), e.first)) {
      return Status::Corruption(where + " is stored under the wrong key");
    }
    std::string value;
    Status s = tree_->Get(tk, &value);
    if (s.IsNotFound()) return Status::Corruption(where + ": its token record is gone");
    if (!s.ok()) return s;
    RecordHead head;
    const uint8_t* nonce;
    std::string_view sealed;
    if (SubjectIndex::IsEntryValue(value) ||
        !SealedRecord::Decode(value, &head, &nonce, &sealed).ok() || !head.has_subject ||
        std::memcmp(head.subject, sh, kSubjectHashBytes) != 0) {
      return Status::Corruption(where + ": its token record is not of its subject");
    }
    entry_keys.push_back(e.first);
  }
  std::sort(entry_keys.begin(), entry_keys.end(), less);
  for (const TreeKey& need : subject_records) {
    if (!std::binary_search(entry_keys.begin(), entry_keys.end(), need, less)) {
      return Status::Corruption("a token record with a subject has no index entry");
    }
  }
  if (entries.size() != index_entries_) {
    return Status::Corruption("index entry counter " + std::to_string(index_entries_) +
                              ", tree holds " + std::to_string(entries.size()));
  }
  if (previous != previous_records_) {
    return Status::Corruption("previous-key counter " + std::to_string(previous_records_) +
                              ", tree holds " + std::to_string(previous));
  }
  return Status::OK();
}

// ---------------------------------------------------------------- rotation

Status StoreImpl::RecountLocked() {
  index_entries_ = 0;
  previous_records_ = 0;
  TreeKey after;
  bool have_after = false;
  for (bool done = false; !done;) {
    TreeKey last;
    size_t visited = 0;
    Status s = tree_->Scan(have_after ? &after : nullptr, 4096,
                           [&](const TreeKey&, std::string_view v) {
                             ++visited;
                             Count(Classify(v), +1);
                             return true;
                           },
                           &last, &done);
    if (!s.ok()) return s;
    if (visited == 0) break;
    after = last;
    have_after = true;
  }
  return Status::OK();
}

Status StoreImpl::ResealPrevious(uint64_t* count) {
  if (count) *count = 0;
  uint64_t total = 0;
  TreeKey after;
  bool have_after = false;
  bool wrote = false;
  for (bool done = false; !done;) {
    // Step 1 (mutex): collect a few hundred records of previous keys.
    std::vector<std::pair<TreeKey, std::string>> old;
    {
      std::lock_guard<std::mutex> l(mu_);
      Status s = WritableLocked();
      if (!s.ok()) return s;
      if (previous_records_ == 0) break;
      TreeKey last;
      size_t visited = 0;
      s = tree_->Scan(have_after ? &after : nullptr, kStepRecords,
                      [&](const TreeKey& k, std::string_view v) {
                        ++visited;
                        if (Classify(v) == ValueClass::kPrevious && SlotOf(SealedRecord::KeyId(v)) > 0) {
                          old.emplace_back(k, std::string(v));
                        }
                        return true;
                      },
                      &last, &done);
      if (!s.ok()) return s;
      if (visited == 0) break;
      after = last;
      have_after = true;
    }
    // Step 2 (no mutex): open under the old key, seal under the current.
    std::vector<std::pair<size_t, std::string>> fresh;
    for (size_t i = 0; i < old.size(); ++i) {
      std::string payload;
      Status s = Unseal(old[i].first, old[i].second, &payload);
      if (!s.ok()) return s;
      RecordHead head;
      const uint8_t* nonce;
      std::string_view sealed;
      s = SealedRecord::Decode(old[i].second, &head, &nonce, &sealed);
      if (!s.ok()) return s;
      std::string rec;
      s = Seal(old[i].first, payload, kNoLimit, head.reads_left, nullptr,
               head.has_subject ? head.subject : nullptr, &rec);
      if (!s.ok()) return s;
      SealedRecord::SetExpiresAt(&rec, head.expires_at_ms);
      fresh.emplace_back(i, std::move(rec));
    }
    if (fresh.empty()) continue;
    // Step 3 (mutex): replace each record unless it changed meanwhile.
    {
      std::unique_lock<std::mutex> l(mu_);
      WaitForCheckpointRoom(&l);
      Status s = WritableLocked();
      if (!s.ok()) return s;
      Pending p;
      for (auto& f : fresh) {
        const auto& o = old[f.first];
        std::string cur;
        s = tree_->Get(o.first, &cur);
        if (s.IsNotFound()) continue;
        if (!s.ok()) return s;
        if (cur != o.second) continue;  // updated, read or deleted meanwhile
        p.changes.push_back(Change{wal::kPut, o.first, std::move(f.second), ValueClass::kPrevious});
        ++total;
      }
      wrote = wrote || !p.changes.empty();
      s = CommitLocked(&p);
      if (!s.ok()) return s;
    }
  }
  if (count) *count = total;
  if (wrote) return SyncIfRequired();
  return Status::OK();
}

// ---------------------------------------------------------------- export

Status StoreImpl::ExportRecords(std::string_view after_key, size_t limit,
                                std::vector<std::pair<std::string, std::string>>* out,
                                bool* done) {
  out->clear();
  *done = false;
  if (!after_key.empty() && after_key.size() != kTreeKeyBytes) {
    return Status::InvalidArgument("after_key must be empty or 16 bytes");
  }
  if (limit == 0) return Status::InvalidArgument("limit must be > 0");
  TreeKey after;
  bool have_after = !after_key.empty();
  if (have_after) std::memcpy(after.bytes, after_key.data(), kTreeKeyBytes);
  while (!*done && out->size() < limit) {
    std::lock_guard<std::mutex> l(mu_);
    if (closed_ || !opened_) return Status::Closed("store " + dir_ + " is closed");
    const int64_t now = NowMs();
    TreeKey last, processed;
    size_t visited = 0;
    bool full = false;
    Status s = tree_->Scan(have_after ? &after : nullptr, kStepRecords,
                           [&](const TreeKey& k, std::string_view v) {
                             if (out->size() >= limit) {
                               full = true;
                               return false;
                             }
                             ++visited;
                             processed = k;
                             if (SubjectIndex::IsEntryValue(v) || v.size() < kRecordFixedBytes) return true;
                             const int64_t exp = SealedRecord::ExpiresAt(v);
                             if (exp != 0 && exp <= now) return true;
                             out->emplace_back(std::string(reinterpret_cast<const char*>(k.bytes), kTreeKeyBytes),
                                               std::string(v));
                             return true;
                           },
                           &last, done);
    if (!s.ok()) return s;
    if (full) *done = false;
    if (visited == 0) {
      if (!full) *done = true;
      break;
    }
    after = processed;
    have_after = true;
  }
  return Status::OK();
}

}  // namespace crudjt
