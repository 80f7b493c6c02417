// The single main() of the C++ test binary; ctest runs it once per test
// file with --source-file so that each unit reports on its own.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
