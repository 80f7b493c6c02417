#!/usr/bin/env node
// Stand-in for node-gyp when prebuildify builds crudjt (package.json script
// "prebuildify": prebuildify --napi --strip --node-gyp scripts/prebuildify-cmake-js.js).
//
// prebuildify spawns `<node-gyp> rebuild --target=<v> --devdir=<d> --arch=<a>
// --release|--debug` and then takes the first *.node in build/Release (or
// build/Debug). We build with cmake-js instead (the addon is CMake-based),
// so this script maps those arguments onto `cmake-js compile`:
//   --target   ignored: the addon is N-API (NAPI_VERSION=8), one binary
//              serves every Node >= 18; headers come from npm's nodedir or
//              cmake-js's cache (see CMakeLists.txt).
//   --arch     the host arch builds in build/; another arch cross-compiles in
//              build/cross-<arch> with a CMake toolchain file
//              (CRUDJT_TOOLCHAIN_FILE, default scripts/toolchain-linux-<arch>.cmake),
//              then copies the addon into build/Release for prebuildify.
//   --debug    a Debug build.
// Set PREBUILD_STRIP_BIN (e.g. aarch64-linux-gnu-strip) when cross-building
// with --strip.
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const args = process.argv.slice(2);

function option(name) {
  const prefix = `--${name}=`;
  const hit = args.find((a) => a.startsWith(prefix));
  return hit === undefined ? undefined : hit.slice(prefix.length);
}

if (args[0] !== 'rebuild') {
  console.error(`prebuildify-cmake-js: expected "rebuild ...", got: ${args.join(' ')}`);
  process.exit(2);
}

const debug = args.includes('--debug');
const config = debug ? 'Debug' : 'Release';
const arch = option('arch') || process.arch;
const cross = arch !== process.arch;
const out = cross ? path.join('build', `cross-${arch}`) : 'build';
const parallel = process.env.CRUDJT_BUILD_JOBS || '2';

const cmakeJs = require.resolve('cmake-js/bin/cmake-js', { paths: [root] });
const cmd = [cmakeJs, 'compile', '--out', out, '--parallel', parallel];
if (debug) cmd.push('--debug');
if (cross) {
  const toolchain =
    process.env.CRUDJT_TOOLCHAIN_FILE ||
    path.join(root, 'scripts', `toolchain-${process.platform}-${arch}.cmake`);
  if (!fs.existsSync(toolchain)) {
    console.error(`prebuildify-cmake-js: no CMake toolchain file for ${process.platform}-${arch} (${toolchain}); set CRUDJT_TOOLCHAIN_FILE`);
    process.exit(2);
  }
  cmd.push('--arch', arch, `--CDCMAKE_TOOLCHAIN_FILE=${toolchain}`);
}

// Offline: without npm's nodedir cmake-js would download Node's headers;
// use the ones installed beside this node binary when they are there.
const env = { ...process.env };
const prefix = path.join(path.dirname(process.execPath), '..');
if (!env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'openssl', 'evp.h'))) {
  env.npm_config_nodedir = path.resolve(prefix);
}

console.error(`prebuildify-cmake-js: ${path.basename(process.execPath)} ${cmd.map((c) => path.relative(root, c) || c).join(' ')}`);
const run = spawnSync(process.execPath, cmd, { cwd: root, env, stdio: 'inherit' });
if (run.error) {
  console.error(`prebuildify-cmake-js: ${run.error.message}`);
  process.exit(1);
}
if (run.status !== 0) process.exit(run.status === null ? 1 : run.status);

const built = path.join(root, out, config, 'crudjt.node');
if (!fs.existsSync(built)) {
  console.error(`prebuildify-cmake-js: cmake-js finished but ${built} is missing`);
  process.exit(1);
}
// prebuildify strips the addon in place (GNU strip rewrites the same inode)
// and then renames it away. A process that has this very file loaded (a test
// run, a dev server) would see its mapped code change under it and crash, so
// hand prebuildify a fresh copy: the loaded inode stays intact.
function freshCopy(file) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.copyFileSync(file, tmp);
  fs.renameSync(tmp, file);
}

if (!cross) freshCopy(built);
if (cross) {
  // prebuildify collects from build/<config>; leave nothing else there.
  const dest = path.join(root, 'build', config);
  fs.mkdirSync(dest, { recursive: true });
  for (const f of fs.readdirSync(dest)) if (f.endsWith('.node')) fs.rmSync(path.join(dest, f));
  fs.copyFileSync(built, path.join(dest, 'crudjt.node'));
}
