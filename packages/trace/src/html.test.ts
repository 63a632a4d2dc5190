import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { renderTraceHtml } from './html.js';
import { TRACE_LAYERS, type Trace, type TraceNode } from './trace.js';

// ---------------------------------------------------------------------------
// Traces built by hand.

function call(layer: string, name: string, args: string | undefined, children: TraceNode[] = [], extra: Partial<TraceNode> = {}): TraceNode {
  const node: TraceNode = { kind: 'call', layer, name, children, ...extra };
  if (args !== undefined) node.args = args;
  return node;
}

/** `ovs-vsctl add-port br0 p1` as it goes down the stack and fails a second time. */
function addPortTrace(): Trace {
  const request: TraceNode = {
    kind: 'request',
    layer: 'dpif',
    name: 'ovs_vport OVS_VPORT_CMD_NEW',
    args: 'seq=12 flags=REQUEST|ECHO dp_ifindex=3',
    lines: ['OVS_VPORT_ATTR_NAME: "p1"', 'OVS_VPORT_ATTR_TYPE: NETDEV (1)', 'OVS_VPORT_ATTR_UPCALL_PID: [3046]'],
    children: [
      call('kernel', 'ovs_vport_cmd_new', undefined, [call('vport', 'ovs_netdev_link', 'p1', [], { result: '0' })], { result: '0' }),
      {
        kind: 'reply',
        layer: 'kernel',
        name: 'ovs_vport OVS_VPORT_CMD_NEW',
        args: 'seq=12',
        lines: ['OVS_VPORT_ATTR_PORT_NO: 2', 'OVS_VPORT_ATTR_NAME: "p1"'],
        children: [],
      },
    ],
  };
  return {
    title: 'ovs-vsctl add-port br0 p1',
    roots: [
      call('bridge', 'iface_create', 'br0 p1', [
        call('ofproto', 'ofproto_port_add', 'br0 p1', [call('dpif', 'dpif_port_add', 'ovs-system p1', [request], { result: 'port 2' })], {
          result: 'ofport 1',
        }),
        call('ofproto', 'ofproto_port_add', 'br0 p1', [], { result: 'EEXIST (File exists)', failed: true }),
        { kind: 'note', layer: 'bridge', name: 'could not add p1 (File exists)', children: [] },
      ]),
    ],
  };
}

function countNodes(trace: Trace): Record<TraceNode['kind'] | 'results' | 'failed', number> {
  const counts = { call: 0, request: 0, reply: 0, note: 0, results: 0, failed: 0 };
  const stack = [...trace.roots];
  while (stack.length > 0) {
    const node = stack.pop()!;
    counts[node.kind]++;
    if ((node.kind === 'call' || node.kind === 'request') && node.result !== undefined) counts.results++;
    if (node.failed) counts.failed++;
    stack.push(...node.children);
  }
  return counts;
}

