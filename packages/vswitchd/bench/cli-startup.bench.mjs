// What one call of each tool costs, as scripts call them: one process per call,
// beside a bare `node -e 0` start and beside the real OVS 3.1 tools doing the
// same thing (issue 14, "Fast tools"). Runs inside an ovs-sandbox (our
// ovs-kernel, database server and ovs-vswitchd as processes); the real
// ovsdb-server and ovs-vswitchd (userspace `dummy` datapath, as OVS's own
// testsuite runs it) are started in a temporary directory when installed.
//
// ovs-vsctl --no-wait add-port goes to a database server of its own kind with
// no switch attached (ours to ours, real to real), so that no daemon reacts to
// it while the next call is timed. Every round runs every command once, in
// turn, so a machine whose load drifts slows all of them alike; each row
// gives the median wall time of its calls and their CPU time (user + system,
// all threads, from the kernel's accounting of reaped children), and both
// minus node's own start. The goal is our tools' "over node" at most 30 ms.
//   pnpm --filter @ovs/vswitchd bench      (ROUNDS=n to change the 20 rounds)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
if (!process.env.OVS_SANDBOX) {
  const r = spawnSync(process.execPath, [join(HERE, '../bin/ovs-sandbox.js'), process.execPath, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(r.status ?? 1);
}

const ROUNDS = Number(process.env.ROUNDS ?? 20);
const NODE = process.execPath;
const require = createRequire(import.meta.url);
const binOf = (pkg, name) => join(dirname(require.resolve(`${pkg}/package.json`)), 'bin', name);
const OURS = {
  vsctl: binOf('@ovs/vsctl', 'ovs-vsctl.js'),
  appctl: join(HERE, '../bin/ovs-appctl.js'),
  dpctl: binOf('@ovs/dpif-netlink', 'ovs-dpctl.js'),
  db: binOf('@ovs/ovsdb', 'ovs-db.js'),
  kernel: binOf('@ovs/kernel-datapath', 'ovs-kernel.js'),
  // Not a dependency of this package: the workspace's copy, when it is built.
  ofctl: join(HERE, '../../openflow/bin/ovs-ofctl.js'),
};
const ofctlBuilt = existsSync(join(HERE, '../../openflow/dist/cli.cjs'));

// The real tools by absolute path: pnpm puts the workspace's own bins (ovs-vsctl, ovsdb-server...) first on PATH.
const real = (name) => ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'].map((d) => join(d, name)).find((p) => existsSync(p));
const REAL = Object.fromEntries(
  ['ovs-vsctl', 'ovs-appctl', 'ovs-ofctl', 'ovsdb-server', 'ovsdb-tool', 'ovsdb-client', 'ovs-vswitchd'].map((n) => [n, real(n)]),
);
const SCHEMA = ['/usr/share/openvswitch/vswitch.ovsschema'].find((p) => existsSync(p));
const haveReal = Object.values(REAL).every(Boolean) && SCHEMA !== undefined;

const must = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.status ?? r.signal}\n${r.stderr}`);
  return r.stdout;
};
const ctlOf = (dir, daemon) => {
  const f = readdirSync(dir).find((n) => n.startsWith(`${daemon}.`) && n.endsWith('.ctl'));
  if (!f) throw new Error(`no ${daemon} control socket in ${dir}`);
  return join(dir, f);
};
const waitFor = async (path) => {
  for (let i = 0; i < 200 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 50));
  if (!existsSync(path)) throw new Error(`${path} did not appear`);
};

const tmp = mkdtempSync(join(os.tmpdir(), 'cli-startup-'));
const cleanups = [];
try {
  // Ours: the sandbox's switch (one bridge, an internal port), and a database server alone for ovs-vsctl.
  const rundir = process.env.OVS_RUNDIR;
  must(NODE, [OURS.vsctl, 'add-br', 'br0', '--', 'add-port', 'br0', 'i1', '--', 'set', 'Interface', 'i1', 'type=internal']);
  const oursCtl = ctlOf(rundir, 'ovs-vswitchd');
  must(NODE, [OURS.db, 'create', join(tmp, 'ours.db')]);
  const oursDb = spawn(NODE, [OURS.db, 'serve', join(tmp, 'ours.db'), '--remote', `punix:${join(tmp, 'ours.sock')}`], { stdio: 'ignore' });
  cleanups.push(() => oursDb.kill('SIGTERM'));
  await waitFor(join(tmp, 'ours.sock'));
  must(NODE, [OURS.vsctl, `--db=unix:${join(tmp, 'ours.sock')}`, '--no-wait', 'add-br', 'br0']);

  // Real OVS 3.1: ovsdb-server alone for ovs-vsctl; ovsdb-server + ovs-vswitchd (dummy datapath) for ovs-appctl.
  let realCtl;
  if (haveReal) {
    const env = { ...process.env, OVS_RUNDIR: tmp, OVS_LOGDIR: tmp, OVS_DBDIR: tmp };
    // Each daemon detached with its pidfile, log and control socket named after `id`, stopped with `ovs-appctl exit`.
    const daemon = (name, id, args) => {
      const ctl = join(tmp, `${id}.ctl`);
      must(REAL[name], [...args, `--unixctl=${ctl}`, '--detach', '--no-chdir', `--pidfile=${join(tmp, `${id}.pid`)}`, `--log-file=${join(tmp, `${id}.log`)}`], {
        env,
      });
      cleanups.push(() => spawnSync(REAL['ovs-appctl'], ['-t', ctl, 'exit'], { timeout: 10_000 }));
      return ctl;
    };
    for (const db of ['real', 'real-switch']) {
      must(REAL['ovsdb-tool'], ['create', join(tmp, `${db}.db`), SCHEMA]);
      daemon('ovsdb-server', `${db}-server`, [`--remote=punix:${join(tmp, `${db}.sock`)}`, join(tmp, `${db}.db`)]);
    }
    const sw = `unix:${join(tmp, 'real-switch.sock')}`;
    must(REAL['ovs-vsctl'], [`--db=${sw}`, '--no-wait', 'init']);
    realCtl = daemon('ovs-vswitchd', 'real-vswitchd', ['--enable-dummy', '--disable-system', sw]);
    must(REAL['ovs-vsctl'], [
      `--db=${sw}`,
      'add-br',
      'br0',
      '--',
      'set',
      'Bridge',
      'br0',
      'datapath_type=dummy',
      '--',
      'add-port',
      'br0',
      'i1',
      '--',
      'set',
      'Interface',
      'i1',
      'type=dummy',
    ]);
    must(REAL['ovs-vsctl'], [`--db=unix:${join(tmp, 'real.sock')}`, '--no-wait', 'add-br', 'br0']);
  }

  let port = 0;
  const ours = (tool, ...args) => [NODE, OURS[tool], ...args];
  const rows = [
    { tool: 'node -e 0', ours: [NODE, '-e', '0'] },
    {
      tool: 'ovs-vsctl --no-wait add-port',
      ours: () => ours('vsctl', `--db=unix:${join(tmp, 'ours.sock')}`, '--no-wait', 'add-port', 'br0', `p${port++}`),
      real: haveReal && (() => [REAL['ovs-vsctl'], `--db=unix:${join(tmp, 'real.sock')}`, '--no-wait', 'add-port', 'br0', `p${port++}`]),
    },
    {
      tool: 'ovs-vsctl show',
      ours: ours('vsctl', `--db=unix:${join(tmp, 'ours.sock')}`, 'show'),
      real: haveReal && [REAL['ovs-vsctl'], `--db=unix:${join(tmp, 'real.sock')}`, 'show'],
    },
    { tool: 'ovs-appctl dpif/show', ours: ours('appctl', '-t', oursCtl, 'dpif/show'), real: haveReal && [REAL['ovs-appctl'], '-t', realCtl, 'dpif/show'] },
    // The real ovs-dpctl needs the kernel module: the real row is ovs-vswitchd's dpctl/show through ovs-appctl.
    {
      tool: 'ovs-dpctl show',
      ours: ours('dpctl', 'show'),
      real: haveReal && [REAL['ovs-appctl'], '-t', realCtl, 'dpctl/show'],
      note: 'real: ovs-appctl dpctl/show',
    },
    {
      tool: 'ovs-db list-dbs',
      ours: ours('db', 'list-dbs', `unix:${join(tmp, 'ours.sock')}`),
      real: haveReal && [REAL['ovsdb-client'], 'list-dbs', `unix:${join(tmp, 'real.sock')}`],
      note: 'real: ovsdb-client list-dbs',
    },
    { tool: 'ovs-kernel ip link show', ours: ours('kernel', 'ip', 'link', 'show') },
    ofctlBuilt && { tool: 'ovs-ofctl --version', ours: ours('ofctl', '--version'), real: haveReal && [REAL['ovs-ofctl'], '--version'] },
  ].filter(Boolean);

  // Children's CPU time (utime + stime of the reaped children of this process, in clock ticks).
  const TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);
  const childTicks = () => {
    const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return Number(f[13]) + Number(f[14]);
  };
  const series = [];
  for (const row of rows) for (const side of ['ours', 'real']) if (row[side]) series.push({ row, side, make: row[side], wall: [], ticks: 0 });
  const loadBefore = os.loadavg();
  for (let round = -1; round < ROUNDS; round++) {
    for (const s of series) {
      const [cmd, ...args] = typeof s.make === 'function' ? s.make() : s.make;
      const t0 = childTicks();
      const w0 = performance.now();
      const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
      const wall = performance.now() - w0;
      const ticks = childTicks() - t0;
      if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.status ?? r.signal}\n${r.stderr}`);
      if (round >= 0) {
        s.wall.push(wall);
        s.ticks += ticks;
      }
    }
  }
  const loadAfter = os.loadavg();

  const median = (a) => {
    const s = [...a].sort((x, y) => x - y);
    return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const stat = (s) => ({ wall: median(s.wall), cpu: (s.ticks * TICK_MS) / ROUNDS });
  const base = stat(series[0]);
  const fmt = (x) => (x === undefined ? '—' : x.toFixed(0));
  const over = (x) => (x === undefined ? '—' : `${x >= 0 ? '+' : ''}${x.toFixed(0)}`);
  const realOvs = haveReal ? must(REAL['ovs-vsctl'], ['--version']).split('\n')[0] : 'not installed';
  console.log(`# ${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.cpus().length}, Linux ${os.release()}, node ${process.version}; real: ${realOvs}`);
  console.log(`# ${ROUNDS} rounds, every command once per round; load average ${loadBefore[0].toFixed(2)} before, ${loadAfter[0].toFixed(2)} after`);
  console.log(`# node -e 0: ${fmt(base.wall)} ms wall (median), ${fmt(base.cpu)} ms CPU per call`);
  console.log('| one call | ours: wall ms | over node -e 0 | ours: CPU ms | over node -e 0 | ×node (wall) | real OVS 3.1: wall ms | real: CPU ms |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const row of rows.slice(1)) {
    const o = stat(series.find((s) => s.row === row && s.side === 'ours'));
    const rs = series.find((s) => s.row === row && s.side === 'real');
    const r = rs && stat(rs);
    const name = row.note ? `${row.tool} (${row.note})` : row.tool;
    console.log(
      `| ${name} | ${fmt(o.wall)} | ${over(o.wall - base.wall)} | ${fmt(o.cpu)} | ${over(o.cpu - base.cpu)} | ${(o.wall / base.wall).toFixed(2)} | ${fmt(r?.wall)} | ${fmt(r?.cpu)} |`,
    );
  }
} finally {
  for (const f of cleanups.reverse()) f();
  rmSync(tmp, { recursive: true, force: true });
}
