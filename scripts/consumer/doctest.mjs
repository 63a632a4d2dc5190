#!/usr/bin/env node
// README doc tests (issue 14): every fenced code block of every README.md that
// is meant to run is extracted and run as a user would run it.
//
// Convention (the info string after the opening fence):
//   ```ts / ```js    a program: saved as a file, type-checked by tsc (ts: strict,
//                    module/moduleResolution nodenext) and run by node; it must
//                    exit by itself (a missing close is a hang, and fails).
//   ```sh            a shell session: run by `bash -e -o pipefail`; a line that is
//                    meant to fail says so (`|| echo "exit $?"`). Background jobs
//                    (`cmd &`) live until the README's last block has run.
//   ```LANG norun    shown, not run: a synopsis, a fragment, a declaration.
//   ``` (no language), text, json, ...: output or a diagram, not run.
// A package's README runs in a fresh npm project where `npm install @ovs/NAME`
// installed the packed package (and, through it, only what it declares) from a
// registry serving the packed tarballs under the @ovs scope; the project's bins
// are on PATH (as in `npx`), OVS_RUNDIR is the project's run/ directory, and the
// blocks run in order, in the project's directory. The root README runs in the
// repository (its commands are the workspace's).
//
//   node scripts/consumer/doctest.mjs [--keep] [--no-root] [--workspace] [--packs=DIR] [README.md ...]
// --workspace runs a package's blocks in packages/NAME/node_modules/.doctest with
// the workspace's builds instead (quick, to work on an example; it cannot see a
// missing dependency: only the consumer project can).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { envFor, freshProject, npmInstall, packAll, root, startRegistry, tools, workspacePackages } from './lib.mjs';

const argv = process.argv.slice(2);
const keep = argv.includes('--keep');
const packsArg = argv.find((a) => a.startsWith('--packs='))?.slice('--packs='.length);
const inWorkspace = argv.includes('--workspace');
const only = argv.filter((a) => !a.startsWith('--')).map((a) => relative(root, join(process.cwd(), a)));
const RUN = new Set(['ts', 'typescript', 'js', 'javascript', 'sh', 'bash']);
const TIMEOUT_MS = { ts: 60_000, js: 60_000, sh: 180_000 };
const ROOT_TIMEOUT_MS = 900_000;

/** The fenced blocks of a Markdown file: { line, lang, flags, code }. */
function fencedBlocks(text) {
  const blocks = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(```+|~~~+)\s*([^`]*)$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, info] = open;
    const body = [];
    let j = i + 1;
    while (j < lines.length && !lines[j].trimStart().startsWith(fence)) body.push(lines[j++].slice(indent.length));
    const [lang = '', ...flags] = info.trim().split(/\s+/).filter(Boolean);
    blocks.push({ line: i + 1, lang: lang.toLowerCase(), flags, code: `${body.join('\n')}\n` });
    i = j;
  }
  return blocks;
}

const runnable = (b) => RUN.has(b.lang) && !b.flags.includes('norun');
const kind = (lang) => (lang === 'typescript' ? 'ts' : lang === 'javascript' ? 'js' : lang === 'bash' ? 'sh' : lang);