/** A trace of `total` nodes: operations of ten nested-ish nodes each, every kind included. */
function bigTrace(total: number): Trace {
  const roots: TraceNode[] = [];
  let made = 0;
  let i = 0;
  while (made < total) {
    const req: TraceNode = {
      kind: 'request',
      layer: 'dpif',
      name: 'OVS_VPORT_CMD_NEW',
      args: `seq=${i}`,
      lines: [`OVS_VPORT_ATTR_NAME: "p${i}"`],
      children: [],
    };
    const nodes: TraceNode[] = [
      call('bridge', 'iface_create', `br0 p${i}`),
      call('ofproto', 'ofproto_port_add', `br0 p${i}`, [], { result: `ofport ${i}` }),
      call('dpif', 'dpif_port_add', `p${i}`, [], { result: i % 7 === 0 ? 'EEXIST' : `port ${i}`, failed: i % 7 === 0 }),
      req,
      call('kernel', 'ovs_vport_cmd_new', undefined, [], { result: '0' }),
      call('vport', 'ovs_netdev_link', `p${i}`),
      { kind: 'reply', layer: 'kernel', name: 'OVS_VPORT_CMD_NEW', args: `seq=${i}`, children: [] },
      { kind: 'note', layer: 'netdev', name: `p${i} up`, children: [] },
      call('netdev', 'netdev_open', `p${i}`),
      call('netdev', 'netdev_set_config', `p${i}`),
    ];
    // bridge > ofproto > dpif > request > (kernel > vport, reply); notes and netdev calls under bridge.
    nodes[0]!.children.push(nodes[1]!, nodes[7]!, nodes[8]!, nodes[9]!);
    nodes[1]!.children.push(nodes[2]!);
    nodes[2]!.children.push(req);
    req.children.push(nodes[4]!, nodes[6]!);
    nodes[4]!.children.push(nodes[5]!);
    const keep = Math.min(nodes.length, total - made);
    if (keep < nodes.length) {
      // The last operation: only a chain of calls, to hit the total exactly.
      let parent: TraceNode | undefined;
      for (let k = 0; k < keep; k++) {
        const node = call('bridge', 'step', String(k));
        if (parent === undefined) roots.push(node);
        else parent.children.push(node);
        parent = node;
      }
    } else {
      roots.push(nodes[0]!);
    }
    made += keep;
    i++;
  }
  return { title: `${total} nodes`, roots };
}

// ---------------------------------------------------------------------------
// A small well-formedness check: every tag closed in order, no stray markup.

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);
const RAW = new Set(['script', 'style']);
const TAG = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*(?:="[^"<>]*")?)*)\s*(\/?)>/y;
const ENTITY = /&(?:amp|lt|gt|quot|#39|#[0-9]+|#x[0-9a-fA-F]+);/y;

/** Problems found in `html` (empty when well-formed). */
function wellFormedErrors(html: string): string[] {
  const errors: string[] = [];
  const stack: string[] = [];
  let i = 0;
  if (!html.startsWith('<!DOCTYPE html>')) errors.push('no doctype');
  else i = '<!DOCTYPE html>'.length;
  while (i < html.length && errors.length < 10) {
    const ch = html[i];
    if (ch === '<') {
      TAG.lastIndex = i;
      const m = TAG.exec(html);
      if (m === null) {
        errors.push(`bad tag at ${i}: ${JSON.stringify(html.slice(i, i + 40))}`);
        break;
      }
      const [whole, close, rawName, , selfClose] = m;
      const name = rawName!.toLowerCase();
      i += whole.length;
      if (close === '/') {
        const open = stack.pop();
        if (open !== name) errors.push(`</${name}> closes <${open ?? 'nothing'}> at ${i}`);
      } else if (selfClose === '/' || VOID.has(name)) {
        // nothing to close
      } else if (RAW.has(name)) {
        const end = html.indexOf(`</${name}>`, i);
        if (end < 0) {
          errors.push(`<${name}> never closed`);
          break;
        }
        if (html.slice(i, end).toLowerCase().includes(`</${name}`)) errors.push(`</${name} inside <${name}>`);
        i = end + name.length + 3;
      } else {
        stack.push(name);
      }
    } else if (ch === '>') {
      errors.push(`stray > at ${i}`);
      i++;
    } else if (ch === '&') {
      ENTITY.lastIndex = i;
      const m = ENTITY.exec(html);
      if (m === null) errors.push(`bare & at ${i}`);
      i += m === null ? 1 : m[0].length;
    } else {
      i++;
    }
  }
  if (stack.length > 0) errors.push(`left open: ${stack.join(' > ')}`);
  return errors;
}

// Parts of the page.

/** Text content or attribute value with its character references decoded. */
function decode(s: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"' };
  return s.replace(/&(?:#x([0-9a-fA-F]+)|#([0-9]+)|([a-z]+));/g, (whole, hex: string | undefined, dec: string | undefined, name: string | undefined) =>
    hex !== undefined ? String.fromCodePoint(parseInt(hex, 16)) : dec !== undefined ? String.fromCodePoint(Number(dec)) : (named[name!] ?? whole),
  );
}

function diagram(html: string): string {
  const start = html.indexOf('<svg class="seq"');
  return start < 0 ? '' : html.slice(start, html.indexOf('</svg>', start));
}

function participants(html: string): string[] {
  const start = html.indexOf('<div class="participants">');
  if (start < 0) return [];
  const part = html.slice(start, html.indexOf('</div>', start));
  return [...part.matchAll(/<g class="p">.*?<text[^>]*>([^<]*)<\/text><\/g>/g)].map((m) => decode(m[1]!));
}

function count(haystack: string, needle: string | RegExp): number {
  return typeof needle === 'string' ? haystack.split(needle).length - 1 : [...haystack.matchAll(needle)].length;
}

/** The message groups of the diagram, in document order. */
function messages(html: string): { cls: string; y: number; d: string; text: string; title: string }[] {
  return [...diagram(html).matchAll(/<g class="(m [^"]*|note[^"]*)"[^>]*>(.*?)<\/g>\n/gs)].map((m) => {
    const body = m[2]!;
    const y = /<path d="M-?\d+ (\d+)/.exec(body)?.[1] ?? /<rect x="\d+" y="(\d+)"/.exec(body)?.[1] ?? 'NaN';
    const text = decode((/<text[^>]*>(.*?)<\/text>/.exec(body)?.[1] ?? '').replace(/<[^>]*>/g, ''));
    const title = decode(/<title>([^<]*)<\/title>/.exec(body)?.[1] ?? '');
    const d = /<path d="([^"]*)"/.exec(body)?.[1] ?? '';
    return { cls: m[1]!, y: Number(y), d, text, title };
  });
}

