/**
 * The call path of one operation through every layer, recorded as it runs.
 *
 * A trace is a tree of nodes. A `call` node is a function of one layer
 * (bridge's iface_create, ofproto's ofproto_port_add, ...); its children are
 * what it called, in order. A `request` node is a netlink message sent to the
 * kernel, decoded; its children are what the kernel did with it (handler and
 * vport operations, reported by the kernel itself) and the `reply` messages
 * that came back. `note` nodes are things worth seeing on the way (a log line).
 *
 * Recording follows the operation across `await`s with AsyncLocalStorage, so
 * concurrent work elsewhere in the process is not mixed in, and costs one
 * lookup per traced function when nothing is being recorded.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The participants, top of the stack first: the order of the sequence
 * diagram's columns. Any other string is allowed and placed after these.
 */
export const TRACE_LAYERS = ['ovs-vsctl', 'ovsdb', 'bridge', 'ofproto', 'netdev', 'dpif', 'kernel', 'vport'] as const;

export type TraceLayer = (typeof TRACE_LAYERS)[number];

export type TraceNodeKind = 'call' | 'request' | 'reply' | 'note';

export interface TraceNode {
  kind: TraceNodeKind;
  /** Who does it: the layer of a call, the sender of a request, the kernel for a reply. */
  layer: string;
  /** The function (`iface_create`), or a message's command (`OVS_VPORT_CMD_NEW`). */
  name: string;
  /** Short arguments shown beside the name (`p1`, `flags=REQUEST|ECHO dp_ifindex=7`). */
  args?: string;
  /** More lines: a message's decoded attributes. */
  lines?: string[];
  /** What it returned or how it failed (`ofport 1`, `EEXIST (File exists)`). */
  result?: string;
  /** The result is a failure. */
  failed?: boolean;
  children: TraceNode[];
}

/** A whole recorded operation. */
export interface Trace {
  /** What was traced, e.g. `ovs-vsctl add-port br0 p1`. */
  title: string;
  roots: TraceNode[];
}

/** Made on the first traceRecord(): a tool that never traces does not load async_hooks. */
let storage: AsyncLocalStorage<TraceNode> | undefined;
const current = {
  getStore: (): TraceNode | undefined => storage?.getStore(),
  run: <R>(node: TraceNode, fn: () => R): R => (storage ??= new AsyncLocalStorage<TraceNode>()).run(node, fn),
};

/** Whether the code running now is part of an operation being traced. */
export function tracing(): boolean {
  return current.getStore() !== undefined;
}

/** The layer of the node being recorded now (the sender of a message), when tracing. */
export function currentLayer(): string | undefined {
  return current.getStore()?.layer;
}

/** Text for a thrown value in a trace: a typed error's own message. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Record `fn` as the root `call` node `layer`/`name`. Never rejects: the tree
 * comes back with `fn`'s value, or with its error (also recorded as the
 * root's result) for the caller to rethrow.
 */
export async function traceRecord<T>(
  layer: string,
  name: string,
  args: string | undefined,
  fn: () => Promise<T>,
): Promise<{ node: TraceNode; value: T; error?: undefined } | { node: TraceNode; value?: undefined; error: unknown }> {
  const node = newNode('call', layer, name, args);
  try {
    return { node, value: await current.run(node, fn) };
  } catch (error) {
    node.result = errorText(error);
    node.failed = true;
    return { node, error };
  }
}

/**
 * A traced function: when an operation is being traced, `fn` runs as a new
 * `call` node under the current one, with its result (as `result` formats it)
 * or its error; otherwise `fn` simply runs.
 */
export function span<T>(layer: string, name: string, args: string | undefined, fn: () => Promise<T>, result?: (value: T) => string | undefined): Promise<T> {
  const parent = current.getStore();
  if (parent === undefined) return fn();
  const node = newNode('call', layer, name, args);
  parent.children.push(node);
  return current.run(node, fn).then(
    (value) => {
      const text = result?.(value);
      if (text !== undefined) node.result = text;
      return value;
    },
    (err: unknown) => {
      node.result = errorText(err);
      node.failed = true;
      throw err;
    },
  );
}

