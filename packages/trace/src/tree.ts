/**
 * A trace as an indented tree for the terminal: the layer in a left-hand
 * column, then the call path, one node a line, a message's decoded attributes
 * under it.
 *
 *   bridge   iface_create p1
 *   netdev   ├─ netdev_open p1 (system)
 *   ofproto  └─ ofproto_port_add br0 p1 → ofport 1
 *   dpif        └─ dpif_port_add ovs-system p1 → port 2
 *   dpif           └─ ▶ ovs_vport OVS_VPORT_CMD_NEW seq=12 flags=REQUEST|ECHO
 *                        OVS_VPORT_ATTR_NAME: "p1"
 *   kernel            ├─ ovs_vport_cmd_new
 *   ...
 */
import { TRACE_LAYERS, type Trace, type TraceNode } from './trace.js';

export interface TreeOptions {
  /**
   * Which nodes show their extra lines (decoded attributes, operations): all,
   * only the netlink requests (the default: replies, whole device dumps, are
   * summed up by their header line), or none.
   */
  lines?: 'all' | 'requests' | 'none';
}

const LAYER_WIDTH = Math.max(...TRACE_LAYERS.map((l) => l.length)) + 2;

/** One line for a node, without the tree glyphs. */
export function nodeLabel(node: TraceNode): string {
  const mark = node.kind === 'request' ? '▶ ' : node.kind === 'reply' ? '◀ ' : node.kind === 'note' ? '· ' : '';
  let text = `${mark}${node.name}`;
  if (node.args !== undefined) text += ` ${node.args}`;
  if (node.result !== undefined) text += ` → ${node.failed ? 'error: ' : ''}${node.result}`;
  return text;
}

/** The tree as text, one line per node (and per decoded attribute line). */
export function formatTraceTree(trace: Trace, opts: TreeOptions = {}): string {
  const which = opts.lines ?? 'requests';
  const withLines = (node: TraceNode): boolean => which === 'all' || (which === 'requests' && node.kind === 'request');
  const out: string[] = [trace.title];
  const walk = (node: TraceNode, prefix: string, glyph: string, childPrefix: string): void => {
    out.push(`${node.layer.padEnd(LAYER_WIDTH)}${prefix}${glyph}${nodeLabel(node)}`);
    const inner = prefix + childPrefix;
    if (node.lines && withLines(node)) {
      const bar = node.children.length > 0 ? '│  ' : '   ';
      for (const l of node.lines) out.push(`${''.padEnd(LAYER_WIDTH)}${inner}${bar}   ${l}`);
    }
    node.children.forEach((c, i) => {
      const last = i === node.children.length - 1;
      walk(c, inner, last ? '└─ ' : '├─ ', last ? '   ' : '│  ');
    });
  };
  for (const root of trace.roots) walk(root, '', '', '');
  return out.map((l) => l.trimEnd()).join('\n');
}
