// Helpers shared by the store tests (temp dirs, keys, a settable clock).
#ifndef CRUDJT_STORE_STORE_TEST_UTIL_H_
#define CRUDJT_STORE_STORE_TEST_UTIL_H_

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "crudjt/store.h"
#include "store/store_impl.h"

namespace crudjt {
namespace testutil {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/crudjt-store-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string Store() const { return path + "/store"; }
};

inline std::string Secret(char fill = 'k', size_t n = 32) {
  std::string s(n, fill);
  for (size_t i = 0; i < n; ++i) s[i] = char(fill + i * 7);
  return s;
}

// A wall clock the test moves by hand.
struct FakeClock {
  std::shared_ptr<std::atomic<int64_t>> ms = std::make_shared<std::atomic<int64_t>>(1700000000000);
  std::function<int64_t()> Fn() const {
    auto p = ms;
    return [p] { return p->load(); };
  }
  void Advance(int64_t d) { ms->fetch_add(d); }
};

inline Options QuietOptions() {
  Options o;
  o.sweep_on_open = false;
  o.sweep_interval_ms = 0;
  return o;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (struct dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") out.push_back(n);
    }
    closedir(d);
  }
  return out;
}

inline StoreImpl* Impl(const std::unique_ptr<Store>& s) { return static_cast<StoreImpl*>(s.get()); }

}  // namespace testutil
}  // namespace crudjt

#endif  // CRUDJT_STORE_STORE_TEST_UTIL_H_
