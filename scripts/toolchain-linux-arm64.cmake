# CMake toolchain: cross-compile the addon for linux-arm64 on an x64 Debian
# host with `apt-get install g++-aarch64-linux-gnu`. Used by
# scripts/prebuildify-cmake-js.js when prebuildify runs with --arch arm64
# (npm run prebuildify:arm64). Node's headers are the same for every arch
# (their OpenSSL config picks archs/linux-aarch64 by __aarch64__).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CRUDJT_CROSS_PREFIX aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${CRUDJT_CROSS_PREFIX}-gcc)
set(CMAKE_CXX_COMPILER ${CRUDJT_CROSS_PREFIX}-g++)
set(CMAKE_AR ${CRUDJT_CROSS_PREFIX}-ar CACHE FILEPATH "")
set(CMAKE_RANLIB ${CRUDJT_CROSS_PREFIX}-ranlib CACHE FILEPATH "")
set(CMAKE_STRIP ${CRUDJT_CROSS_PREFIX}-strip CACHE FILEPATH "")

set(CMAKE_FIND_ROOT_PATH /usr/${CRUDJT_CROSS_PREFIX})
# Programs (node, used to locate node-addon-api) run on the host.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Include dirs given by absolute path (Node's headers) are used as they are.
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
