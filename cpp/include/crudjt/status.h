// Status: the result of every engine call that can fail.
//
// The engine never throws across its API and never aborts on bad input:
// every fallible call returns a Status. Not-found is *not* an error for
// lookups; Store::Read reports it as Status::NotFound(), Update/Remove report
// it through their bool out-parameter with an ok() Status.
//
// A Status is a small value type; copying it copies the message.
// Thread-safety: a Status is immutable once built; share freely.
#ifndef CRUDJT_INCLUDE_STATUS_H_
#define CRUDJT_INCLUDE_STATUS_H_

#include <string>
#include <string_view>
#include <utility>

namespace crudjt {

class Status {
 public:
  enum class Code : int {
    kOk = 0,
    kNotFound = 1,         // the key/token does not exist (or is expired)
    kCorruption = 2,       // bytes on disk fail a checksum, decode or AEAD check
    kIOError = 3,          // the OS refused a read/write/fsync/open (incl. ENOSPC)
    kInvalidArgument = 4,  // the caller broke a documented precondition
    kBusy = 5,             // the store is locked by another process
    kNotSupported = 6,     // e.g. a store written by a newer format version
    kClosed = 7,           // the store was closed, or a fatal error made it stop
  };

  Status() noexcept = default;  // ok

  static Status OK() { return Status(); }
  static Status NotFound(std::string_view msg = {}) { return Status(Code::kNotFound, msg); }
  static Status Corruption(std::string_view msg) { return Status(Code::kCorruption, msg); }
  static Status IOError(std::string_view msg) { return Status(Code::kIOError, msg); }
  static Status InvalidArgument(std::string_view msg) { return Status(Code::kInvalidArgument, msg); }
  static Status Busy(std::string_view msg) { return Status(Code::kBusy, msg); }
  static Status NotSupported(std::string_view msg) { return Status(Code::kNotSupported, msg); }
  static Status Closed(std::string_view msg) { return Status(Code::kClosed, msg); }

  bool ok() const { return code_ == Code::kOk; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsIOError() const { return code_ == Code::kIOError; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsBusy() const { return code_ == Code::kBusy; }
  bool IsNotSupported() const { return code_ == Code::kNotSupported; }
  bool IsClosed() const { return code_ == Code::kClosed; }

  Code code() const { return code_; }
  const std::string& message() const { return msg_; }

  // "Corruption: <message>" etc.; "OK" for success.
  std::string ToString() const;

  // Stable machine-readable name used by bindings ("CRUDJT_CORRUPTION", ...).
  const char* CodeName() const;

 private:
  Status(Code code, std::string_view msg) : code_(code), msg_(msg) {}

  Code code_ = Code::kOk;
  std::string msg_;
};

inline const char* Status::CodeName() const {
  switch (code_) {
    case Code::kOk: return "CRUDJT_OK";
    case Code::kNotFound: return "CRUDJT_NOT_FOUND";
    case Code::kCorruption: return "CRUDJT_CORRUPTION";
    case Code::kIOError: return "CRUDJT_IO_ERROR";
    case Code::kInvalidArgument: return "CRUDJT_INVALID_ARGUMENT";
    case Code::kBusy: return "CRUDJT_BUSY";
    case Code::kNotSupported: return "CRUDJT_NOT_SUPPORTED";
    case Code::kClosed: return "CRUDJT_CLOSED";
  }
  return "CRUDJT_UNKNOWN";
}

inline std::string Status::ToString() const {
  if (ok()) return "OK";
  static constexpr const char* kNames[] = {"OK", "NotFound", "Corruption", "IO error",
                                           "Invalid argument", "Busy", "Not supported",
                                           "Closed"};
  std::string out = kNames[static_cast<int>(code_)];
  if (!msg_.empty()) {
    out += ": ";
    out += msg_;
  }
  return out;
}

}  // namespace crudjt

#endif  // CRUDJT_INCLUDE_STATUS_H_
