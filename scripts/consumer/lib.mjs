// What the consumer test and the README doc test share: the packages packed as
// they would be published, a registry serving them under the @ovs scope (npm
// takes everything else from its ordinary registry), fresh npm projects, and
// the Node versions to run them with.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const PNPM = ['--yes', 'pnpm@9.15.9'];

/** The workspace's publishable packages: { dir, name, version }. */
export function workspacePackages() {
  const out = [];
  for (const d of readdirSync(join(root, 'packages')).sort()) {
    const file = join(root, 'packages', d, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8'));
    if (pkg.private) continue;
    out.push({ dir: join(root, 'packages', d), short: d, name: pkg.name, version: pkg.version });
  }
  return out;
}

/** Runs a command, stdio inherited unless `capture`; throws on a non-zero status. */
export function run(cmd, args, opts = {}) {
  const { capture = false, ...rest } = opts;
  return execFileSync(cmd, args, { stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit', encoding: 'utf8', maxBuffer: 64 << 20, ...rest });
}

/** Runs a command, never throws: { status, stdout, stderr, signal }. Bounded by `timeout` ms. */
export function attempt(cmd, args, { timeout = 60_000, input, ...opts } = {}) {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.stdin.end(input ?? '');
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${timeout / 1000} s]`;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, timeout);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolvePromise({ status, signal, stdout, stderr });
    });
  });
}

/** A file of a tarball, as text. */
export function tarFile(tgz, path) {
  return run('tar', ['-xzOf', tgz, path], { capture: true });
}

/**
 * `pnpm pack` of every package into `outDir` (each package's prepack builds it),
 * then checks each tarball: no `workspace:` left, and every file its package.json
 * points at (main, module, types, exports, bin) is in it.
 * Returns Map(name -> { tgz, pkg, files }). With `reuse`, a tarball already in
 * `outDir` is taken as it is (to work on the tests without packing again).
 */
export function packAll(outDir, { log = console.log, reuse = false } = {}) {
  mkdirSync(outDir, { recursive: true });
  const packed = new Map();
  const problems = [];
  for (const p of workspacePackages()) {
    const t0 = Date.now();
    let out;
    const previous = join(outDir, `${p.name.replace('@', '').replace('/', '-')}-${p.version}.tgz`);
    if (reuse && existsSync(previous)) out = previous;
    else
      try {
        out = run('npx', [...PNPM, 'pack', '--pack-destination', outDir], { cwd: p.dir, capture: true });
      } catch (err) {
        const lines = `${err.stdout ?? ''}${err.stderr ?? ''}`.trim().split('\n');
        throw new Error(`${p.name}: pnpm pack failed (its prepack builds it):\n  ${lines.slice(-30).join('\n  ')}`);
      }
    const tgz = out
      .trim()
      .split('\n')
      .filter((l) => l.endsWith('.tgz'))
      .pop();
    if (!tgz || !existsSync(tgz)) throw new Error(`${p.name}: pnpm pack gave no tarball:\n${out}`);
    const pkg = JSON.parse(tarFile(tgz, 'package/package.json'));
    const files = new Set(
      run('tar', ['-tzf', tgz], { capture: true })
        .trim()
        .split('\n')
        .map((f) => f.replace(/^package\//, '')),
    );
    const raw = JSON.stringify(pkg);
    if (raw.includes('workspace:')) problems.push(`${p.name}: the packed package.json still says workspace: (${raw.match(/"[^"]*":"workspace:[^"]*"/g)})`);
    for (const f of referencedFiles(pkg)) if (!files.has(f)) problems.push(`${p.name}: ${f} is named by package.json but not in the tarball`);
    packed.set(p.name, { tgz, pkg, files });
    log(`packed ${p.name}@${pkg.version}: ${files.size} files (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  if (problems.length > 0) throw new Error(`tarballs:\n  ${problems.join('\n  ')}`);
  return packed;
}

/** Every file a package.json names: main, module, types, bin, every exports target. */
export function referencedFiles(pkg) {
  const out = new Set();
  const add = (f) => typeof f === 'string' && out.add(f.replace(/^\.\//, ''));
  add(pkg.main);
  add(pkg.module);
  add(pkg.types);
  for (const b of Object.values(typeof pkg.bin === 'string' ? { x: pkg.bin } : (pkg.bin ?? {}))) add(b);
  const walk = (v) => (typeof v === 'string' ? add(v) : v && typeof v === 'object' ? Object.values(v).forEach(walk) : undefined);
  walk(pkg.exports);
  return out;
}

/** The export subpaths of a package ('.' included), with their conditions. */
export function exportPaths(pkg) {
  const e = pkg.exports;
  if (!e) return [['.', pkg.main]];
  if (typeof e === 'string' || !Object.keys(e).some((k) => k.startsWith('.'))) return [['.', e]];
  return Object.entries(e);
}

/** The @ovs packages installing a package brings (dependencies, optional and peer ones), transitively, itself included. */
export function closure(name, packed) {
  const seen = new Set();
  const visit = (n) => {
    if (seen.has(n)) return;
    const entry = packed.get(n);
    if (!entry) throw new Error(`${n} is not a package of this workspace`);
    seen.add(n);
    for (const d of Object.keys({ ...entry.pkg.dependencies, ...entry.pkg.optionalDependencies, ...entry.pkg.peerDependencies })) if (packed.has(d)) visit(d);
  };
  visit(name);
  return seen;
}

/**
 * A registry for the @ovs scope on 127.0.0.1, serving the packed tarballs as a
 * registry serves published ones (packument with dist.tarball, shasum, integrity).
 * Consumer projects point only the @ovs scope at it (.npmrc), so npm resolves
 * `@ovs/x` and its dependencies on other @ovs packages exactly as after a publish.
 */
export async function startRegistry(packed) {
  const docs = new Map();
  const blobs = new Map();
  const server = createServer((req, res) => {
    const url = decodeURIComponent(req.url.split('?')[0]);
    const noStore = { 'cache-control': 'no-store' };
    if (url.startsWith('/-/tarball/')) {
      const blob = blobs.get(url);
      if (!blob) return void res.writeHead(404, noStore).end();
      res.writeHead(200, { ...noStore, 'content-type': 'application/octet-stream', 'content-length': blob.length }).end(blob);
      return;
    }
    const doc = docs.get(url.slice(1));
    if (!doc) return void res.writeHead(404, { ...noStore, 'content-type': 'application/json' }).end('{"error":"not found"}');
    res.writeHead(200, { ...noStore, 'content-type': 'application/json' }).end(JSON.stringify(doc));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  for (const [name, { tgz, pkg }] of packed) {
    const blob = readFileSync(tgz);
    const path = `/-/tarball/${name}/${pkg.version}.tgz`;
    blobs.set(path, blob);
    const dist = {
      tarball: base + path,
      shasum: createHash('sha1').update(blob).digest('hex'),
      integrity: `sha512-${createHash('sha512').update(blob).digest('base64')}`,
    };
    docs.set(name, { name, 'dist-tags': { latest: pkg.version }, versions: { [pkg.version]: { ...pkg, _id: `${name}@${pkg.version}`, dist } } });
  }
  return { url: `${base}/`, close: () => new Promise((r) => server.close(r)) };
}

/** A fresh npm project in `dir` whose @ovs scope comes from `registry`. */
export function freshProject(dir, registry, { cache } = {}) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }, null, 2)}\n`);
  const npmrc = [`@ovs:registry=${registry}`, 'audit=false', 'fund=false', 'update-notifier=false', 'package-lock=true'];
  if (cache) npmrc.push(`cache=${cache}`);
  writeFileSync(join(dir, '.npmrc'), `${npmrc.join('\n')}\n`);
}

/**
 * npm install in a project (npm, not pnpm), quietly; throws with npm's output on failure.
 * Asynchronous: the registry answering npm runs in this process.
 */
export async function npmInstall(dir, specs, { dev = false } = {}) {
  const args = ['install', '--no-audit', '--no-fund', '--loglevel=error', ...(dev ? ['--save-dev'] : []), ...specs];
  const r = await attempt('npm', args, { cwd: dir, timeout: 600_000 });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} in ${dir} failed:\n${r.stdout}${r.stderr}`);
}

/**
 * The Node versions to run consumers with: this machine's node (20) and Node 22
 * from npm's `node` package (only the npm registry is reachable), installed once
 * into `toolsDir` together with the TypeScript the checks use.
 * Returns { nodes: [{ label, bin, dir }], tsc }.
 */
export function tools(toolsDir, { node22 = '22', typescript = '5.9.3' } = {}) {
  const tsc = join(toolsDir, 'node_modules', 'typescript', 'bin', 'tsc');
  const n22 = join(toolsDir, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(tsc) || !existsSync(n22)) {
    mkdirSync(toolsDir, { recursive: true });
    if (!existsSync(join(toolsDir, 'package.json'))) writeFileSync(join(toolsDir, 'package.json'), '{"name":"consumer-tools","private":true}\n');
    run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', `node@${node22}`, `typescript@${typescript}`], { cwd: toolsDir, capture: true });
  }
  const version = (bin) => run(bin, ['--version'], { capture: true }).trim();
  const nodes = [
    { label: `node ${version(process.execPath)}`, bin: process.execPath },
    { label: `node ${version(n22)}`, bin: n22 },
  ].map((n) => ({ ...n, dir: dirname(n.bin) }));
  if (!nodes[0].label.startsWith('node v20.')) console.warn(`note: the host node is ${nodes[0].label}, not 20`);
  if (!nodes[1].label.startsWith('node v22.')) throw new Error(`npm's node@${node22} gave ${nodes[1].label}`);
  return { nodes, tsc };
}

/** An environment whose `node` (for #! lines and child processes) is `node`, with the project's bins on PATH. */
export function envFor(node, project, extra = {}) {
  const path = [join(project, 'node_modules', '.bin'), node.dir, process.env.PATH].join(delimiter);
  return { ...process.env, PATH: path, ...extra };
}
