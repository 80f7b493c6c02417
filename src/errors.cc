#include "errors.h"

#include <string>

namespace crudjt_node {

Napi::Error StatusToError(Napi::Env env, const crudjt::Status& status) {
  const std::string& text = status.message().empty() ? status.ToString() : status.message();
  Napi::Error error = Napi::Error::New(env, text);
  error.Set("code", Napi::String::New(env, status.CodeName()));
  return error;
}

Napi::Value ThrowStatus(Napi::Env env, const crudjt::Status& status) {
  StatusToError(env, status).ThrowAsJavaScriptException();
  return env.Undefined();
}

}  // namespace crudjt_node
