// PromiseWorker: runs engine work on the libuv thread pool and settles a
// promise with the result.
//
// Execute() runs on a pool thread and must never touch napi_env or any JS
// value: subclasses copy their inputs into C++ members in the constructor,
// call the engine in Run(), and build the JS result in Resolve() on the main
// thread. A non-ok Status from Run() rejects the promise through
// StatusToError (errors.h), so async and sync methods fail alike.
#ifndef CRUDJT_SRC_PROMISE_WORKER_H_
#define CRUDJT_SRC_PROMISE_WORKER_H_

#include <napi.h>

#include "crudjt/status.h"
#include "errors.h"

namespace crudjt_node {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  // Queues the worker (which deletes itself when done) and returns its
  // promise.
  Napi::Promise QueueAndGetPromise() {
    Napi::Promise promise = deferred_.Promise();
    Queue();
    return promise;
  }

 protected:
  PromiseWorker(Napi::Env env, const char* name)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)) {}

  // Pool thread: do the work, return its status.
  virtual crudjt::Status Run() = 0;
  // Main thread, only after Run() returned ok: the value to resolve with.
  virtual Napi::Value Resolve(Napi::Env env) { return env.Undefined(); }

 private:
  void Execute() final { status_ = Run(); }

  void OnOK() final {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (!status_.ok()) {
      deferred_.Reject(StatusToError(env, status_).Value());
      return;
    }
    Napi::Value value = Resolve(env);
    if (env.IsExceptionPending()) {
      deferred_.Reject(env.GetAndClearPendingException().Value());
      return;
    }
    deferred_.Resolve(value);
  }

  // Only reached through SetError(), which the subclasses never call.
  void OnError(const Napi::Error& error) final { deferred_.Reject(error.Value()); }

  Napi::Promise::Deferred deferred_;
  crudjt::Status status_;
};

}  // namespace crudjt_node

#endif  // CRUDJT_SRC_PROMISE_WORKER_H_
