// The kernel-lab integration suite: @ovs/dpif-netlink over a real AF_NETLINK
// socket against Linux's own openvswitch module (the lab boots Debian's 6.1
// kernel; see ../../../../shared/kernel-lab/README.md). Run by run.sh inside the guest as
//   cd /project && node packages/dpif-netlink/kernel-lab/suite.mjs
// It uses the BUILT packages (dist/), creates datapaths and devices in the
// throw-away guest, prints one line per check and `N passed, N failed`, and
// exits non-zero when a check failed.
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkgDir = join(here, '..');
const dpifMod = await import(join(pkgDir, 'dist/index.js'));
const codec = await import(join(pkgDir, '../genl-codec/dist/index.js'));
const { DpifNetlink, DpifError } = dpifMod;
const { Errno, NLM_F, CTRL_CMD, ctrlFamily, encode, decode, newFamilyTable } = codec;

// The AF_NETLINK transport is @ovs/netlink-socket's.
const transportFrom = '../netlink-socket/dist/index.js';
const { openNetlinkSocket } = await import(join(pkgDir, transportFrom));

// A rejection nobody handles would otherwise end the process from inside the binding's callback.
process.on('unhandledRejection', (err) => {
  console.log(`UNHANDLED REJECTION ${err instanceof Error ? err.stack : String(err)}`);
  process.exitCode = 1;
});

process.on('uncaughtException', (err) => {
  console.log(`UNCAUGHT EXCEPTION ${err instanceof Error ? err.stack : String(err)}`);
  process.exitCode = 1;
});

let passed = 0;
let failed = 0;
const failures = [];

async function check(name, fn) {
  try {
    const note = await fn();
    passed++;
    console.log(`PASS ${name}${note ? ` (${note})` : ''}`);
  } catch (err) {
    failed++;
    const why = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    failures.push(`${name}: ${why}`);
    console.log(`FAIL ${name}: ${why}`);
  }
}

function assert(cond, what) {
  if (!cond) throw new Error(`assertion failed: ${what}`);
}

function eq(actual, expected, what) {
  const a = JSON.stringify(actual, (_, v) => (typeof v === 'bigint' ? `${v}n` : v));
  const e = JSON.stringify(expected, (_, v) => (typeof v === 'bigint' ? `${v}n` : v));
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

/** The promise must reject with a DpifError of errno `name`; returns that error's message. */
async function rejectsWith(promise, name) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  if (err === undefined) throw new Error(`expected ${name}, but it succeeded`);
  if (!(err instanceof DpifError)) throw new Error(`expected a DpifError ${name}, got ${err?.name}: ${err?.message}`);
  if (err.errno !== Errno[name]) throw new Error(`expected ${name}, got ${err.code}: ${err.message}`);
  return err.message;
}

function sh(cmd, args) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function linkExists(name) {
  try {
    sh('ip', ['link', 'show', 'dev', name]);
    return true;
  } catch {
    return false;
  }
}

function linkDetails(name) {
  return sh('ip', ['-d', 'link', 'show', 'dev', name]);
}

/** name, type, port number (a port's stats left out). */
const ntp = ({ name, type, portNo }) => ({ name, type, portNo });

