// The only file that loads the native addon (src/ -> crudjt.node).
//
// node-gyp-build looks in the package root for build/Release/*.node (a
// source build) and then prebuilds/<platform>-<arch>/*.node (shipped in the
// npm tarball), at require time: no install script is involved, so npm 11
// and pnpm 10 install crudjt silently. When nothing fits, the error names
// the platform tuple and the one command that builds the addon from source.
import fs = require('fs');
import path = require('path');
import type { NativeBinding } from '../binding';

export type {
  NativeBinding,
  NativeConstants,
  NativeOpenInfo,
  NativeOpenOptions,
  NativeReadResult,
  NativeStats,
  NativeStore,
} from '../binding';

/** The package root: dist/binding.js and lib/binding.ts both sit one level below. */
export const PACKAGE_ROOT = path.join(__dirname, '..');

function libc(): string {
  if (process.platform !== 'linux') return 'n/a';
  try {
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
    const glibc = report?.header?.glibcVersionRuntime;
    if (glibc) return `glibc ${glibc}`;
  } catch {
    // fall through: reports may be disabled
  }
  return fs.existsSync('/etc/alpine-release') ? 'musl' : 'musl or unknown';
}

function platformTuple(): string {
  return (
    `platform=${process.platform} arch=${process.arch} libc=${libc()} ` +
    `node=${process.versions.node} abi=${process.versions.modules} napi=${process.versions.napi}`
  );
}

function buildCommand(): string {
  let hasCmakeJs = false;
  try {
    require.resolve('cmake-js/package.json', { paths: [PACKAGE_ROOT] });
    hasCmakeJs = true;
  } catch {
    hasCmakeJs = false;
  }
  const run = hasCmakeJs ? 'npm run build:native' : 'npx --yes cmake-js@8 compile --out build';
  return `cd ${JSON.stringify(PACKAGE_ROOT)} && ${run}`;
}

function load(): NativeBinding {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const nodeGypBuild = require('node-gyp-build') as { (dir: string): unknown; path(dir: string): string };
  let file: string;
  try {
    file = nodeGypBuild.path(PACKAGE_ROOT);
  } catch (err) {
    throw new Error(
      `crudjt: no prebuilt native addon fits this platform (${platformTuple()}).\n` +
        `Build it from source (needs CMake >= 3.16 and a C++17 compiler):\n  ${buildCommand()}`,
      { cause: err },
    );
  }
  try {
    return require(file) as NativeBinding;
  } catch (err) {
    throw new Error(
      `crudjt: the native addon ${file} failed to load (${platformTuple()}): ` +
        `${(err as Error).message}\n` +
        `Rebuild it from source (needs CMake >= 3.16 and a C++17 compiler):\n  ${buildCommand()}`,
      { cause: err },
    );
  }
}

const binding: NativeBinding = load();
export default binding;
