/**
 * Human-readable text for any message, for the CLI, logs and test failures:
 *
 *   ovs_vport OVS_VPORT_CMD_NEW len=76 seq=5 pid=1234 flags=REQUEST|ECHO dp_ifindex=7
 *     OVS_VPORT_ATTR_TYPE: OVS_VPORT_TYPE_VXLAN(4)
 *     OVS_VPORT_ATTR_NAME: "vxlan_sys_4789"
 *     OVS_VPORT_ATTR_OPTIONS:
 *       OVS_TUNNEL_ATTR_DST_PORT: 4789
 */
import type { JsonValue } from './attr-json.js';
import { forEachAttr } from './attr-order.js';
import type { AttrSet, AttrValues } from './attr-set.js';
import { hex } from './hex.js';
import { type RtnlMessage, rtmName, rtnlToJson } from './rtnetlink.js';
import { errnoName, strerror } from './errno.js';
import { type ExtAck, type Message, cmdName, decode, extAckAttrs, newFamilyTable } from './message.js';
import { NLM_F, nlmFlagNames } from './netlink.js';
import type { FamilyTable } from './genl.js';
import { protocolName } from './json.js';

const INDENT = '  ';

/** Format attribute values of `set`, one per line, nested sets indented. */
export function formatAttrs(set: AttrSet, values: AttrValues<AttrSet['defs']>, depth = 1): string[] {
  const lines: string[] = [];
  const pad = INDENT.repeat(depth);
  forEachAttr(set, values, (name, def, value, _flags, raw) => {
    if (raw || !def) {
      const what = raw?.invalid ? `invalid: ${raw.invalid}` : 'unknown';
      lines.push(`${pad}${name}: (${raw?.data.length ?? 0} bytes, ${what}) ${hex(value as Uint8Array) || '<empty>'}`);
      return;
    }
    const nestedSet = def.codec.policy.nested;
    if (def.codec.kind === 'nested' && nestedSet) {
      const inner = formatAttrs(nestedSet, value as AttrValues<AttrSet['defs']>, depth + 1);
      lines.push(inner.length ? `${pad}${name}:` : `${pad}${name}: {}`, ...inner);
    } else if (def.codec.kind === 'nested[]' && nestedSet) {
      lines.push(`${pad}${name}:`);
      (value as Array<AttrValues<AttrSet['defs']>>).forEach((el, i) => {
        lines.push(`${pad}${INDENT}[${i + 1}]`, ...formatAttrs(nestedSet, el, depth + 2));
      });
    } else {
      lines.push(`${pad}${name}: ${def.codec.format(value)}`);
    }
  });
  return lines;
}

function formatExt(ext: ExtAck | undefined): string[] {
  if (!ext) return [];
  return [`${INDENT}ext_ack:`, ...formatAttrs(extAckAttrs as unknown as AttrSet, ext, 2)];
}

function headerLine(title: string, msg: Message, style: 'get' | 'new' | 'del' | 'ack'): string {
  const h = msg.header;
  const flags = nlmFlagNames(h.flags, style).join('|') || '0';
  return `${title} len=${h.len} seq=${h.seq} pid=${h.pid} flags=${flags}`;
}

function errorText(error: number): string {
  return error === 0 ? '0 (ack)' : `${error} ${errnoName(error)} (${strerror(error)})`;
}

/** Multi-line text for one message. */
export function formatMessage(msg: Message, families: FamilyTable = newFamilyTable()): string {
  switch (msg.kind) {
    case 'genl': {
      const name = cmdName(msg.family, msg.cmd, (msg.header.flags & NLM_F.REQUEST) !== 0);
      const style = name.endsWith('_NEW') || name.endsWith('_SET') ? 'new' : name.endsWith('_DEL') ? 'del' : 'get';
      let line = headerLine(`${msg.family.name} ${name}`, msg, style);
      if (msg.version !== msg.family.version) line += ` version=${msg.version}`;
      if (msg.dpIfindex !== undefined) line += ` dp_ifindex=${msg.dpIfindex}`;
      return [line, ...formatAttrs(msg.family.attrs, msg.attrs)].join('\n');
    }
    case 'error': {
      const lines = [`${headerLine('NLMSG_ERROR', msg, 'ack')} error=${errorText(msg.error)}`];
      const capped = (msg.header.flags & NLM_F.CAPPED) !== 0;
      const r = capped ? undefined : decode(msg.request, { protocol: msg.protocol, families, lenient: true });
      if (r?.ok && r.messages.length === 1) {
        lines.push(`${INDENT}request: ${formatMessage(r.messages[0]!, families).split('\n').join(`\n${INDENT}`)}`);
      } else {
        lines.push(`${INDENT}request${capped ? ' (capped)' : ''}: ${hex(msg.request)}`);
      }
      return [...lines, ...formatExt(msg.ext)].join('\n');
    }
    case 'done':
      return [`${headerLine('NLMSG_DONE', msg, 'ack')}${msg.error !== undefined ? ` error=${errorText(msg.error)}` : ''}`, ...formatExt(msg.ext)].join('\n');
    case 'raw': {
      const title = msg.header.type === 1 ? 'NLMSG_NOOP' : msg.header.type === 4 ? 'NLMSG_OVERRUN' : `${protocolName(msg.protocol)} type=${msg.header.type}`;
      return `${headerLine(title, msg, 'get')}\n${INDENT}payload: ${hex(msg.payload) || '<empty>'}`;
    }
    case 'rtnl':
      return formatRtnl(msg);
  }
}

function formatRtnl(msg: RtnlMessage): string {
  const json = rtnlToJson(msg);
  const style = msg.header.type % 4 === 0 ? 'new' : msg.header.type % 4 === 1 ? 'del' : 'get';
  let line = headerLine(rtmName(msg.header.type) ?? `RTM_${msg.header.type}`, msg, style);
  for (const [k, v] of Object.entries(json)) if (k !== 'attrs' && typeof v !== 'object') line += ` ${k}=${String(v)}`;
  return [line, ...formatJson(json.attrs ?? {}, 1)].join('\n');
}

/** Attributes already in JSON form (rtnetlink's kind-specific nests), printed like formatAttrs. */
function formatJson(value: JsonValue, depth: number): string[] {
  const pad = INDENT.repeat(depth);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${pad}${JSON.stringify(value)}`];
  const lines: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) lines.push(`${pad}${k}:`, ...formatJson(v, depth + 1));
    else lines.push(`${pad}${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  return lines;
}
