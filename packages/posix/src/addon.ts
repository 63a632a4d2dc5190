/**
 * The native addon, loaded on first use.
 *
 * Where it is looked for, in order: $OVS_POSIX_ADDON (a path to the .node
 * file); this package's directory; the @ovs/posix package that resolves
 * from here (when this code was bundled into another file); the bundle's own
 * directory (prebuilds/ copied beside a bundle). In each, as node-gyp-build
 * looks (its load.path(), which the install script uses): build/Release/ of
 * a source build, then prebuilds/<platform>-<arch>/ (prebuildify's layout).
 * The lookup is done here rather than by calling node-gyp-build at run time
 * because node-gyp-build is CommonJS that require()s Node's builtins, which
 * an ESM bundle (esbuild --format=esm) cannot do; it is opened with
 * process.dlopen, so a bundler's rewriting of require() does not matter.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the addon exports (native/*.c). A negative number result is -errno. */
export interface Addon {
  setLock(fd: number, type: number, wait: boolean): number;
  getLock(fd: number, type: number): [number, number] | number;
  readonly F_RDLCK: number;
  readonly F_WRLCK: number;
  readonly F_UNLCK: number;
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, pid: number, groups: number): number;
  connect(fd: number, pid: number, groups: number): number;
  getsockname(fd: number): [number, number] | number;
  setsockoptInt(fd: number, level: number, name: number, value: number): number;
  getsockoptInt(fd: number, level: number, name: number): [number] | number;
  sendto(fd: number, data: Uint8Array, pid: number, groups: number, flags: number): number;
  recv(fd: number, flags: number): [Uint8Array, number, number] | number;
  close(fd: number): number;
  /** SO_PEERCRED (native/peercred.c); absent from addons built before it. */
  getpeercred?(fd: number): [number, number, number] | number;
  readonly consts: Readonly<Record<string, number>>;
  /** A poll thread for `fd` (native/fd-watcher.c): unreferenced and disarmed to begin with. */
  watch(fd: number, onReady: (revents: number) => void): WatcherHandle | number;
  watchArm(w: WatcherHandle): number;
  watchDisarm(w: WatcherHandle): number;
  watchRef(w: WatcherHandle): number;
  watchUnref(w: WatcherHandle): number;
  watchStop(w: WatcherHandle): number;
}

/** The addon's handle of one poll thread (a napi external). */
export type WatcherHandle = { readonly __watcher: unique symbol };

let loaded: Addon | undefined;

/** The directory of this module's file, in ESM and CJS builds alike (and in a bundle: the bundle's). */
function here(): string | undefined {
  // import.meta.url first: a global __dirname may exist in ESM too (node -e defines one, '.').
  try {
    return dirname(fileURLToPath(import.meta.url));
  } catch {
    // the CJS build: no import.meta.url
  }
  return typeof __dirname === 'string' ? __dirname : undefined;
}

function isPosixPackage(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === '@ovs/posix';
  } catch {
    return false;
  }
}

/** The places the addon may be found, most specific first. */
function candidates(): string[] {
  const dirs: string[] = [];
  const dir = here();
  if (dir !== undefined) {
    const pkg = resolve(dir, '..');
    if (isPosixPackage(pkg)) dirs.push(pkg);
    try {
      dirs.push(dirname(createRequire(join(dir, 'noop.js')).resolve('@ovs/posix/package.json')));
    } catch {
      // not resolvable from here: no installed @ovs/posix beside a bundle
    }
    dirs.push(dir);
  }
  return [...new Set(dirs)];
}

/** This process's C library, as node-gyp-build tells them apart (musl on Alpine, else glibc). */
function libc(): string {
  if (process.env.LIBC) return process.env.LIBC;
  return process.platform === 'linux' && existsSync('/etc/alpine-release') ? 'musl' : 'glibc';
}

/**
 * The addon file in the package directory `dir`, as node-gyp-build's
 * load.path() finds it for a node-api addon: build/Release/*.node, then
 * prebuilds/<platform>-<arch>/ — a file whose dot-separated tags name this
 * runtime (node) or napi, and this libc if they name one.
 */
export function findAddon(dir: string): string | undefined {
  for (const sub of ['build/Release', 'build/Debug']) {
    const d = join(dir, sub);
    const file = list(d).find((f) => f.endsWith('.node'));
    if (file !== undefined) return join(d, file);
  }
  const tuple = join(dir, 'prebuilds', `${process.platform}-${process.arch}`);
  const mine = libc();
  const fits = list(tuple)
    .filter((f) => f.endsWith('.node'))
    .map((f) => ({ f, tags: f.split('.').slice(0, -1) }))
    .filter(({ tags }) => (tags.includes('napi') || tags.includes('node')) && !tags.some((t) => (t === 'glibc' || t === 'musl') && t !== mine))
    // The most specific first: one naming the libc before one that does not.
    .sort((a, b) => Number(b.tags.includes(mine)) - Number(a.tags.includes(mine)));
  return fits[0] && join(tuple, fits[0].f);
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The addon's exports, loaded on the first call (throws, with where it looked, if none is found). */
export function addon(): Addon {
  if (loaded !== undefined) return loaded;
  let file = process.env.OVS_POSIX_ADDON || undefined;
  const looked = candidates();
  for (const dir of looked) {
    if (file !== undefined) break;
    file = findAddon(dir);
  }
  if (file === undefined)
    throw new Error(
      `@ovs/posix: no native build of the addon for ${process.platform}-${process.arch} (${libc()}) in ${looked.join(', ') || 'no directory'}; build it from source with \`npx node-gyp rebuild\` in the @ovs/posix package directory, or set OVS_POSIX_ADDON to its .node file`,
    );
  const mod = { exports: {} as Addon };
  process.dlopen(mod, file);
  loaded = mod.exports;
  return loaded;
}

/** Whether the addon loads here (it is loaded by this call if it was not yet): false where no build fits this platform. */
export function addonAvailable(): boolean {
  try {
    addon();
    return true;
  } catch {
    return false;
  }
}
