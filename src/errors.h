// The one place where an engine Status becomes a JavaScript error.
//
// Every non-ok Status is thrown (or used to reject a promise) as a plain
// Error whose `message` is the Status message and whose `code` is
// Status::CodeName() ('CRUDJT_BUSY', 'CRUDJT_CORRUPTION', ...). The code is
// the contract; lib/errors.ts maps it, never the message text, to the public
// InvalidState / InternalError classes.
#ifndef CRUDJT_SRC_ERRORS_H_
#define CRUDJT_SRC_ERRORS_H_

#include <napi.h>

#include "crudjt/status.h"

namespace crudjt_node {

// Requires !status.ok().
Napi::Error StatusToError(Napi::Env env, const crudjt::Status& status);

// Throws StatusToError(env, status); returns undefined for `return`.
Napi::Value ThrowStatus(Napi::Env env, const crudjt::Status& status);

}  // namespace crudjt_node

#endif  // CRUDJT_SRC_ERRORS_H_
