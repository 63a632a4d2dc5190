// What tracing costs, through the public API of the built package, on one core:
//   (a) span() when nothing is being traced, against calling the function itself;
//   (b) recording a traced operation of 10,000 spans (a wide tree, and a chain);
//   (c) formatTraceTree and renderTraceHtml of a 10,000-node trace (and the
//       page's growth with the trace's size, which should be linear).
//   cd packages/trace && ../../node_modules/.bin/tsup --silent && node bench/trace.bench.mjs
//   (or: pnpm --filter @ovs/trace bench)
import os from 'node:os';
import { formatTraceTree, renderTraceHtml, span, traceAdd, traceNote, traceRecord, tracing } from '../dist/index.js';

const ROUNDS = 5;
const rows = [];

/** Median of ROUNDS timings (ms) of `fn` after `warm` untimed runs. */
async function time(fn, warm = 1) {
  for (let i = 0; i < warm; i++) await fn();
  const ms = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    await fn();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.sort((a, b) => a - b);
  return ms[ROUNDS >> 1];
}

/** Extra time per call of `ms` over `base`, both for N_CALLS calls. */
function overhead(ms, base) {
  const ns = ((ms - base) * 1e6) / N_CALLS;
  return `${ns >= 0 ? '+' : ''}${ns.toFixed(1)} ns/call`;
}

function row(what, n, unit, ms, note = '') {
  rows.push({ what, n, unit, ms, note });
}

// ---------------------------------------------------------------------------
// (a) span() overhead when not tracing.

const N_CALLS = 1_000_000;
const one = async () => 1;
if (tracing()) throw new Error('tracing outside any traced operation');

// Calls only: the promise is created and dropped (what a caller pays before it awaits).
const direct = await time(() => {
  let p;
  for (let i = 0; i < N_CALLS; i++) p = one();
  return p;
}, 3);
row('async fn() directly', N_CALLS, 'calls', direct);
const spanned = await time(() => {
  let p;
  for (let i = 0; i < N_CALLS; i++) p = span('dpif', 'x', undefined, one);
  return p;
}, 3);
row("span('dpif','x',undefined,fn), not tracing", N_CALLS, 'calls', spanned, overhead(spanned, direct));

// Each awaited, as real callers do.
const directAwait = await time(async () => {
  for (let i = 0; i < N_CALLS; i++) await one();
}, 2);
row('await fn() directly', N_CALLS, 'calls', directAwait);
const spannedAwait = await time(async () => {
  for (let i = 0; i < N_CALLS; i++) await span('dpif', 'x', undefined, one);
}, 2);
row('await span(...), not tracing', N_CALLS, 'calls', spannedAwait, overhead(spannedAwait, directAwait));

// ---------------------------------------------------------------------------
// (b) Recording: 10,000 spans in one traced operation.

const N_SPANS = 10_000;

/** 2,500 port adds of 4 nested spans each: bridge > ofproto > dpif > netdev. */
async function wideOperation() {
  for (let i = 0; i < N_SPANS / 4; i++) {
    await span('bridge', 'iface_create', `br0 p${i}`, () =>
      span(
        'ofproto',
        'ofproto_port_add',
        `br0 p${i}`,
        () =>
          span(
            'dpif',
            'dpif_port_add',
            `ovs-system p${i}`,
            () => span('netdev', 'netdev_get_ifindex', `p${i}`, async () => i),
            (v) => `port ${v}`,
          ),
        (v) => `ofport ${v}`,
      ),
    );
  }
}

/** 10,000 spans, each inside the one before (each level awaits before going down, like real I/O). */
async function chain(depth) {
  if (depth === 0) return 0;
  return span(depth % 2 === 0 ? 'ofproto' : 'dpif', 'step', undefined, async () => {
    await null;
    return 1 + (await chain(depth - 1));
  });
}

let wideTree;
const wide = await time(async () => {
  wideTree = (await traceRecord('ovs-vsctl', 'add-ports', undefined, wideOperation)).node;
});
row('record 2,500 ops x 4 nested spans', N_SPANS, 'spans', wide, `${countNodes(wideTree)} nodes`);
const untraced = await time(wideOperation);
row('  same operation, not tracing', N_SPANS, 'spans', untraced);
let chainTree;
const deep = await time(async () => {
  chainTree = (await traceRecord('bridge', 'chain', undefined, () => chain(N_SPANS))).node;
});
row('record a chain of nested spans', N_SPANS, 'spans', deep, `depth ${depthOf(chainTree)}`);

// ---------------------------------------------------------------------------
// (c) Rendering a 10,000-node trace: every kind of node, recorded as the stack does.