const t0 = Date.now();
const work = mkdtempSync(join(tmpdir(), 'ovs-doctest-'));
const results = [];
let registry;
try {
  const readmes = [
    ...(argv.includes('--no-root') ? [] : [{ file: 'README.md' }]),
    ...workspacePackages().map((p) => ({ file: relative(root, join(p.dir, 'README.md')), pkg: p })),
  ].filter((r) => only.length === 0 || only.includes(r.file));
  const needsPacks = readmes.some((r) => r.pkg && fencedBlocks(readFileSync(join(root, r.file), 'utf8')).some(runnable));
  let node;
  let tsc;
  if (inWorkspace) {
    tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    node = { bin: process.execPath, dir: dirname(process.execPath) };
  } else if (needsPacks) {
    const packed = packAll(packsArg ?? join(work, 'packs'), { reuse: packsArg !== undefined });
    registry = await startRegistry(packed);
    const t = tools(join(root, 'node_modules', '.cache', 'ovs-consumer-tools'));
    node = t.nodes[0];
    tsc = t.tsc;
  }
  for (const { file, pkg } of readmes) {
    const blocks = fencedBlocks(readFileSync(join(root, file), 'utf8'));
    const todo = blocks.filter(runnable);
    console.log(`\n${file}: ${blocks.length} blocks, ${todo.length} to run`);
    if (todo.length === 0) continue;
    let dir = root;
    let env = { ...process.env };
    if (pkg && inWorkspace) {
      dir = join(pkg.dir, 'node_modules', '.doctest');
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(join(dir, 'run'), { recursive: true });
      env = envFor(node, pkg.dir, {
        OVS_RUNDIR: join(dir, 'run'),
        PATH: [join(pkg.dir, 'node_modules', '.bin'), join(root, 'node_modules', '.bin'), process.env.PATH].join(':'),
      });
    } else if (pkg) {
      dir = join(work, pkg.short);
      freshProject(dir, registry.url);
      await npmInstall(dir, [`${pkg.name}@${pkg.version}`, '@types/node@20']);
      mkdirSync(join(dir, 'run'), { recursive: true });
      env = envFor(node, dir, { OVS_RUNDIR: join(dir, 'run') });
    }
    const groups = [];
    for (const b of todo) {
      const k = kind(b.lang);
      const base = join(pkg ? dir : work, `readme-${pkg ? '' : 'root-'}${b.line}`);
      const started = Date.now();
      let r;
      if (k === 'ts') {
        writeFileSync(`${base}.mts`, b.code);
        const config = `${base}.tsconfig.json`;
        const compilerOptions = { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, skipLibCheck: true, types: ['node'] };
        writeFileSync(config, JSON.stringify({ compilerOptions, files: [`${base}.mts`] }));
        r = await runLogged(process.execPath, [tsc, '-p', config], { cwd: dir, env, timeout: 120_000, log: `${base}.tsc.log` });
        if (r.status === 0) r = await runLogged(process.execPath, [`${base}.mjs`], { cwd: dir, env, timeout: TIMEOUT_MS.ts, log: `${base}.log` });
        else r.what = 'tsc';
      } else if (k === 'js') {
        writeFileSync(`${base}.mjs`, b.code);
        r = await runLogged(process.execPath, [`${base}.mjs`], { cwd: dir, env, timeout: TIMEOUT_MS.js, log: `${base}.log` });
      } else {
        writeFileSync(`${base}.sh`, b.code);
        r = await runLogged('bash', ['-e', '-o', 'pipefail', `${base}.sh`], {
          cwd: dir,
          env,
          timeout: pkg ? TIMEOUT_MS.sh : ROOT_TIMEOUT_MS,
          log: `${base}.log`,
        });
      }
      groups.push(r.pid);
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      const ok = r.status === 0;
      results.push({ file, line: b.line, ok });
      const why = r.timedOut
        ? `did not exit within ${r.timeout / 1000} s (an open handle: a missing close?)`
        : `${r.what ?? 'exit'} status ${r.status ?? r.signal}`;
      console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${file}:${b.line} (${b.lang}, ${secs} s)${ok ? '' : `: ${why}`}`);
      if (!ok) console.log(tail(r.output));
    }
    // What the blocks left running in the background (`cmd &`) is stopped now.
    for (const pid of groups) signalGroup(pid, 'SIGTERM');
    const ovsKernel = join(inWorkspace ? join(root, 'node_modules') : join(dir, 'node_modules'), '.bin', 'ovs-kernel');
    if (pkg && existsSync(join(dir, 'run', 'ovs-kernel.sock')) && existsSync(ovsKernel)) {
      results.push({ file, line: 'end', ok: false });
      console.log(`  FAIL ${file}: an ovs-kernel daemon is still running after the last block (stopped now)`);
      await runLogged(ovsKernel, ['stop'], { cwd: dir, env, timeout: 30_000, log: join(dir, 'stop.log') });
    }
  }
} finally {
  await registry?.close();
  if (!keep) rmSync(work, { recursive: true, force: true });
}

const failed = results.filter((r) => !r.ok);
const secs = ((Date.now() - t0) / 1000).toFixed(0);
console.log(`\ndoc tests: ${results.length - failed.length} of ${results.length} README blocks ran as written (${secs} s)`);
if (failed.length > 0) {
  console.log(`failed: ${failed.map((r) => `${r.file}:${r.line}`).join(', ')}`);
  process.exitCode = 1;
}

/**
 * Runs a command in its own process group with its output in a file (so that a
 * background job keeping the output open does not hold the block), bounded in time.
 */
function runLogged(cmd, args, { cwd, env, timeout, log }) {
  return new Promise((resolvePromise) => {
    const fd = openSync(log, 'w');
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', fd, fd], detached: true });
    closeSync(fd);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      signalGroup(child.pid, 'SIGKILL');
    }, timeout);
    const done = (status, signal) => {
      clearTimeout(timer);
      resolvePromise({ status: timedOut ? null : status, signal, timedOut, timeout, pid: child.pid, output: readFileSync(log, 'utf8') });
    };
    child.on('error', (err) => done(127, String(err)));
    child.on('exit', done);
  });
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {}
}

function tail(s) {
  const lines = s.trimEnd().split('\n');
  return lines
    .slice(-25)
    .map((l) => `       ${l}`)
    .join('\n');
}
