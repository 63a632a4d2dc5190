#!/usr/bin/env node
// The consumer test (issue 14): every package as a user gets it. Each package is
// packed (`pnpm pack`: its prepack builds it, workspace:* becomes real versions),
// served under the @ovs scope by a local registry, and installed with npm into a
// fresh project with nothing else from the workspace — only what it declares
// comes along. Then, with Node 20 and Node 22: ESM import and CJS require of every
// export path (the same names both ways), each bin's --help; and `tsc` type-checks
// a consumer of every export path (ESM and CJS files) under moduleResolution
// nodenext, node16 and bundler, the packages' own .d.ts files included. Every
// bare import or require in the package's dist/ and bin/ must be a dependency,
// and every .js/.cjs file in dist/ reachable from an export path or a bin.
//
//   node scripts/consumer/consumer-test.mjs [--keep] [--packs=DIR] [@ovs/NAME ...]
// --packs=DIR packs into DIR, or takes the tarballs already there.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { attempt, closure, envFor, exportPaths, freshProject, npmInstall, packAll, referencedFiles, root, startRegistry, tools } from './lib.mjs';

const argv = process.argv.slice(2);
const keep = argv.includes('--keep');
const packsArg = argv.find((a) => a.startsWith('--packs='))?.slice('--packs='.length);
const only = argv.filter((a) => !a.startsWith('--'));
const TYPES_NODE = '@types/node@20';
const PACKAGE_NAME = /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*(\/[\w.@/-]*)?$/i;

const t0 = Date.now();
const work = mkdtempSync(join(tmpdir(), 'ovs-consumer-'));
const failures = [];
const fail = (pkg, what, detail) => {
  failures.push(`${pkg}: ${what}`);
  console.log(`  FAIL ${what}\n${indent(detail)}`);
};
const indent = (s) =>
  String(s ?? '')
    .trim()
    .split('\n')
    .slice(0, 40)
    .map((l) => `       ${l}`)
    .join('\n');

const packed = packAll(packsArg ?? join(work, 'packs'), { reuse: packsArg !== undefined });
const registry = await startRegistry(packed);
const { nodes, tsc } = tools(join(root, 'node_modules', '.cache', 'ovs-consumer-tools'));
console.log(`registry for @ovs at ${registry.url}; ${nodes.map((n) => n.label).join(', ')}; work in ${work}`);