/** span() for synchronous work. */
export function spanSync<T>(layer: string, name: string, args: string | undefined, fn: () => T, result?: (value: T) => string | undefined): T {
  const parent = current.getStore();
  if (parent === undefined) return fn();
  const node = newNode('call', layer, name, args);
  parent.children.push(node);
  try {
    const value = current.run(node, fn);
    const text = result?.(value);
    if (text !== undefined) node.result = text;
    return value;
  } catch (err) {
    node.result = errorText(err);
    node.failed = true;
    throw err;
  }
}

/**
 * Add a node (a message, a note, a subtree built elsewhere) under the current
 * one and return it, or undefined when nothing is being traced.
 */
export function traceAdd(node: Omit<TraceNode, 'children'> & { children?: TraceNode[] }): TraceNode | undefined {
  const parent = current.getStore();
  if (parent === undefined) return undefined;
  const full: TraceNode = { ...node, children: node.children ?? [] };
  parent.children.push(full);
  return full;
}

/** A `note` under the current node (a log line, a decision), when tracing. */
export function traceNote(layer: string, text: string): void {
  if (current.getStore() !== undefined) traceAdd({ kind: 'note', layer, name: text });
}

function newNode(kind: TraceNodeKind, layer: string, name: string, args: string | undefined): TraceNode {
  const node: TraceNode = { kind, layer, name, children: [] };
  if (args !== undefined && args !== '') node.args = args;
  return node;
}

/** The error parseTrace() throws for input that is not a trace. */
export class TraceFormatError extends Error {
  override readonly name = 'TraceFormatError';
}

const KINDS: readonly string[] = ['call', 'request', 'reply', 'note'];

/** A trace from its JSON form (as a daemon sends it), checked field by field. */
export function parseTrace(input: unknown): Trace {
  if (typeof input !== 'object' || input === null) throw new TraceFormatError('trace: not an object');
  const { title, roots } = input as { title?: unknown; roots?: unknown };
  if (typeof title !== 'string') throw new TraceFormatError('trace.title: not a string');
  if (!Array.isArray(roots)) throw new TraceFormatError('trace.roots: not an array');
  return { title, roots: roots.map((r, i) => parseNode(r, `trace.roots[${i}]`)) };
}

function parseNode(input: unknown, path: string): TraceNode {
  if (typeof input !== 'object' || input === null) throw new TraceFormatError(`${path}: not an object`);
  const o = input as Record<string, unknown>;
  const str = (key: string, optional: boolean): string | undefined => {
    const v = o[key];
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'string') throw new TraceFormatError(`${path}.${key}: not a string`);
    return v;
  };
  const kind = str('kind', false)!;
  if (!KINDS.includes(kind)) throw new TraceFormatError(`${path}.kind: unknown kind "${kind}"`);
  const node: TraceNode = { kind: kind as TraceNodeKind, layer: str('layer', false)!, name: str('name', false)!, children: [] };
  const args = str('args', true);
  if (args !== undefined) node.args = args;
  const result = str('result', true);
  if (result !== undefined) node.result = result;
  if (o.failed !== undefined) {
    if (typeof o.failed !== 'boolean') throw new TraceFormatError(`${path}.failed: not a boolean`);
    node.failed = o.failed;
  }
  if (o.lines !== undefined) {
    if (!Array.isArray(o.lines) || !o.lines.every((l) => typeof l === 'string')) throw new TraceFormatError(`${path}.lines: not an array of strings`);
    node.lines = o.lines as string[];
  }
  if (o.children !== undefined) {
    if (!Array.isArray(o.children)) throw new TraceFormatError(`${path}.children: not an array`);
    node.children = o.children.map((c, i) => parseNode(c, `${path}.children[${i}]`));
  }
  return node;
}
