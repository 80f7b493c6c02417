#!/usr/bin/env bash
# Builds the C++ engine (cpp/) and runs its ctest suite.
#
#   scripts/test-cpp.sh              RelWithDebInfo build in build-cpp/
#   scripts/test-cpp.sh --sanitize   also build-cpp-asan (address,undefined)
#                                    and build-cpp-tsan (thread)
#
# Needs: cmake, g++ (or clang++), libssl-dev (OpenSSL >= 3.0), doctest-dev.
# Environment: CRUDJT_BUILD_PREFIX (default build-cpp) names the build
# directories, relative to the repository root; JOBS (default 2) sets the
# build parallelism.
#
# The last line is always "cpp: N passed, N failed" (ctest results summed
# over every build; a configure or build failure counts as one failed
# test). The exit status is non-zero if anything failed.
set -u -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="${CRUDJT_BUILD_PREFIX:-build-cpp}"
JOBS="${JOBS:-2}"

SANITIZE=0
for arg in "$@"; do
  case "$arg" in
    --sanitize) SANITIZE=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "test-cpp.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

TOTAL_PASSED=0
TOTAL_FAILED=0
SUMMARY=()

# run_suite <label> <build dir> <sanitizers or ""> [VAR=value ...]
run_suite() {
  local label="$1" dir="$ROOT/$2" sanitize="$3"
  shift 3
  echo "==> [$label] configure + build in ${dir#"$ROOT"/}"
  if ! cmake -S "$ROOT/cpp" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
         -DCRUDJT_SANITIZE="$sanitize"; then
    echo "==> [$label] configure FAILED" >&2
    TOTAL_FAILED=$((TOTAL_FAILED + 1)); SUMMARY+=("$label: configure failed")
    return
  fi
  if ! cmake --build "$dir" -j"$JOBS"; then
    echo "==> [$label] build FAILED" >&2
    TOTAL_FAILED=$((TOTAL_FAILED + 1)); SUMMARY+=("$label: build failed")
    return
  fi

  echo "==> [$label] ctest"
  local out
  out="$(cd "$dir" && env "$@" ctest --output-on-failure 2>&1)"
  local rc=$?
  echo "$out"
  # "100% tests passed, 0 tests failed out of 9"
  local line failed total
  line="$(grep -E '[0-9]+ tests failed out of [0-9]+' <<<"$out" | tail -1)"
  if [[ -z "$line" ]]; then
    if grep -q 'No tests were found' <<<"$out"; then
      failed=0; total=0
    else
      echo "==> [$label] could not read ctest's result" >&2
      TOTAL_FAILED=$((TOTAL_FAILED + 1)); SUMMARY+=("$label: ctest did not report")
      return
    fi
  else
    failed="$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")"
    total="$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")"
  fi
  if [[ $rc -ne 0 && $failed -eq 0 ]]; then failed=1; total=$((total + 1)); fi
  TOTAL_PASSED=$((TOTAL_PASSED + total - failed))
  TOTAL_FAILED=$((TOTAL_FAILED + failed))
  SUMMARY+=("$label: $((total - failed)) passed, $failed failed")
}

# LeakSanitizer needs ptrace-like access that some containers deny; probe
# it once with a tiny program and fall back to detect_leaks=0 (saying so).
lsan_works() {
  local tmp
  tmp="$(mktemp -d)" || return 1
  printf 'int main() { return 0; }\n' >"$tmp/probe.cc"
  local ok=1
  if "${CXX:-c++}" -fsanitize=address "$tmp/probe.cc" -o "$tmp/probe" >/dev/null 2>&1 &&
     ASAN_OPTIONS=detect_leaks=1 "$tmp/probe" >/dev/null 2>&1; then
    ok=0
  fi
  rm -rf "$tmp"
  return $ok
}

# The 1M-token scale test (about a minute) runs in the release build only:
# under the sanitizers it would take many times longer and prove nothing more.
run_suite release "$PREFIX" "" CRUDJT_SCALE_TEST="${CRUDJT_SCALE_TEST:-1}"

if [[ $SANITIZE -eq 1 ]]; then
  if lsan_works; then
    LEAKS=1
  else
    LEAKS=0
    echo "==> note: LeakSanitizer does not work here; ASan runs with detect_leaks=0" >&2
  fi
  run_suite asan "$PREFIX-asan" "address,undefined" \
    ASAN_OPTIONS="detect_leaks=$LEAKS:abort_on_error=0:strict_string_checks=1" \
    UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
  run_suite tsan "$PREFIX-tsan" "thread" \
    TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
fi

echo
for s in "${SUMMARY[@]}"; do echo "  $s"; done
echo "cpp: $TOTAL_PASSED passed, $TOTAL_FAILED failed"
[[ $TOTAL_FAILED -eq 0 ]]
