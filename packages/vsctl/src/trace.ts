/**
 * ovs-vsctl --trace: the change this invocation makes, followed through
 * ovs-vswitchd. Before committing, ovs-vswitchd is asked (over its control
 * socket, `trace/arm`) to record its next reconfiguration; once cur_cfg shows
 * it is done, the recording (`trace/last --json`) is fetched and shown under
 * this invocation's own steps: the OVSDB transaction, then the bridge run.
 *
 * With other clients changing the database at the same moment, the
 * reconfiguration recorded may include their changes too (it is the one that
 * applied ours).
 */
import { writeFileSync } from 'node:fs';
import type { Json } from '@ovs/ovsdb';
import { unixctlTargetSocket, unixctlTransact } from '@ovs/util';
import { type Trace, type TraceNode, formatTraceTree, parseTrace, renderTraceHtml } from '@ovs/trace';
import type { TraceOutput } from './args.js';
import { FatalError } from './context/context.js';

function vswitchdSocket(env: NodeJS.ProcessEnv): string {
  try {
    return unixctlTargetSocket('ovs-vswitchd', env);
  } catch (err) {
    throw new FatalError(`--trace: ovs-vswitchd is not running (${(err as Error).message})`);
  }
}

/** trace/arm: ovs-vswitchd records from its next reconfiguration on. */
export async function armTrace(env: NodeJS.ProcessEnv): Promise<void> {
  const path = vswitchdSocket(env);
  try {
    await unixctlTransact(path, 'trace/arm', []);
  } catch (err) {
    throw new FatalError(`--trace: cannot reach ovs-vswitchd at ${path} (${(err as Error).message.trim()})`);
  }
}

/** The whole trace: this invocation, its transaction, and what ovs-vswitchd did about it. */
export async function collectTrace(env: NodeJS.ProcessEnv, args: string, operations: Json[], nextCfg: number): Promise<Trace> {
  let text: string;
  try {
    text = await unixctlTransact(vswitchdSocket(env), 'trace/last', ['--json']);
  } catch (err) {
    throw new FatalError(`--trace: ovs-vswitchd has no trace (${(err as Error).message.trim()})`);
  }
  const switchd = parseTrace(JSON.parse(text));
  const ops = operations.filter((o) => (o as { op?: string }).op !== 'comment');
  const transact: TraceNode = {
    kind: 'call',
    layer: 'ovsdb',
    name: 'transact',
    args: ops.map((o) => `${(o as { op: string }).op} ${(o as { table?: string }).table ?? ''}`.trim()).join(', '),
    lines: ops.map((o) => JSON.stringify(o)),
    result: 'success',
    children: [],
  };
  const root: TraceNode = {
    kind: 'call',
    layer: 'ovs-vsctl',
    name: 'do_vsctl',
    result: `cur_cfg ${nextCfg}`,
    children: [transact, { kind: 'note', layer: 'ovsdb', name: `ovs-vswitchd sees next_cfg ${nextCfg}`, children: [] }, ...switchd.roots],
  };
  return { title: `ovs-vsctl ${args}`, roots: [root] };
}

/** Show it as asked: a tree or JSON on stdout, or a page written to a file. */
export function emitTrace(trace: Trace, output: TraceOutput): string {
  switch (output.format) {
    case 'tree':
      return `${formatTraceTree(trace)}\n`;
    case 'json':
      return `${JSON.stringify(trace)}\n`;
    case 'html':
      writeFileSync(output.file, renderTraceHtml(trace));
      return '';
  }
}