/** port_poll() until it reports something other than 'none' (the transport reads in the event loop). */
async function pollNext(dpif, ms = 2000) {
  const until = Date.now() + ms;
  for (;;) {
    const r = await dpif.portPoll();
    if (r.kind !== 'none' || Date.now() > until) return r;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Every port_poll() result until it has said 'none' for `quietMs`. */
async function pollAll(dpif, quietMs = 300) {
  const out = [];
  for (;;) {
    const r = await pollNext(dpif, quietMs);
    if (r.kind === 'none') return out;
    out.push(r.kind === 'changed' ? r.name : r.kind);
  }
}

const socket = (protocol) => openNetlinkSocket(protocol);
const logs = [];
const log = (level, module, text) => logs.push(`${module}|${level}|${text}`);

console.log(`kernel ${sh('uname', ['-r']).trim()}, node ${process.version}, transport from ${transportFrom}`);

// ---------------------------------------------------------------- transport
await check('AF_NETLINK transport: nlctrl answers CTRL_CMD_GETFAMILY for nlctrl (id 16), NETLINK_EXT_ACK on', async () => {
  const s = await openNetlinkSocket(16);
  try {
    const req = {
      kind: 'genl',
      protocol: 16,
      header: { len: 0, type: 16, flags: NLM_F.REQUEST, seq: 1, pid: 0 },
      family: ctrlFamily,
      cmd: CTRL_CMD.GETFAMILY,
      version: 1,
      reserved: 0,
      attrs: { familyName: 'nlctrl' },
    };
    await s.send(encode(req));
    const r = decode(await s.recv(), { families: newFamilyTable() });
    assert(r.ok, 'the reply decodes');
    eq(r.messages[0].attrs.familyId, 16, 'nlctrl family id');
    eq(s.extAck, true, 'extAck');
    return `port id ${s.portId}`;
  } finally {
    await s.close();
  }
});

// ---------------------------------------------------------------- datapath
let dpif;
await check('create datapath dp0 (OVS 3.1 feature negotiation: per-CPU dispatch on 6.1)', async () => {
  dpif = await DpifNetlink.open('dp0', { socket, log }, true);
  eq(dpif.fullName, 'system@dp0', 'full name');
  assert(dpif.dpIfindex > 0, 'dp_ifindex > 0');
  assert(linkExists('dp0'), 'the dp0 internal device exists');
  const dpctl = sh('ovs-dpctl', ['show', 'dp0']);
  assert(dpctl.includes('system@dp0'), `ovs-dpctl show dp0 knows it:\n${dpctl}`);
  return `dp_ifindex ${dpif.dpIfindex}, user features 0x${dpif.userFeatures.toString(16)}, ${dpif.perCpu ? 'per-cpu' : 'per-vport'}`;
});
if (dpif === undefined) {
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
}

await check('open the existing dp0; an absent datapath is ENODEV; creating dp0 again is EEXIST', async () => {
  const again = await DpifNetlink.open('dp0', { socket }, false);
  eq(again.dpIfindex, dpif.dpIfindex, 'dp_ifindex');
  await again.close();
  await rejectsWith(DpifNetlink.open('nodp', { socket }, false), 'ENODEV');
  await rejectsWith(DpifNetlink.open('dp0', { socket }, true), 'EEXIST');
});

await check('get_stats', async () => {
  const st = await dpif.getStats();
  eq(typeof st.nHit, 'bigint', 'nHit is a bigint');
  return `nMasks ${st.nMasks}, masksCacheSize ${st.masksCacheSize}`;
});

// ---------------------------------------------------------------- port_poll
await check('port_poll: resync first, then nothing', async () => {
  eq(await dpif.portPoll(), { kind: 'resync' }, 'first poll');
  eq(await pollNext(dpif, 200), { kind: 'none' }, 'then');
});

// ---------------------------------------------------------------- ports
const ports = {};
await check('netdev port: veth0 of a veth pair (ip link add) as a system port', async () => {
  sh('ip', ['link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1']);
  sh('ip', ['link', 'add', 'veth2', 'type', 'veth', 'peer', 'name', 'veth3']);
  ports.veth0 = await dpif.portAdd({ name: 'veth0', type: 'system' });
  eq(ports.veth0, 1, 'first automatic port number');
  eq(ntp(await dpif.portQueryByNumber(ports.veth0)), { name: 'veth0', type: 'system', portNo: 1 }, 'query by number');
  eq((await dpif.portQueryByName('veth0')).portNo, 1, 'query by name');
  assert(/master dp0/.test(sh('ip', ['link', 'show', 'dev', 'veth0'])), 'veth0 is enslaved to dp0');
});

await check('internal port int1', async () => {
  ports.int1 = await dpif.portAdd({ name: 'int1', type: 'internal' });
  eq(ntp(await dpif.portQueryByNumber(ports.int1)), { name: 'int1', type: 'internal', portNo: ports.int1 }, 'query');
  assert(linkExists('int1'), 'the int1 device exists');
  return `port ${ports.int1}`;
});

let compat;
await check('compat tunnel vports: vxlan (dstPort 4789), geneve (6081), gre', async () => {
  compat = await DpifNetlink.open('dp0', { socket, log, tunnels: 'compat' }, false);
  ports.vxlan = await compat.portAdd({ name: 'vx0', type: 'vxlan', tunnel: { dstPort: 4789 } });
  ports.geneve = await compat.portAdd({ name: 'gnv0', type: 'geneve', tunnel: { dstPort: 6081 } });
  ports.gre = await compat.portAdd({ name: 'gre0', type: 'gre' });
  const got = [];
  for (const n of [ports.vxlan, ports.geneve, ports.gre]) {
    const p = await compat.portQueryByNumber(n);
    got.push(`${p.name}:${p.type}`);
  }
  eq(got, ['vxlan_sys_4789:vxlan', 'genev_sys_6081:geneve', 'gre_sys:gre'], 'names and types');
  assert(
    /vxlan external .*dstport 4789/s.test(linkDetails('vxlan_sys_4789')),
    `vxlan_sys_4789 is a collect-metadata vxlan on 4789:\n${linkDetails('vxlan_sys_4789')}`,
  );
  assert(
    /geneve external .*dstport 6081/s.test(linkDetails('genev_sys_6081')),
    `genev_sys_6081 is a collect-metadata geneve on 6081:\n${linkDetails('genev_sys_6081')}`,
  );
  assert(/gretap external/.test(linkDetails('gre_sys')), `gre_sys is a collect-metadata gretap:\n${linkDetails('gre_sys')}`);
  return `ports ${ports.vxlan}, ${ports.geneve}, ${ports.gre}`;
});

await check('port dump', async () => {
  const dump = (await dpif.portDump()).map((p) => `${p.portNo}:${p.name}:${p.type}`);
  eq(
    dump,
    [
      '0:dp0:internal',
      '1:veth0:system',
      `${ports.int1}:int1:internal`,
      `${ports.vxlan}:vxlan_sys_4789:vxlan`,
      `${ports.geneve}:genev_sys_6081:geneve`,
      `${ports.gre}:gre_sys:gre`,
    ],
    'dump',
  );
  const dpctl = sh('ovs-dpctl', ['show', 'dp0']);
  for (const name of ['veth0', 'int1', 'vxlan_sys_4789', 'genev_sys_6081', 'gre_sys']) assert(dpctl.includes(name), `ovs-dpctl show lists ${name}`);
  return dump.join(' ');
});

await check('port_poll: the names of the added ports, then nothing', async () => {
  const names = await pollAll(dpif);
  eq(names, ['veth0', 'int1', 'vxlan_sys_4789', 'genev_sys_6081', 'gre_sys'], 'polled');
});

// ---------------------------------------------------------------- errors
await check('EEXIST: adding veth0 again; adding an internal port named like an existing device', async () => {
  const a = await rejectsWith(dpif.portAdd({ name: 'veth0', type: 'system' }), 'EEXIST');
  const b = await rejectsWith(dpif.portAdd({ name: 'int1', type: 'internal' }), 'EEXIST');
  return `${a} / ${b}`;
});

await check('EBUSY: a requested port number in use (logged as OVS logs it)', async () => {
  const m = await rejectsWith(dpif.portAdd({ name: 'veth2', type: 'system' }, ports.veth0), 'EBUSY');
  assert(logs.includes(`dpif_netlink|INFO|system@dp0: requested port ${ports.veth0} is in use`), 'the INFO log');
  return m;
});

await check('ENODEV: a device that does not exist; a port number that does not exist', async () => {
  const a = await rejectsWith(dpif.portAdd({ name: 'nosuchdev', type: 'system' }), 'ENODEV');
  const b = await rejectsWith(dpif.portQueryByNumber(4000), 'ENODEV');
  const c = await rejectsWith(dpif.portQueryByName('nosuchdev'), 'ENODEV');
  return `${a} / ${b} / ${c}`;
});

await check('EFBIG: port number 65535', async () => rejectsWith(dpif.portAdd({ name: 'veth2', type: 'system' }, 65535), 'EFBIG'));

await check('a requested port number is honoured (veth2 as port 7)', async () => {
  eq(await dpif.portAdd({ name: 'veth2', type: 'system' }, 7), 7, 'port number');
  ports.veth2 = 7;
});

await check('EINVAL: an unsupported type never reaches the kernel', async () => rejectsWith(dpif.portAdd({ name: 'p0', type: 'patch' }), 'EINVAL'));

// ---------------------------------------------------------------- delete
await check('delete the ports: devices made by the datapath go with them, the veths stay', async () => {
  for (const [name, n] of Object.entries(ports)) {
    await (['vxlan', 'geneve', 'gre'].includes(name) ? compat : dpif).portDel(n);
  }
  await rejectsWith(dpif.portQueryByNumber(ports.int1), 'ENODEV');
  eq(
    (await dpif.portDump()).map((p) => p.name),
    ['dp0'],
    'dump after',
  );
  assert(!linkExists('int1'), 'int1 is gone');
  assert(linkExists('veth0') && !/master/.test(sh('ip', ['link', 'show', 'dev', 'veth0'])), 'veth0 stays, detached');
  const left = ['vxlan_sys_4789', 'genev_sys_6081', 'gre_sys'].filter(linkExists);
  return left.length ? `compat tunnel devices left behind by the kernel: ${left.join(', ')}` : 'compat tunnel devices gone';
});

await check('port_poll: veth2 added, then the deleted ports in order', async () => {
  const names = await pollAll(dpif);
  eq(names, ['veth2', 'veth0', 'int1', 'vxlan_sys_4789', 'genev_sys_6081', 'gre_sys', 'veth2'], 'polled');
});

// ---------------------------------------------------------------- beyond the brief's list
await check('tunnels as rtnetlink devices (the default, OVS 2.8+): vxlan_sys_4790 made with RTM_NEWLINK, deleted with its port', async () => {
  const n = await dpif.portAdd({ name: 'vx1', type: 'vxlan', tunnel: { dstPort: 4790 } });
  const p = await dpif.portQueryByNumber(n);
  assert(p.name === 'vxlan_sys_4790', `port name ${p.name}`);
  assert(/vxlan external .*dstport 4790/s.test(linkDetails('vxlan_sys_4790')), `the device:\n${linkDetails('vxlan_sys_4790')}`);
  await dpif.portDel(n);
  assert(!linkExists('vxlan_sys_4790'), 'the device is gone with its port');
  return `port ${n} type ${p.type}`;
});

await check('handlers_set(2): per-CPU upcall pids (OVS_DP_ATTR_PER_CPU_PIDS)', async () => {
  if (typeof dpif.handlersSet !== 'function') return 'not in this build';
  await dpif.handlersSet(2);
  eq(dpif.handlerPids.length, 2, 'handler sockets');
});

await check("per-vport dispatch (dp1): each port gets its upcall sockets' pids", async () => {
  const dp1 = await DpifNetlink.open('dp1', { socket, dispatch: 'per-vport', nHandlers: 2 }, true);
  try {
    eq(dp1.perCpu, false, 'per-vport');
    const n = await dp1.portAdd({ name: 'int9', type: 'internal' });
    eq(dp1.channelPids(n).length, 2, 'upcall sockets');
    await dp1.portDel(n);
    await dp1.destroy();
  } finally {
    await dp1.close();
  }
});

// ---------------------------------------------------------------- destroy
await check('delete the datapath', async () => {
  await dpif.destroy();
  await compat.close();
  await dpif.close();
  await rejectsWith(DpifNetlink.open('dp0', { socket }, false), 'ENODEV');
  assert(!linkExists('dp0'), 'the dp0 device is gone');
  eq(sh('ovs-dpctl', ['dump-dps']).trim(), '', 'ovs-dpctl dump-dps');
});

// ---------------------------------------------------------------- ovs-dpctl side by side
// The same commands through Debian's real ovs-dpctl and through ours (runDpctl
// over AF_NETLINK), from the same starting state: the same text and exit status.
const { runDpctl } = dpifMod;
const DPCTL_STEPS = [
  'add-dp dpx',
  'add-if dpx vethx0',
  'add-if dpx intx,type=internal',
  'add-if dpx dummyx,port_no=7',
  'add-if dpx vx0,type=vxlan,remote_ip=10.1.1.1',
  'add-if dpx vx1,type=vxlan',
  'add-if dpx gnv0,type=geneve,remote_ip=10.1.1.2,dst_port=6090',
  'set-if dpx vx0,type=vxlan,remote_ip=10.1.1.3',
  'show dpx',
  'dump-dps',
  'add-if dpx vethx0',
  'add-if dpx nosuchdev',
  'add-if dpx vethx2,port_no=1',
  'add-if dpx vethx2,port_no=65536',
  'add-if dpx lo',
  'add-if nosuchdp vethx2',
  'set-if dpx vethx0,type=system',
  'set-if dpx vethx0,type=internal',
  'del-if dpx nosuchport',
  'del-if dpx vethx0',
  'del-if dpx intx dummyx',
  'del-if dpx vx0 gnv0',
  'show',
  'add-dp dpx',
  'del-dp dpx',
  'del-dp dpx',
  'show dpx',
];

/** Timestamps apart, and counters that traffic in the guest may move. */
const normaliseDpctl = (text) =>
  text
    .replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|/gm, 'TIME|')
    .replace(/(lookups: hit:)\d+ missed:\d+ lost:\d+/g, '$1N missed:N lost:N')
    .trim();

/** Real ovs-dpctl: its log lines (stderr) come before what it prints (stdout) in every step used here. */
function realDpctl(args) {
  const r = spawnSync('ovs-dpctl', args.split(' '), { encoding: 'utf8' });
  return { code: r.status, text: `${r.stderr}${r.stdout}` };
}

async function ourDpctl(args) {
  const lines = [];
  const code = await runDpctl(args.split(' '), { out: (l) => lines.push(l), err: (l) => lines.push(l), socket });
  return { code, text: lines.join('\n') };
}

function dpctlDevices(up) {
  // The tunnels' devices too (vxlan_sys_*, genev_sys_*): what one run leaves must not meet the other.
  for (const d of ['vethx0', 'vethx2', 'dummyx', 'intx', 'vxlan_sys_4789', 'genev_sys_6090']) if (linkExists(d)) sh('ip', ['link', 'del', d]);
  if (!up) return;
  sh('ip', ['link', 'add', 'vethx0', 'type', 'veth', 'peer', 'name', 'vethx1']);
  sh('ip', ['link', 'add', 'vethx2', 'type', 'veth', 'peer', 'name', 'vethx3']);
  sh('ip', ['link', 'add', 'dummyx', 'type', 'dummy']);
  for (const d of ['vethx0', 'vethx1', 'vethx2', 'vethx3', 'dummyx']) sh('ip', ['link', 'set', d, 'up']);
}

const realRuns = [];
dpctlDevices(true);
for (const step of DPCTL_STEPS) realRuns.push(realDpctl(step));
dpctlDevices(false);
dpctlDevices(true);
for (const [i, step] of DPCTL_STEPS.entries()) {
  await check(`ovs-dpctl ${step}: our output and exit status are the real ovs-dpctl's`, async () => {
    const ours = await ourDpctl(step);
    const real = realRuns[i];
    eq(normaliseDpctl(ours.text), normaliseDpctl(real.text), 'output');
    eq(ours.code, real.code, 'exit status');
  });
}
dpctlDevices(false);

console.log(`${passed} passed, ${failed} failed`);
if (failed) {
  console.log('failures:');
  for (const f of failures) console.log(`  ${f}`);
}
process.exit(failed ? 1 : 0);