/** One add-port of 10 nodes: calls, a netlink request with the kernel's calls, a reply and a note (1 in 50 fails). */
async function addPort(i) {
  await span('bridge', 'iface_create', `br0 p${i}`, async () => {
    traceNote('bridge', `p${i}: type system`);
    await span(
      'netdev',
      'netdev_open',
      `p${i} (system)`,
      async () => i,
      () => `netdev p${i}`,
    );
    await span(
      'ofproto',
      'ofproto_port_add',
      `br0 p${i}`,
      () =>
        span(
          'dpif',
          'dpif_port_add',
          `ovs-system p${i}`,
          async () => {
            await span(
              'netdev',
              'netdev_get_ifindex',
              `p${i}`,
              async () => 7 + i,
              (v) => `ifindex ${v}`,
            );
            const failed = i % 50 === 49;
            traceAdd({
              kind: 'request',
              layer: 'dpif',
              name: 'ovs_vport OVS_VPORT_CMD_NEW',
              args: `seq=${i} flags=REQUEST|ECHO dp_ifindex=3`,
              lines: [`OVS_VPORT_ATTR_NAME: "p${i}"`, 'OVS_VPORT_ATTR_TYPE: NETDEV (1)', `OVS_VPORT_ATTR_UPCALL_PID: [${3000 + i}]`],
              children: [
                {
                  kind: 'call',
                  layer: 'kernel',
                  name: 'ovs_vport_cmd_new',
                  result: failed ? '-EEXIST' : '0',
                  failed,
                  children: [{ kind: 'call', layer: 'vport', name: 'ovs_netdev_link', args: `p${i}`, result: '0', children: [] }],
                },
                failed
                  ? {
                      kind: 'reply',
                      layer: 'kernel',
                      name: 'NLMSG_ERROR',
                      args: `seq=${i} error=-17`,
                      lines: ['error: -17 (EEXIST)'],
                      failed: true,
                      children: [],
                    }
                  : {
                      kind: 'reply',
                      layer: 'kernel',
                      name: 'ovs_vport OVS_VPORT_CMD_NEW',
                      args: `seq=${i}`,
                      lines: [`OVS_VPORT_ATTR_PORT_NO: ${i + 1}`],
                      children: [],
                    },
              ],
            });
            if (failed) throw new Error('EEXIST (File exists)');
            return i + 1;
          },
          (v) => `port ${v}`,
        ),
      (v) => `ofport ${v}`,
    ).catch(() => undefined);
  });
}

async function addPorts(n) {
  const { node } = await traceRecord('ovs-vsctl', 'vsctl_add_ports', `br0 ${n} ports`, async () => {
    for (let i = 0; i < n; i++) await addPort(i);
  });
  return { title: `ovs-vsctl add-port br0 x${n}`, roots: [node] };
}

const trace10k = await addPorts(1000);
const n10k = countNodes(trace10k.roots[0]);
const recorded = await time(() => addPorts(1000));
row('record 1,000 add-ports (all node kinds)', n10k, 'nodes', recorded);

let text = '';
const tree = await time(() => {
  text = formatTraceTree(trace10k);
}, 3);
row('formatTraceTree', n10k, 'nodes', tree, `${kb(text.length)} text`);
let html = '';
const page = await time(() => {
  html = renderTraceHtml(trace10k);
}, 3);
row('renderTraceHtml', n10k, 'nodes', page, `${kb(Buffer.byteLength(html))} page`);

// Linear growth: the same per-node cost at 4x and 8x the size.
for (const ports of [4000, 8000]) {
  const t = await addPorts(ports);
  const n = countNodes(t.roots[0]);
  let out = '';
  const ms = await time(() => {
    out = renderTraceHtml(t);
  }, 1);
  row('renderTraceHtml', n, 'nodes', ms, `${kb(Buffer.byteLength(out))} page`);
}
const deepTrace = { title: 'chain', roots: [chainTree] };
let deepHtml = '';
const deepMs = await time(() => {
  deepHtml = renderTraceHtml(deepTrace);
}, 1);
row('renderTraceHtml, 10,000-deep chain', countNodes(chainTree), 'nodes', deepMs, `${kb(Buffer.byteLength(deepHtml))} page`);

// ---------------------------------------------------------------------------

function countNodes(root) {
  let n = 0;
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    n++;
    for (const c of node.children) stack.push(c);
  }
  return n;
}

function depthOf(root) {
  let d = 0;
  for (let node = root; node !== undefined; node = node.children[0]) d++;
  return d;
}

function kb(bytes) {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(0)} KiB`;
}

const fmt = (x, digits) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
console.log(`# @ovs/trace: ${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} cores), node ${process.version}; median of ${ROUNDS}`);
const head = ['what', 'n', 'ms', 'per second', 'ns each', 'note'];
const body = rows.map((r) => [r.what, `${fmt(r.n, 0)} ${r.unit}`, fmt(r.ms, 2), fmt((r.n * 1000) / r.ms, 0), fmt((r.ms * 1e6) / r.n, 1), r.note]);
const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
const line = (cells) =>
  cells
    .map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
    .join('  ')
    .trimEnd();
console.log(line(head));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const b of body) console.log(line(b));