// ---------------------------------------------------------------------------

describe('renderTraceHtml', () => {
  it('renders a well-formed, self-contained page titled after the trace', () => {
    const html = renderTraceHtml(addPortTrace());
    expect(wellFormedErrors(html)).toEqual([]);
    expect(html).toContain('<title>ovs-vsctl add-port br0 p1</title>');
    expect(html).toContain('<h1>ovs-vsctl add-port br0 p1</h1>');
    // Nothing fetched: no external URLs, no src attributes, every link in-page.
    expect(html).not.toMatch(/https?:|\/\/[a-z]/i);
    expect(html).not.toMatch(/\ssrc=/);
    for (const m of html.matchAll(/href="([^"]*)"/g)) expect(m[1]).toMatch(/^#[a-z]+\d*$/);
    // The one script is allowed by its hash and nothing else is.
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    const hash = createHash('sha256').update(script, 'utf8').digest('base64');
    expect(html).toContain(`script-src &#39;sha256-${hash}&#39;`);
    expect(html).toContain('default-src &#39;none&#39;');
    expect(count(html, '<script')).toBe(1);
  });

  it('has a legend for every kind of arrow', () => {
    const html = renderTraceHtml(addPortTrace());
    const legend = /<div class="legend"[^>]*>(.*?)<\/div>/.exec(html)![1]!;
    for (const word of ['call', 'return', 'failed', 'netlink request', 'netlink reply', 'note']) expect(legend).toContain(word);
  });

  it('draws one column per layer used, in TRACE_LAYERS order', () => {
    const cols = participants(renderTraceHtml(addPortTrace()));
    expect(cols).toEqual(['bridge', 'ofproto', 'dpif', 'kernel', 'vport']);
    const order = TRACE_LAYERS as readonly string[];
    expect([...cols].sort((a, b) => order.indexOf(a) - order.indexOf(b))).toEqual(cols);
    expect(count(diagram(renderTraceHtml(addPortTrace())), '<path class="life"')).toBe(5);
  });

  it('puts unknown layers after the known ones, in order of first appearance', () => {
    const trace: Trace = {
      title: 'mixed',
      roots: [
        call('zeta', 'z', undefined, [
          call('bridge', 'b', undefined, [call('alpha', 'a', undefined), call('ofproto', 'o', undefined), call('zeta', 'z2', undefined)]),
        ]),
      ],
    };
    expect(participants(renderTraceHtml(trace))).toEqual(['bridge', 'ofproto', 'zeta', 'alpha']);
  });

  it('adds the kernel column for a message even when no node is in the kernel layer', () => {
    const trace: Trace = {
      title: 'msg',
      roots: [call('dpif', 'dpif_port_add', 'p1', [{ kind: 'request', layer: 'dpif', name: 'OVS_VPORT_CMD_NEW', children: [] }])],
    };
    expect(participants(renderTraceHtml(trace))).toEqual(['dpif', 'kernel']);
  });

  it('draws one arrow per call, request and reply, and return arrows only for results', () => {
    const trace = addPortTrace();
    const html = renderTraceHtml(trace);
    const n = countNodes(trace);
    const msgs = messages(html);
    const of = (kind: string): number => msgs.filter((m) => m.cls.split(' ')[1] === kind).length;
    expect(of('call')).toBe(n.call);
    expect(of('req')).toBe(n.request);
    expect(of('rep')).toBe(n.reply);
    expect(of('ret')).toBe(n.results);
    expect(msgs.filter((m) => m.cls.startsWith('note')).length).toBe(n.note);
    expect(n).toMatchObject({ call: 6, request: 1, reply: 1, note: 1, results: 5 });
    // The returns carry the results; iface_create has none, so no return for it.
    expect(msgs.filter((m) => m.cls.startsWith('m ret')).map((m) => m.text)).toEqual(['0', '0', 'port 2', 'ofport 1', '✗ EEXIST (File exists)']);
    expect(msgs.filter((m) => m.cls.startsWith('m call')).map((m) => m.text)).toEqual([
      'iface_create br0 p1',
      'ofproto_port_add br0 p1',
      'dpif_port_add ovs-system p1',
      'ovs_vport_cmd_new',
      'ovs_netdev_link p1',
      'ofproto_port_add br0 p1',
    ]);
  });

  it('lays rows out top to bottom in tree order, each return after its callees', () => {
    const msgs = messages(renderTraceHtml(addPortTrace()));
    const ys = msgs.map((m) => m.y);
    expect(ys.every((y) => Number.isFinite(y))).toBe(true);
    for (let i = 1; i < ys.length; i++) expect(ys[i]!).toBeGreaterThan(ys[i - 1]!);
    const order = msgs.map((m) => `${m.cls.split(' ').slice(0, 2).join(' ')}:${m.text.replace(/ \[\d+\]$/, '')}`);
    expect(order).toEqual([
      'm call:iface_create br0 p1',
      'm call:ofproto_port_add br0 p1',
      'm call:dpif_port_add ovs-system p1',
      'm req:ovs_vport OVS_VPORT_CMD_NEW seq=12 flags=REQUEST|ECHO dp_ifindex=3',
      'm call:ovs_vport_cmd_new',
      'm call:ovs_netdev_link p1',
      'm ret:0',
      'm ret:0',
      'm rep:ovs_vport OVS_VPORT_CMD_NEW seq=12',
      'm ret:port 2',
      'm ret:ofport 1',
      'm call:ofproto_port_add br0 p1',
      'm ret:✗ EEXIST (File exists)',
      'note:could not add p1 (File exists)',
    ]);
  });

  it('draws arrows between the right columns: calls from the caller, messages to and from the kernel', () => {
    const html = renderTraceHtml(addPortTrace());
    const xs = new Map<string, number>();
    for (const m of diagram(html).matchAll(/<path class="life" d="M(\d+) 0/g)) xs.set(['bridge', 'ofproto', 'dpif', 'kernel', 'vport'][xs.size]!, Number(m[1]));
    const arrows = messages(html).filter((m) => m.cls.startsWith('m '));
    const ends = (d: string): [number, number] => {
      const m = /^M(-?\d+) \d+H(-?\d+)$/.exec(d);
      return m === null ? [NaN, NaN] : [Number(m[1]), Number(m[2])];
    };
    const arrow = (i: number): [number, number] => ends(arrows[i]!.d);
    const near = (x: number, layer: string): boolean => Math.abs(x - xs.get(layer)!) <= 40;
    // bridge→ofproto, ofproto→dpif, dpif→kernel (request), kernel→vport.
    expect(near(arrow(1)[0], 'bridge') && near(arrow(1)[1], 'ofproto')).toBe(true);
    expect(near(arrow(2)[0], 'ofproto') && near(arrow(2)[1], 'dpif')).toBe(true);
    expect(near(arrow(3)[0], 'dpif') && near(arrow(3)[1], 'kernel')).toBe(true);
    expect(near(arrow(5)[0], 'kernel') && near(arrow(5)[1], 'vport')).toBe(true);
    // The kernel handler is a call within the kernel: a loop; the reply goes kernel→dpif.
    const loop = /^M(\d+) \d+H\d+V\d+H(\d+)$/;
    const handler = loop.exec(arrows[4]!.d)!;
    expect(arrows[4]!.text).toBe('ovs_vport_cmd_new');
    expect(near(Number(handler[1]), 'kernel') && near(Number(handler[2]), 'kernel')).toBe(true);
    const rep = ends(arrows.find((m) => m.cls === 'm rep')!.d);
    expect(near(rep[0], 'kernel') && near(rep[1], 'dpif')).toBe(true);
    // A root call is a loop on its own lifeline, starting from it.
    expect(arrows[0]!.d).toMatch(new RegExp(`^M${xs.get('bridge')!} \\d+H\\d+V\\d+H\\d+$`));
  });

  it('draws activation bars for calls and requests', () => {
    const html = renderTraceHtml(addPortTrace());
    const n = countNodes(addPortTrace());
    expect(count(diagram(html), /<rect class="bar"/g)).toBe(n.call);
    expect(count(diagram(html), /<rect class="bar req"/g)).toBe(n.request);
  });

  it('marks failed results', () => {
    const msgs = messages(renderTraceHtml(addPortTrace()));
    const failed = msgs.filter((m) => m.cls.split(' ').includes('fail'));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ cls: 'm ret fail', text: '✗ EEXIST (File exists)' });
    expect(failed[0]!.title).toContain('error: EEXIST (File exists)');
  });

  it("shows a message's lines on hover and in a numbered, expandable list", () => {
    const html = renderTraceHtml(addPortTrace());
    const req = messages(html).find((m) => m.cls === 'm req')!;
    expect(req.text).toMatch(/ \[1\]$/);
    expect(req.title).toContain('OVS_VPORT_ATTR_NAME: "p1"\nOVS_VPORT_ATTR_TYPE: NETDEV (1)\nOVS_VPORT_ATTR_UPCALL_PID: [3046]');
    const rep = messages(html).find((m) => m.cls === 'm rep')!;
    expect(rep.text).toMatch(/ \[2\]$/);
    expect(rep.title).toContain('OVS_VPORT_ATTR_PORT_NO: 2');
    // The arrow links to its entry, the entry back to the arrow.
    expect(diagram(html)).toContain('<g class="m req" id="a1"><a href="#m1">');
    expect(diagram(html)).toContain('<g class="m rep" id="a2"><a href="#m2">');
    const entry = /<details class="msg" id="m1">(.*?)<\/details>/s.exec(html)![1]!;
    expect(entry).toContain('<a href="#a1"');
    expect(entry).toContain('OVS_VPORT_CMD_NEW seq=12 flags=REQUEST|ECHO dp_ifindex=3');
    expect(entry).toContain('<pre>OVS_VPORT_ATTR_NAME: &quot;p1&quot;\nOVS_VPORT_ATTR_TYPE: NETDEV (1)\nOVS_VPORT_ATTR_UPCALL_PID: [3046]</pre>');
    expect(count(html, '<details class="msg"')).toBe(2);
    // Closed by default, so the list stays short; the summary opens it without script.
    expect(html).not.toContain('<details class="msg" id="m1" open');
  });

  it('escapes hostile text everywhere', () => {
    const evil = '</script><img onerror=x>';
    const trace: Trace = {
      title: `<b>"T" & 'U'</b>${evil}`,
      roots: [
        call(
          evil,
          evil,
          `" onmouseover="alert(1)" & <svg onload=x>`,
          [
            { kind: 'request', layer: evil, name: evil, args: '&amp; <!-- -->', lines: [evil, ']]><![CDATA[', '\u0000\u0007 \ud800 x'], children: [] },
            { kind: 'note', layer: 'bridge', name: `<style>*{display:none}</style>${evil}`, children: [] },
          ],
          { result: evil, failed: true },
        ),
      ],
    };
    const html = renderTraceHtml(trace);
    expect(wellFormedErrors(html)).toEqual([]);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>');
    expect(html).not.toContain('<svg onload');
    expect(html).not.toContain('<!--');
    expect(html).not.toContain('onmouseover="');
    expect(count(html, '</script>')).toBe(1);
    expect(count(html, '<style>')).toBe(1);
    expect(html).toContain('&lt;/script&gt;&lt;img onerror=x&gt;');
    expect(html).toContain('<title>&lt;b&gt;&quot;T&quot; &amp; &#39;U&#39;&lt;/b&gt;&lt;/script&gt;&lt;img onerror=x&gt;</title>');
    expect(html).toContain('&amp;amp; &lt;!-- --&gt;');
    expect(html).toContain('&quot; onmouseover=&quot;alert(1)&quot; &amp; &lt;svg onload=x&gt;');
    // Control characters and a lone surrogate become U+FFFD.
    expect(html).toContain('&#xFFFD;&#xFFFD; &#xFFFD; x');
    expect(html).not.toMatch(/[\u0000-\u0008]/);
    const cols = participants(html);
    expect(cols.slice(0, 2)).toEqual(['bridge', 'kernel']);
    expect(cols[2]).toMatch(/^<\/script><img[^<>]*…$/);
    expect(html).toContain('<text x="');
    expect(html).toMatch(/<text x="\d+" y="\d+">&lt;\/script&gt;&lt;img[^<>&]*&#x2026;<\/text>/);
  });

  it('writes ASCII only, any other character as a reference', () => {
    const text = 'café → 端口 😀 \u00a0';
    const trace: Trace = {
      title: text,
      roots: [call('bridge', text, undefined, [{ kind: 'note', layer: 'bridge', name: text, children: [] }], { result: text, failed: true })],
    };
    const html = renderTraceHtml(trace);
    expect(html).toMatch(/^[\t\n\x20-\x7e]*$/);
    expect(html).toContain('<h1>caf&#xE9; &#x2192; &#x7AEF;&#x53E3; &#x1F600; &#xA0;</h1>');
    const msgs = messages(html);
    expect(msgs.map((m) => m.text)).toEqual([`${text}`, text, `✗ ${text}`]);
    expect(wellFormedErrors(html)).toEqual([]);
  });

  it('truncates long labels, keeping the full text in the tooltip', () => {
    const long = `dp_ifindex=3 ${'OVS_VPORT_ATTR_OPTIONS '.repeat(20)}end`;
    const trace: Trace = {
      title: 'long',
      roots: [call('bridge', 'b', undefined, [call('ofproto', 'ofproto_port_add', long, [], { result: `${'x'.repeat(300)}!` })])],
    };
    const msgs = messages(renderTraceHtml(trace));
    const c = msgs.find((m) => m.text.startsWith('ofproto_port_add'))!;
    expect(c.text.endsWith('…')).toBe(true);
    expect(c.text.length).toBeLessThan(100);
    expect(c.title).toBe(`ofproto: ofproto_port_add ${long}\n→ ${'x'.repeat(300)}!`);
    const ret = msgs.find((m) => m.cls === 'm ret')!;
    expect(ret.text).toMatch(/^x+…$/);
    expect(ret.title).toContain(`${'x'.repeat(300)}!`);
    // Truncation never splits a surrogate pair.
    const emoji: Trace = { title: 'e', roots: [call('bridge', 'b', undefined, [call('ofproto', '😀'.repeat(200), undefined)])] };
    const e = messages(renderTraceHtml(emoji)).find((m) => m.title.startsWith('ofproto'))!;
    expect(e.text).toMatch(/^(😀)+…$/u);
  });

  it('sizes the page from its content', () => {
    const small = renderTraceHtml({ title: 's', roots: [call('bridge', 'a', undefined, [call('ofproto', 'b', undefined)])] });
    const big = renderTraceHtml(bigTrace(200));
    const size = (html: string): [number, number] => {
      const m = /<svg class="seq" width="(\d+)" height="(\d+)"/.exec(html)!;
      return [Number(m[1]), Number(m[2])];
    };
    const [w1, h1] = size(small);
    const [w2, h2] = size(big);
    expect(w2).toBeGreaterThan(w1);
    expect(h2).toBeGreaterThan(h1 * 50);
    // Every coordinate lies within the drawing.
    for (const m of diagram(big).matchAll(/ (x|y)="(-?\d+)"/g)) {
      const v = Number(m[2]);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(m[1] === 'x' ? w2 : h2);
    }
  });

  it('is deterministic', () => {
    const a = renderTraceHtml(addPortTrace());
    const b = renderTraceHtml(addPortTrace());
    expect(b).toBe(a);
    const big = bigTrace(1000);
    expect(renderTraceHtml(JSON.parse(JSON.stringify(big)) as Trace)).toBe(renderTraceHtml(big));
  });

  it('renders an empty trace', () => {
    const html = renderTraceHtml({ title: '', roots: [] });
    expect(wellFormedErrors(html)).toEqual([]);
    expect(html).toContain('The trace is empty.');
    expect(participants(html)).toEqual([]);
  });

  it('renders a 5,000-node trace', () => {
    const trace = bigTrace(5000);
    const n = countNodes(trace);
    expect(n.call + n.request + n.reply + n.note).toBe(5000);
    const html = renderTraceHtml(trace);
    expect(wellFormedErrors(html)).toEqual([]);
    const msgs = messages(html);
    expect(msgs.filter((m) => m.cls.startsWith('m call')).length).toBe(n.call);
    expect(msgs.filter((m) => m.cls.startsWith('m req')).length).toBe(n.request);
    expect(msgs.filter((m) => m.cls.startsWith('m rep')).length).toBe(n.reply);
    expect(msgs.filter((m) => m.cls.startsWith('m ret')).length).toBe(n.results);
    expect(msgs.filter((m) => m.cls.split(' ').includes('fail')).length).toBe(n.failed);
    expect(participants(html)).toEqual(['bridge', 'ofproto', 'netdev', 'dpif', 'kernel', 'vport']);
    expect(count(html, '<details class="msg"')).toBe(n.request);
  });

  it('renders a 5,000-deep chain of calls without running out of stack', () => {
    const layers = ['bridge', 'ofproto', 'dpif'];
    const root = call('bridge', 'c0', undefined);
    let node = root;
    for (let i = 1; i < 5000; i++) {
      const next = call(layers[i % 3]!, `c${i}`, undefined, [], { result: 'ok' });
      node.children.push(next);
      node = next;
    }
    const html = renderTraceHtml({ title: 'deep', roots: [root] });
    expect(wellFormedErrors(html)).toEqual([]);
    expect(count(diagram(html), /<g class="m call"/g)).toBe(5000);
    expect(count(diagram(html), /<g class="m ret"/g)).toBe(4999);
  });
});