try {
  for (const [name, { pkg }] of packed) {
    if (only.length > 0 && !only.includes(name)) continue;
    const started = Date.now();
    console.log(`\n${name}@${pkg.version}`);
    const dir = join(work, name.replace('@ovs/', ''));
    freshProject(dir, registry.url);
    try {
      await npmInstall(dir, [`${name}@${pkg.version}`, TYPES_NODE]);
    } catch (err) {
      fail(name, 'npm install', err.message);
      continue;
    }
    // Only the package and what it declares, transitively, came from the workspace.
    const want = [...closure(name, packed)].sort();
    const got = readdirSync(join(dir, 'node_modules', '@ovs'))
      .map((d) => `@ovs/${d}`)
      .sort();
    if (want.join() !== got.join()) fail(name, 'installed @ovs packages', `want ${want.join(' ')}\ngot  ${got.join(' ')}`);
    else console.log(`  ok   npm install: ${got.join(' ')}`);

    // Run-time dependencies: every package its built files import or require is declared.
    const undeclared = undeclaredImports(join(dir, 'node_modules', name), pkg);
    if (undeclared.length > 0) fail(name, 'imports what package.json does not declare', undeclared.join('\n'));
    else console.log('  ok   every package dist/ and bin/ import or require is a dependency');

    // dist/ holds only what an export path or a bin reaches (no build nothing can load).
    const unreachable = unreachableFiles(join(dir, 'node_modules', name), pkg);
    if (unreachable.length > 0) fail(name, 'files in the package that no export or bin reaches', unreachable.join('\n'));
    else console.log('  ok   every .js/.cjs file is reached from an export path or a bin');

    const entries = exportPaths(pkg).map(([sub, target]) => ({
      spec: sub === '.' ? name : `${name}/${sub.slice(2)}`,
      json: typeof target === 'string' && target.endsWith('.json'),
    }));
    const paths = entries.map((e) => e.spec);
    const code = entries.filter((e) => !e.json).map((e) => e.spec);
    const json = entries.filter((e) => e.json).map((e) => e.spec);
    writeFileSync(join(dir, 'load.mjs'), esmLoader(code, json));
    writeFileSync(join(dir, 'load.cjs'), cjsLoader([...code, ...json], json));

    for (const node of nodes) {
      const env = envFor(node, dir);
      const esm = await attempt(node.bin, ['load.mjs'], { cwd: dir, env });
      const cjs = await attempt(node.bin, ['load.cjs'], { cwd: dir, env });
      if (esm.status !== 0) fail(name, `ESM import (${node.label})`, esm.stderr);
      if (cjs.status !== 0) fail(name, `CJS require (${node.label})`, cjs.stderr);
      if (esm.status === 0 && cjs.status === 0) {
        if (esm.stdout !== cjs.stdout) fail(name, `ESM and CJS export different names (${node.label})`, diff(esm.stdout, cjs.stdout));
        else console.log(`  ok   ESM import = CJS require of ${paths.length} paths (${node.label}): ${summary(esm.stdout)}`);
      }
      for (const bin of Object.keys(pkg.bin ?? {})) {
        const r = await attempt(join(dir, 'node_modules', '.bin', bin), ['--help'], { cwd: dir, env, timeout: 30_000 });
        if (r.status !== 0 || r.stdout.trim() === '') fail(name, `${bin} --help (${node.label}): status ${r.status}`, r.stderr || r.stdout);
        else console.log(`  ok   ${bin} --help (${node.label}): ${r.stdout.trim().split('\n')[0]}`);
      }
    }

    // Types: an ESM and a CJS consumer of every code path, three resolutions.
    writeFileSync(join(dir, 'check.mts'), tsEsm(code));
    writeFileSync(join(dir, 'check.ts'), tsEsm(code));
    writeFileSync(join(dir, 'check.cts'), tsCjs(code));
    for (const [label, options, files] of [
      ['nodenext', { module: 'nodenext', moduleResolution: 'nodenext' }, ['check.mts', 'check.cts']],
      ['node16', { module: 'node16', moduleResolution: 'node16' }, ['check.mts', 'check.cts']],
      ['bundler', { module: 'esnext', moduleResolution: 'bundler' }, ['check.ts']],
    ]) {
      const config = `tsconfig.${label}.json`;
      const compilerOptions = { ...options, target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] };
      writeFileSync(join(dir, config), `${JSON.stringify({ compilerOptions, files }, null, 2)}\n`);
      const r = await attempt(nodes[0].bin, [tsc, '-p', config], { cwd: dir, env: envFor(nodes[0], dir), timeout: 180_000 });
      if (r.status !== 0) fail(name, `tsc (${label})`, r.stdout + r.stderr);
      else console.log(`  ok   tsc --moduleResolution ${label}: ${files.join(', ')}`);
    }
    console.log(`  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
} finally {
  await registry.close();
  if (!keep) rmSync(work, { recursive: true, force: true });
}

const secs = ((Date.now() - t0) / 1000).toFixed(0);
if (failures.length > 0) {
  console.log(`\nconsumer test: ${failures.length} failure(s) in ${secs} s:\n  ${failures.join('\n  ')}`);
  process.exitCode = 1;
} else console.log(`\nconsumer test: every package installs and works as a consumer gets it (${secs} s)`);

/** `file: package` for each bare import/require in the package's dist/ and bin/ that is neither a builtin nor declared. */
function undeclaredImports(pkgDir, pkg) {
  const declared = new Set([pkg.name, ...Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies, ...pkg.optionalDependencies })]);
  const out = new Set();
  const walk = (d) => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const f = join(d, e.name);
      if (e.isDirectory()) walk(f);
      else if (/\.(c|m)?js$/.test(e.name)) {
        const text = readFileSync(f, 'utf8');
        // import/require of a bare name, and any scoped name in quotes (createRequire(...)('@ovs/posix')).
        const specs = [
          ...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)["']([^"'./][^"']*)["']/g),
          ...text.matchAll(/["'](@[a-z0-9][\w.-]*\/[a-z0-9][\w.-]*)["']/g),
        ];
        for (const m of specs) {
          const spec = m[1];
          if (spec.startsWith('node:') || isBuiltin(spec) || !PACKAGE_NAME.test(spec)) continue; // minified data: from",arg:"

          const base = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
          if (!declared.has(base)) out.add(`${relative(pkgDir, f)}: ${spec}`);
        }
      }
    }
  };
  walk(join(pkgDir, 'dist'));
  walk(join(pkgDir, 'bin'));
  return [...out];
}

/** The package's .js/.cjs/.mjs files that no export path, main or bin reaches through relative imports and requires. */
function unreachableFiles(pkgDir, pkg) {
  const seen = new Set();
  const stack = [...referencedFiles(pkg)].filter((f) => /\.(c|m)?js$/.test(f)).map((f) => join(pkgDir, f));
  while (stack.length > 0) {
    const f = stack.pop();
    if (seen.has(f) || !existsSync(f)) continue;
    seen.add(f);
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+)["']/g)) stack.push(join(dirname(f), m[1]));
  }
  const out = [];
  const walk = (d) => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const f = join(d, e.name);
      if (e.isDirectory()) walk(f);
      else if (/\.(c|m)?js$/.test(e.name) && !seen.has(f)) out.push(relative(pkgDir, f));
    }
  };
  walk(join(pkgDir, 'dist'));
  return out;
}

function esmLoader(code, json) {
  return `const out = [];
for (const spec of ${JSON.stringify(code)}) {
  const m = await import(spec);
  const names = Object.keys(m).filter((k) => k !== 'default' && k !== 'module.exports').sort();
  if (names.length === 0) throw new Error(spec + ': no exports');
  out.push(spec + ': ' + names.join(' '));
}
for (const spec of ${JSON.stringify(json)}) {
  const m = await import(spec, { with: { type: 'json' } });
  out.push(spec + ': json ' + Object.keys(m.default).length + ' keys');
}
console.log(out.join('\\n'));
`;
}

function cjsLoader(specs, json) {
  return `const out = [];
for (const spec of ${JSON.stringify(specs)}) {
  const m = require(spec);
  if (${JSON.stringify(json)}.includes(spec)) { out.push(spec + ': json ' + Object.keys(m).length + ' keys'); continue; }
  const names = Object.keys(m).filter((k) => k !== 'default' && k !== '__esModule').sort();
  if (names.length === 0) throw new Error(spec + ': no exports');
  out.push(spec + ': ' + names.join(' '));
}
console.log(out.join('\\n'));
`;
}

function tsEsm(code) {
  return `${code.map((s, i) => `import * as m${i} from '${s}';`).join('\n')}\nexport const all: object[] = [${code.map((_, i) => `m${i}`).join(', ')}];\n`;
}

function tsCjs(code) {
  return `${code.map((s, i) => `import m${i} = require('${s}');`).join('\n')}\nexport const all: object[] = [${code.map((_, i) => `m${i}`).join(', ')}];\n`;
}

function summary(stdout) {
  return stdout
    .trim()
    .split('\n')
    .map((l) => {
      const [spec, rest] = l.split(': ');
      return rest.startsWith('json') ? `${spec} (${rest})` : `${spec} (${rest.split(' ').length} names)`;
    })
    .join(', ');
}

function diff(a, b) {
  const la = a.trim().split('\n');
  const lb = b.trim().split('\n');
  const out = [];
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] === lb[i]) continue;
    const sa = new Set((la[i] ?? '').split(' '));
    const sb = new Set((lb[i] ?? '').split(' '));
    out.push(`ESM only: ${[...sa].filter((x) => !sb.has(x)).join(' ')}`, `CJS only: ${[...sb].filter((x) => !sa.has(x)).join(' ')}`);
  }
  return out.join('\n');
}
