// StoreWrap: the JavaScript object for one open crudjt::Store (binding.d.ts
// NativeStore), plus the per-environment registry that closes stores left
// open when a Node environment (the main thread or a worker thread) ends.
//
// Each method: unwrap, check state, re-check the arguments (TypeError, never
// an abort), call the engine, convert the result. create/read/update/remove
// are synchronous (microseconds of work, one write(); see doc/design.md);
// their *Async twins and sweep/flush/checkpoint/close run on the libuv pool.
//
// Lifetime: the engine store is held by a shared_ptr shared with in-flight
// pool workers, so neither close() nor garbage collection can free it under
// a running worker. close() drops the wrap's reference at once (later calls
// throw CRUDJT_CLOSED) and runs Store::Close() on the pool; the engine's
// Close() is idempotent, so a repeated close() waits for the same close.
#ifndef CRUDJT_SRC_STORE_WRAP_H_
#define CRUDJT_SRC_STORE_WRAP_H_

#include <napi.h>

#include <memory>
#include <unordered_set>

#include "crudjt/store.h"

namespace crudjt_node {

class StoreWrap;

// Stores opened in one environment and not closed yet. Main thread only.
class OpenStores {
 public:
  void Add(StoreWrap* wrap) { wraps_.insert(wrap); }
  void Remove(StoreWrap* wrap) { wraps_.erase(wrap); }
  // Environment teardown: closes every store synchronously.
  void CloseAll();

 private:
  std::unordered_set<StoreWrap*> wraps_;
};

// Per-environment addon state (napi instance data).
struct AddonData {
  Napi::FunctionReference store_constructor;
  std::shared_ptr<OpenStores> open_stores = std::make_shared<OpenStores>();
};

class StoreWrap : public Napi::ObjectWrap<StoreWrap> {
 public:
  // The (non-exported) class; only Open() makes instances.
  static Napi::Function DefineClass(Napi::Env env);

  // binding.open(dir, secretKey, options?) -> Promise<{store, info}>.
  static Napi::Value Open(const Napi::CallbackInfo& info);

  explicit StoreWrap(const Napi::CallbackInfo& info);
  ~StoreWrap() override;

  // Wraps an open engine store in a new JS object (registered for teardown).
  static Napi::Object NewInstance(Napi::Env env, std::unique_ptr<crudjt::Store> store);

  // Closes the engine store now, on the calling (main) thread, dropping
  // errors. For environment teardown only.
  void CloseNow();

 private:

  Napi::Value Create(const Napi::CallbackInfo& info);
  Napi::Value Read(const Napi::CallbackInfo& info);
  // readInto(token, scratch) -> -1 | payload length | Buffer (binding.d.ts).
  Napi::Value ReadInto(const Napi::CallbackInfo& info);
  Napi::Value Update(const Napi::CallbackInfo& info);
  Napi::Value Remove(const Napi::CallbackInfo& info);
  Napi::Value CreateAsync(const Napi::CallbackInfo& info);
  Napi::Value ReadAsync(const Napi::CallbackInfo& info);
  Napi::Value UpdateAsync(const Napi::CallbackInfo& info);
  Napi::Value RemoveAsync(const Napi::CallbackInfo& info);
  Napi::Value Touch(const Napi::CallbackInfo& info);
  Napi::Value TouchAsync(const Napi::CallbackInfo& info);
  Napi::Value RevokeSubject(const Napi::CallbackInfo& info);
  Napi::Value ListSubject(const Napi::CallbackInfo& info);
  Napi::Value RevokeHandle(const Napi::CallbackInfo& info);
  Napi::Value RevokeHandleAsync(const Napi::CallbackInfo& info);
  Napi::Value ApplyBatch(const Napi::CallbackInfo& info);
  Napi::Value ApplyBatchAsync(const Napi::CallbackInfo& info);
  Napi::Value ResealPrevious(const Napi::CallbackInfo& info);
  Napi::Value ExportRecords(const Napi::CallbackInfo& info);
  Napi::Value Sweep(const Napi::CallbackInfo& info);
  Napi::Value Flush(const Napi::CallbackInfo& info);
  Napi::Value Checkpoint(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  // The open store, or null after close() (then throws CRUDJT_CLOSED).
  std::shared_ptr<crudjt::Store> OpenStoreOrThrow(Napi::Env env) const;
  // The same without a reference count, for the synchronous methods: no
  // JavaScript (hence no close()) runs before they return, and the engine
  // store outlives the call (store_ or closing_ or a worker holds it).
  crudjt::Store* OpenStoreRawOrThrow(Napi::Env env) const;

  std::shared_ptr<crudjt::Store> store_;    // null once close() was called
  std::shared_ptr<crudjt::Store> closing_;  // the closed store, for repeated close()
  std::shared_ptr<OpenStores> registry_;
};

}  // namespace crudjt_node

#endif  // CRUDJT_SRC_STORE_WRAP_H_
