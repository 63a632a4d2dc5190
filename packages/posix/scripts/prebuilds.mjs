#!/usr/bin/env node
/**
 * Regenerates the committed prebuilt addons, in prebuildify's layout, which
 * node-gyp-build loads:
 *
 *   prebuilds/linux-x64/node.napi.glibc.node
 *   prebuilds/linux-arm64/node.napi.glibc.node
 *
 * Each is built by node-gyp from binding.gyp (node-api only: one binary per
 * platform serves every Node version from 20 on). arm64 is cross-compiled
 * with Debian's gcc-aarch64-linux-gnu (apt-get install gcc-aarch64-linux-gnu):
 * an N-API addon links against nothing of Node's, so only the compiler
 * changes. Usage: node scripts/prebuilds.mjs [x64] [arm64]  (default: both).
 * The build/ directory is removed at the end, so that node-gyp-build then
 * loads the prebuild, as a consumer's install does.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const archs = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['x64', 'arm64'];

/** node-gyp: the one npm or pnpm put on PATH for scripts, else npm's own copy beside this node. */
function nodeGyp() {
  try {
    execFileSync('node-gyp', ['--version'], { stdio: 'ignore' });
    return ['node-gyp'];
  } catch {
    const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    if (existsSync(bundled)) return [process.execPath, bundled];
    throw new Error('node-gyp not found: run this script through npm or pnpm (npm run prebuilds)');
  }
}

const toolchains = {
  x64: { prefix: process.arch === 'x64' ? '' : 'x86_64-linux-gnu-' },
  arm64: { prefix: process.arch === 'arm64' ? '' : 'aarch64-linux-gnu-' },
};

const [gyp, ...gypArgs] = nodeGyp();
for (const arch of archs) {
  const tc = toolchains[arch];
  if (tc === undefined) throw new Error(`unknown arch ${arch} (x64 or arm64)`);
  const env = { ...process.env };
  if (tc.prefix) Object.assign(env, { CC: `${tc.prefix}gcc`, CXX: `${tc.prefix}g++`, LINK: `${tc.prefix}gcc`, AR: `${tc.prefix}ar` });
  console.log(`prebuilds: linux-${arch}${tc.prefix ? ` (cross, ${tc.prefix}gcc)` : ''}`);
  execFileSync(gyp, [...gypArgs, 'rebuild', `--arch=${arch}`], { cwd: pkg, env, stdio: 'inherit' });
  const out = join(pkg, 'prebuilds', `linux-${arch}`);
  mkdirSync(out, { recursive: true });
  const file = join(out, 'node.napi.glibc.node');
  copyFileSync(join(pkg, 'build', 'Release', 'posix.node'), file);
  execFileSync(`${tc.prefix}strip`, ['--strip-unneeded', file], { stdio: 'inherit' });
  console.log(`prebuilds: wrote ${file}`);
}
rmSync(join(pkg, 'build'), { recursive: true, force: true });
