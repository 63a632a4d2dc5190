/**
 * A trace as a self-contained HTML page: a UML sequence diagram, one column
 * (participant box and dashed lifeline) per layer, one row per node, time
 * flowing down.
 *
 *   bridge      ofproto      dpif        kernel      vport
 *     ┃── port_add ─▶┃                                       call (solid)
 *     ┃              ┃── port_add ─▶┃                        call
 *     ┃              ┃              ┃═ OVS_VPORT_CMD_NEW ═▶┃  netlink request [1]
 *     ┃              ┃              ┃                      ┃↺ ovs_vport_cmd_new
 *     ┃              ┃              ┃                      ┃── vport_add ─▶┃
 *     ┃              ┃              ┃◀ ─ ─ reply ─ ─ ─ ─ ─ ┃  netlink reply [2]
 *     ┃              ┃◀ ─ port 2 ─ ─┃                        return (dashed)
 *
 * A call is an arrow from its parent's layer (a loop for a root or a call
 * within one layer) and an activation bar on the callee's lifeline spanning
 * its children; a result is a dashed return arrow back (red when it failed).
 * A request goes from its layer to the kernel column, which handles it (its
 * children, the kernel's handler and vport operations, are drawn from there);
 * a reply comes back from the kernel to the request's sender. A message's
 * decoded attributes are in its tooltip and in the numbered list under the
 * diagram (the arrow links there). Notes are boxes beside their lifeline.
 *
 * Nothing is loaded from anywhere (a Content-Security-Policy says so); the one
 * small script only opens the linked attribute list and adds expand/collapse
 * buttons, the page works without it. The output depends on the trace only
 * (same trace, same bytes) and is built in time linear in the number of nodes,
 * without recursion, so deep traces do not exhaust the stack.
 */
import { createHash } from 'node:crypto';
import { TRACE_LAYERS, type Trace, type TraceNode } from './trace.js';

// Geometry, in CSS pixels. Labels are 12px monospace: about 0.6em a column.
const CHAR_W = 7.3;
const ROW_H = 30;
/** Where in its row an arrow's line runs. */
const LINE_DY = 20;
const TOP = 6;
const LOOP_W = 24;
const LOOP_H = 10;
/** Half the width of an activation bar. */
const BAR_HW = 5;
/** Nested bars on one lifeline shift right by this much, up to LVL_CAP levels. */
const LVL_DX = 5;
const LVL_CAP = 6;
const MIN_GAP = 120;
const MAX_LABEL_PX = 480;
const BOX_H = 30;
const BOX_MIN_W = 80;
const BOX_MAX_W = 170;
const PAD = 16;
const NOTE_MAX_PX = 360;

const KERNEL = 'kernel';

type ArrowKind = 'call' | 'req' | 'rep' | 'ret';

interface Arrow {
  t: ArrowKind;
  row: number;
  from: number;
  /** The activation level the arrow leaves from (-1: the bare lifeline). */
  fromLvl: number;
  to: number;
  toLvl: number;
  label: string;
  tip: string;
  fail: boolean;
  /** Footnote number of the message's attribute list, 0 for none. */
  fn: number;
}

interface Note {
  t: 'note';
  row: number;
  col: number;
  lvl: number;
  label: string;
  tip: string;
  fail: boolean;
}

interface Bar {
  col: number;
  lvl: number;
  top: number;
  bottom: number;
  req: boolean;
}

interface Footnote {
  n: number;
  kind: 'req' | 'rep';
  from: string;
  to: string;
  label: string;
  lines: readonly string[];
}

interface Frame {
  node: TraceNode;
  /** The column this node's children are sent from. */
  ctx: number;
  /** Column and level of the bar this node opened, or -1. */
  barCol: number;
  barLvl: number;
  bar: Bar | undefined;
  /** Where the caller's arrow came from, for the return arrow. */
  callerCol: number;
  callerLvl: number;
  next: number;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

// Markup characters; control characters, which HTML does not allow in text
// (shown as U+FFFD, like unpaired surrogates, which no encoder keeps); and
// everything else outside ASCII, as character references: the page is ASCII
// whatever the text, so no charset mix-up can garble it (and V8 keeps it a
// one-byte string, half the memory).
const NEEDS_ESCAPE = /[&<>"'\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\uFFFF]/;
const ESCAPE_RE = /[&<>"'\u0000-\u0008\u000B\u000C\u000E-\u001F]|[\uD800-\uDBFF][\uDC00-\uDFFF]|[\u007F-\uFFFF]/g;

function escapeOne(c: string): string {
  const named = ESCAPES[c];
  if (named !== undefined) return named;
  const cp = c.codePointAt(0)!;
  const bad = cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0xd800 && cp <= 0xdfff);
  return bad ? '&#xFFFD;' : `&#x${cp.toString(16).toUpperCase()};`;
}

/** Text made safe (and ASCII) for HTML and SVG text content and quoted attribute values. */
function esc(s: string): string {
  return NEEDS_ESCAPE.test(s) ? s.replace(ESCAPE_RE, escapeOne) : s;
}

/** Display columns of one code point (wide for CJK and emoji, roughly). */
function cpCols(cp: number): number {
  return cp >= 0x2e80 && !(cp >= 0xd800 && cp <= 0xdfff) && !(cp >= 0xff61 && cp <= 0xffdc) ? 2 : 1;
}

/** The width of `s` in display columns, counting no further than `cap`. */
function textCols(s: string, cap: number): number {
  let cols = 0;
  for (let i = 0; i < s.length && cols <= cap; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x2e80) {
      cols++;
      continue;
    }
    const cp = s.codePointAt(i) ?? c;
    if (cp > 0xffff) i++;
    cols += cpCols(cp);
  }
  return cols;
}

/** `s` cut to `max` display columns, with an ellipsis when cut; never splits a surrogate pair. */
function truncate(s: string, max: number): string {
  if (s.length <= max && textCols(s, max) <= max) return s;
  if (max <= 1) return '…';
  let cols = 0;
  let i = 0;
  while (i < s.length) {
    const cp = s.codePointAt(i) ?? 0;
    const w = cpCols(cp);
    if (cols + w > max - 1) break;
    cols += w;
    i += cp > 0xffff ? 2 : 1;
  }
  return s.slice(0, i) + '…';
}

function labelPx(s: string): number {
  return Math.min(Math.ceil(textCols(s, MAX_LABEL_PX) * CHAR_W), MAX_LABEL_PX);
}

/** Width of a footnote mark ` [n]` after a label (none for 0). */
function markPx(fn: number): number {
  return fn === 0 ? 0 : Math.ceil((String(fn).length + 3) * CHAR_W);
}

function nameArgs(node: TraceNode): string {
  return node.args !== undefined && node.args !== '' ? `${node.name} ${node.args}` : node.name;
}

function resultText(node: TraceNode): string {
  return node.failed ? `✗ ${node.result ?? 'failed'}` : (node.result ?? '');
}

/** Horizontal offset of activation level `lvl` from its lifeline. */
function lvlOff(lvl: number): number {
  return Math.min(lvl, LVL_CAP) * LVL_DX;
}

const SCRIPT = `(function () {
  function reveal(id) {
    var el = id ? document.getElementById(id) : null;
    if (el && el.tagName === 'DETAILS') el.open = true;
  }
  function fromHash() {
    try { reveal(decodeURIComponent(location.hash.slice(1))); } catch (e) {}
  }
  window.addEventListener('hashchange', fromHash);
  document.addEventListener('click', function (ev) {
    var a = ev.target instanceof Element ? ev.target.closest('a') : null;
    var href = a ? a.getAttribute('href') || '' : '';
    if (href.charAt(0) === '#') reveal(href.slice(1));
  });
  var all = document.querySelectorAll('details.msg');
  var buttons = document.querySelectorAll('button[data-open]');
  for (var i = 0; i !== buttons.length; i++) {
    buttons[i].hidden = false;
    buttons[i].addEventListener('click', function () {
      var open = this.getAttribute('data-open') === '1';
      for (var j = 0; j !== all.length; j++) all[j].open = open;
    });
  }
  fromHash();
})();`;

/** The page's Content-Security-Policy: its one script by hash. Computed when a page is made, so that loading this module costs no hashing (nor node:crypto). */
const csp = () =>
  `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${createHash('sha256').update(SCRIPT, 'utf8').digest('base64')}'; img-src data:; base-uri 'none'; form-action 'none'`;

const STYLE = `
:root { color-scheme: light; scroll-padding-top: 64px; }
body { margin: 16px; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; background: #fff; }
h1 { font-size: 18px; margin: 0 0 4px; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; word-break: break-all; }
h2 { font-size: 15px; margin: 20px 0 6px; }
.summary { margin: 0 0 10px; color: #57606a; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 18px; align-items: center; margin: 0 0 12px; padding: 6px 10px; border: 1px solid #d0d7de; border-radius: 6px; background: #f6f8fa; font-size: 13px; }
.legend span { display: inline-flex; align-items: center; gap: 6px; }
.diagram { position: relative; }
.participants { position: sticky; top: 0; z-index: 1; background: #fff; border-bottom: 1px solid #d0d7de; }
svg { display: block; overflow: visible; }
svg text { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; fill: #1f2328; white-space: pre; }
.p rect { fill: #eaeef2; stroke: #57606a; stroke-width: 1.2; }
.p text { font-weight: 600; text-anchor: middle; }
.life { stroke: #8c959f; stroke-width: 1; stroke-dasharray: 4 4; fill: none; }
.bar { fill: #fff; stroke: #57606a; stroke-width: 1; }
.bar.req { fill: #ddf4ff; stroke: #0969da; }
.m path, .lg path { fill: none; stroke-width: 1.4; }
.m text { paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
.m .hit { fill: transparent; stroke: none; }
.m:hover text { font-weight: 700; }
.call path { stroke: #1f2328; marker-end: url(#h-call); }
.ret path { stroke: #6e7781; stroke-dasharray: 5 3; marker-end: url(#h-ret); }
.ret text { fill: #57606a; }
.req path { stroke: #0969da; stroke-width: 1.8; marker-end: url(#h-msg); }
.rep path { stroke: #0969da; stroke-dasharray: 5 3; marker-end: url(#h-msg); }
.req text, .rep text { fill: #0550ae; }
.m.fail path, .lg.fail path { stroke: #cf222e; marker-end: url(#h-fail); }
.m.fail text { fill: #cf222e; font-weight: 600; }
.fn { fill: #0969da; font-weight: 700; }
a .fn { text-decoration: underline; }
.note rect { fill: #fff8c5; stroke: #d4a72c; stroke-width: 1; }
.note.fail rect { fill: #ffebe9; stroke: #cf222e; }
.messages ol { padding-left: 0; list-style: none; margin: 0; }
.messages li { margin: 2px 0; }
details.msg { border: 1px solid transparent; border-radius: 4px; padding: 1px 6px; }
details.msg:target { border-color: #0969da; background: #ddf4ff; }
details.msg summary { cursor: pointer; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 12px; word-break: break-all; }
details.msg pre { margin: 4px 0 6px 18px; padding: 6px 8px; background: #f6f8fa; border-radius: 4px; font-size: 12px; white-space: pre-wrap; word-break: break-all; }
.dir { color: #57606a; }
.tools { margin: 0 0 6px; }
.empty { color: #57606a; font-style: italic; }
`;

const DEFS =
  '<svg class="defs" width="0" height="0" style="position:absolute" aria-hidden="true"><defs>' +
  '<marker id="h-call" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0 1L10 5L0 9z" fill="#1f2328"/></marker>' +
  '<marker id="h-ret" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0 1L10 5L0 9" fill="none" stroke="#6e7781" stroke-width="1.5"/></marker>' +
  '<marker id="h-msg" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0 1L10 5L0 9z" fill="#0969da"/></marker>' +
  '<marker id="h-fail" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0 1L10 5L0 9z" fill="#cf222e"/></marker>' +
  '</defs></svg>';

function legendItem(cls: string, text: string): string {
  return `<span><svg width="46" height="12" aria-hidden="true"><g class="lg ${cls}"><path d="M2 6H42"/></g></svg>${text}</span>`;
}

const LEGEND =
  '<div class="legend" role="note">' +
  legendItem('call', 'call') +
  legendItem('ret', 'return (result)') +
  '<span><svg width="46" height="12" aria-hidden="true"><g class="lg ret fail"><path d="M2 6H42"/></g></svg>failed</span>' +
  legendItem('req', 'netlink request') +
  legendItem('rep', 'netlink reply') +
  '<span><svg width="14" height="22" aria-hidden="true"><rect class="bar" x="2" y="1" width="10" height="20"/></svg>active (spans callees)</span>' +
  '<span><svg width="14" height="22" aria-hidden="true"><rect class="bar req" x="2" y="1" width="10" height="20"/></svg>kernel handling a request</span>' +
  '<span><svg width="26" height="16" aria-hidden="true"><g class="note"><rect x="1" y="1" width="24" height="14" rx="2"/></g></svg>note</span>' +
  '<span><svg width="24" height="12" aria-hidden="true"><text class="fn" x="0" y="10">[n]</text></svg>decoded attributes: hover, or click for the list below</span>' +
  '</div>';

/**
 * The trace as one self-contained HTML page with a sequence diagram. Same
 * trace, same bytes.
 */
export function renderTraceHtml(trace: Trace): string {
  const title = trace.title === '' ? 'trace' : trace.title;

  // Columns: the layers that appear, TRACE_LAYERS first, others in order of appearance.
  const seen = new Set<string>();
  const extra: string[] = [];
  let nodeCount = 0;
  {
    const stack: TraceNode[] = [];
    for (let i = trace.roots.length - 1; i >= 0; i--) stack.push(trace.roots[i]!);
    while (stack.length > 0) {
      const node = stack.pop()!;
      nodeCount++;
      const layers = node.kind === 'request' || node.kind === 'reply' ? [node.layer, KERNEL] : [node.layer];
      for (const l of layers) {
        if (seen.has(l)) continue;
        seen.add(l);
        if (!(TRACE_LAYERS as readonly string[]).includes(l)) extra.push(l);
      }
      for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]!);
    }
  }
  const cols: string[] = [...TRACE_LAYERS.filter((l) => seen.has(l)), ...extra];
  const colOf = new Map<string, number>();
  cols.forEach((l, i) => colOf.set(l, i));
  const n = cols.length;
  const col = (layer: string): number => colOf.get(layer)!;

  // Walk in order: one row per node (plus one per return), arrows, bars, notes.
  const items: (Arrow | Note)[] = [];
  const bars: Bar[] = [];
  const notes: Footnote[] = [];
  const pairNeed = new Map<number, number>();
  const selfNeed: number[] = new Array<number>(n).fill(0);
  const depth: number[] = new Array<number>(n).fill(0);
  const counts = { call: 0, request: 0, reply: 0, note: 0, failed: 0 };
  let row = 0;
  let maxDepth = 0;

  /** Room wanted between columns `from` and `to` (the same one: right of it) for a label of `px`. */
  const need = (from: number, fromLvl: number, to: number, toLvl: number, px: number): void => {
    const offs = (lvl: number): number => (lvl < 0 ? 0 : lvlOff(lvl) + BAR_HW);
    if (from === to) {
      const w = Math.max(offs(fromLvl), offs(toLvl)) + LOOP_W + 8 + px + 12;
      if (w > selfNeed[from]!) selfNeed[from] = w;
      return;
    }
    const lo = Math.min(from, to);
    const hi = Math.max(from, to);
    const key = lo * n + hi;
    const w = px + 20 + (from < to ? offs(toLvl) : offs(fromLvl)) + BAR_HW;
    if (w > (pairNeed.get(key) ?? 0)) pairNeed.set(key, w);
  };
  const top = (c: number): number => depth[c]! - 1;
  const lineY = (r: number): number => TOP + r * ROW_H + LINE_DY;

  const frames: Frame[] = [];
  const enter = (node: TraceNode, parent: Frame | undefined): void => {
    const r = row++;
    const c = col(node.layer);
    const ctxParent = parent === undefined ? c : parent.ctx;
    const frame: Frame = { node, ctx: c, barCol: -1, barLvl: -1, bar: undefined, callerCol: ctxParent, callerLvl: top(ctxParent), next: 0 };
    if (node.failed) counts.failed++;
    const tipLines = (head: string): string => {
      let t = head;
      if (node.result !== undefined) t += `\n→ ${node.failed ? 'error: ' : ''}${node.result}`;
      if (node.lines !== undefined && node.lines.length > 0) t += `\n${node.lines.join('\n')}`;
      return t;
    };
    switch (node.kind) {
      case 'call': {
        counts.call++;
        const label = nameArgs(node);
        const lvl = depth[c]!;
        items.push({
          t: 'call',
          row: r,
          from: ctxParent,
          fromLvl: frame.callerLvl,
          to: c,
          toLvl: lvl,
          label,
          tip: tipLines(`${node.layer}: ${label}`),
          fail: node.failed === true && node.result === undefined,
          fn: 0,
        });
        need(ctxParent, frame.callerLvl, c, lvl, labelPx(label));
        const self = ctxParent === c;
        const bar: Bar = { col: c, lvl, top: lineY(r) + (self ? LOOP_H : 0) - 3, bottom: 0, req: false };
        bars.push(bar);
        depth[c] = lvl + 1;
        frame.bar = bar;
        frame.barCol = c;
        frame.barLvl = lvl;
        break;
      }
      case 'request': {
        counts.request++;
        const k = col(KERNEL);
        const label = nameArgs(node);
        const fn = node.lines !== undefined && node.lines.length > 0 ? notes.length + 1 : 0;
        const lvl = depth[k]!;
        items.push({
          t: 'req',
          row: r,
          from: c,
          fromLvl: top(c),
          to: k,
          toLvl: lvl,
          label,
          tip: tipLines(`${node.layer} → ${KERNEL}: ${label}`),
          fail: node.failed === true && node.result === undefined,
          fn,
        });
        if (fn !== 0) notes.push({ n: fn, kind: 'req', from: node.layer, to: KERNEL, label, lines: node.lines! });
        need(c, top(c), k, lvl, labelPx(label) + markPx(fn));
        const bar: Bar = { col: k, lvl, top: lineY(r) + (c === k ? LOOP_H : 0) - 3, bottom: 0, req: true };
        bars.push(bar);
        depth[k] = lvl + 1;
        frame.ctx = k;
        frame.callerCol = c;
        frame.callerLvl = top(c);
        frame.bar = bar;
        frame.barCol = k;
        frame.barLvl = lvl;
        break;
      }
      case 'reply': {
        counts.reply++;
        const k = col(KERNEL);
        const to = parent === undefined ? c : col(parent.node.layer);
        const label = node.result !== undefined ? `${nameArgs(node)} → ${resultText(node)}` : nameArgs(node);
        const fn = node.lines !== undefined && node.lines.length > 0 ? notes.length + 1 : 0;
        items.push({
          t: 'rep',
          row: r,
          from: k,
          fromLvl: top(k),
          to,
          toLvl: top(to),
          label,
          tip: tipLines(`${KERNEL} → ${cols[to]!}: ${nameArgs(node)}`),
          fail: node.failed === true,
          fn,
        });
        if (fn !== 0) notes.push({ n: fn, kind: 'rep', from: KERNEL, to: cols[to]!, label: nameArgs(node), lines: node.lines! });
        need(k, top(k), to, top(to), labelPx(label) + markPx(fn));
        break;
      }
      default: {
        counts.note++;
        const label = node.result !== undefined ? `${nameArgs(node)} → ${resultText(node)}` : nameArgs(node);
        items.push({ t: 'note', row: r, col: c, lvl: top(c), label, tip: tipLines(`${node.layer}: ${nameArgs(node)}`), fail: node.failed === true });
        need(c, top(c), c, top(c), Math.min(labelPx(label), NOTE_MAX_PX) + 24 - LOOP_W);
        break;
      }
    }
    frames.push(frame);
    if (frames.length > maxDepth) maxDepth = frames.length;
  };
  const leave = (frame: Frame): void => {
    const node = frame.node;
    const hasReturn = node.result !== undefined && (node.kind === 'call' || node.kind === 'request');
    if (hasReturn) {
      const r = row++;
      const label = resultText(node);
      items.push({
        t: 'ret',
        row: r,
        from: frame.barCol,
        fromLvl: frame.barLvl,
        to: frame.callerCol,
        toLvl: frame.callerLvl,
        label,
        tip: `${nameArgs(node)} → ${node.failed ? 'error: ' : ''}${node.result!}`,
        fail: node.failed === true,
        fn: 0,
      });
      need(frame.barCol, frame.barLvl, frame.callerCol, frame.callerLvl, labelPx(label));
    }
    if (frame.bar !== undefined) {
      frame.bar.bottom = Math.max(frame.bar.top + 14, lineY(row - 1) + 4);
      depth[frame.barCol] = frame.barLvl;
    }
  };

  for (const root of trace.roots) {
    enter(root, undefined);
    while (frames.length > 0) {
      const f = frames[frames.length - 1]!;
      const child = f.node.children[f.next];
      if (child !== undefined) {
        f.next++;
        enter(child, f);
      } else {
        frames.pop();
        leave(f);
      }
    }
  }

  // Column positions: gaps wide enough for the labels between them (capped).
  const boxW = cols.map((l) => Math.min(Math.max(Math.ceil(textCols(l, 64) * CHAR_W * 1.1) + 20, BOX_MIN_W), BOX_MAX_W));
  const gap: number[] = [];
  for (let i = 0; i + 1 < n; i++) {
    gap.push(Math.max(MIN_GAP, Math.ceil((boxW[i]! + boxW[i + 1]!) / 2) + 14, selfNeed[i]!, pairNeed.get(i * n + i + 1) ?? 0));
  }
  for (let span = 2; span < n; span++) {
    for (let lo = 0; lo + span < n; lo++) {
      const want = pairNeed.get(lo * n + lo + span);
      if (want === undefined) continue;
      let have = 0;
      for (let i = lo; i < lo + span; i++) have += gap[i]!;
      if (have >= want) continue;
      const add = Math.ceil((want - have) / span);
      for (let i = lo; i < lo + span; i++) gap[i] = gap[i]! + add;
    }
  }
  const xs: number[] = [];
  let x = PAD + Math.ceil((boxW[0] ?? BOX_MIN_W) / 2);
  for (let i = 0; i < n; i++) {
    xs.push(x);
    x += gap[i] ?? 0;
  }
  const lastX = xs[n - 1] ?? x;
  const width = Math.max(lastX + Math.max(Math.ceil((boxW[n - 1] ?? 0) / 2), selfNeed[n - 1] ?? 0) + PAD, 320);
  const height = TOP + row * ROW_H + 16;
  const xOf = (c: number): number => xs[c]!;
  /** x of the side (-1 left, +1 right) of the bar at level `lvl` on column `c` (its lifeline when lvl < 0). */
  const edge = (c: number, lvl: number, side: number): number => (lvl < 0 ? xOf(c) : xOf(c) + lvlOff(lvl) + side * BAR_HW);
  /** Right bound for text starting on column c. */
  const rightBound = (c: number): number => (c + 1 < n ? xOf(c + 1) - BAR_HW - 4 : width - 6);

  // Output.
  const out: string[] = [];
  out.push(
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
    `<meta http-equiv="Content-Security-Policy" content="${esc(csp())}">\n`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
    '<meta name="generator" content="@ovs/trace">\n',
    `<title>${esc(title)}</title>\n<style>${STYLE}</style>\n</head>\n<body>\n`,
    `<h1>${esc(title)}</h1>\n`,
    `<p class="summary">${nodeCount} nodes: ${counts.call} calls, ${counts.request} netlink requests, ${counts.reply} replies, ${counts.note} notes; ${counts.failed} failed; depth ${maxDepth}.`,
    notes.length > 0 ? ` <a href="#messages">${notes.length} decoded messages</a>.` : '',
    '</p>\n',
    DEFS,
    '\n',
    LEGEND,
    '\n',
  );

  if (n === 0) {
    out.push('<p class="empty">The trace is empty.</p>\n');
  } else {
    // Participants (sticky while scrolling).
    out.push(`<div class="diagram">\n<div class="participants"><svg width="${width}" height="${BOX_H + 8}" role="img" aria-label="participants">`);
    for (let i = 0; i < n; i++) {
      const w = boxW[i]!;
      const name = cols[i]!;
      const shown = truncate(name, Math.floor((w - 12) / CHAR_W));
      out.push(
        `<g class="p"><title>${esc(name)}</title><rect x="${xOf(i) - Math.floor(w / 2)}" y="4" width="${w}" height="${BOX_H}" rx="3"/>`,
        `<text x="${xOf(i)}" y="${4 + BOX_H / 2 + 4}">${esc(shown)}</text></g>`,
      );
    }
    out.push('</svg></div>\n');

    // Body: lifelines, activation bars, then the rows.
    out.push(`<svg class="seq" width="${width}" height="${height}" role="img" aria-label="sequence diagram">\n`);
    for (let i = 0; i < n; i++) out.push(`<path class="life" d="M${xOf(i)} 0V${height}"/>\n`);
    for (const b of bars) {
      out.push(
        `<rect class="bar${b.req ? ' req' : ''}" x="${xOf(b.col) + lvlOff(b.lvl) - BAR_HW}" y="${b.top}" width="${2 * BAR_HW}" height="${b.bottom - b.top}"/>\n`,
      );
    }
    for (const it of items) {
      const y = lineY(it.row);
      if (it.t === 'note') {
        const x0 = edge(it.col, it.lvl, 1) + 8;
        const maxPx = Math.min(NOTE_MAX_PX, Math.max(rightBound(it.col) - x0 - 12, 8 * CHAR_W));
        const shown = truncate(it.label, Math.floor(maxPx / CHAR_W));
        const w = Math.ceil(textCols(shown, 512) * CHAR_W) + 12;
        out.push(
          `<g class="note${it.fail ? ' fail' : ''}"><title>${esc(it.tip)}</title>`,
          `<rect x="${x0}" y="${y - 17}" width="${w}" height="22" rx="2"/>`,
          `<text x="${x0 + 6}" y="${y - 2}">${esc(shown)}</text></g>\n`,
        );
        continue;
      }
      const cls = `m ${it.t}${it.fail ? ' fail' : ''}`;
      const mark = it.fn !== 0 ? `[${it.fn}]` : '';
      let d: string;
      let text: string;
      let hit: string;
      if (it.from === it.to) {
        const x0 = edge(it.from, it.fromLvl, 1);
        const x1 = edge(it.to, it.toLvl, 1);
        const xr = Math.max(x0, x1) + LOOP_W;
        d = `M${x0} ${y}H${xr}V${y + LOOP_H}H${x1}`;
        const tx = xr + 8;
        const shown = truncate(it.label, Math.max(Math.floor((rightBound(it.from) - tx) / CHAR_W) - (mark === '' ? 0 : mark.length + 1), 6));
        text = `<text x="${tx}" y="${y + 4}">${esc(shown)}${mark !== '' ? ` <tspan class="fn">${mark}</tspan>` : ''}</text>`;
        hit = `<rect class="hit" x="${x0}" y="${y - 12}" width="${tx - x0 + Math.ceil((textCols(shown, 512) + mark.length + 1) * CHAR_W)}" height="${LOOP_H + 16}"/>`;
      } else {
        const right = it.from < it.to;
        const x0 = edge(it.from, it.fromLvl, right ? 1 : -1);
        const x1 = edge(it.to, it.toLvl, right ? -1 : 1);
        d = `M${x0} ${y}H${x1}`;
        const lo = Math.min(x0, x1);
        const span = Math.abs(x1 - x0);
        const shown = truncate(it.label, Math.max(Math.floor((span - 16) / CHAR_W) - (mark === '' ? 0 : mark.length + 1), 4));
        text = `<text x="${lo + Math.round(span / 2)}" y="${y - 5}" text-anchor="middle">${esc(shown)}${mark !== '' ? ` <tspan class="fn">${mark}</tspan>` : ''}</text>`;
        hit = `<rect class="hit" x="${lo}" y="${y - 18}" width="${span}" height="24"/>`;
      }
      const body = `<title>${esc(it.tip)}</title>${hit}<path d="${d}"/>${text}`;
      if (it.fn !== 0) out.push(`<g class="${cls}" id="a${it.fn}"><a href="#m${it.fn}">${body}</a></g>\n`);
      else out.push(`<g class="${cls}">${body}</g>\n`);
    }
    out.push('</svg>\n</div>\n');
  }

  // Decoded messages, numbered as in the diagram.
  if (notes.length > 0) {
    out.push(
      '<section class="messages" id="messages">\n<h2>Decoded messages</h2>\n',
      '<p class="tools"><button type="button" data-open="1" hidden>expand all</button> <button type="button" data-open="0" hidden>collapse all</button></p>\n<ol>\n',
    );
    for (const f of notes) {
      out.push(
        `<li><details class="msg" id="m${f.n}"><summary>[${f.n}] <span class="dir">${f.kind === 'req' ? `${esc(f.from)} &#x25B6; ${esc(f.to)}` : `${esc(f.to)} &#x25C0; ${esc(f.from)}`}</span> ${esc(f.label)} <a href="#a${f.n}" title="show in the diagram">&#x2191;</a></summary>`,
        `<pre>${esc(f.lines.join('\n'))}</pre></details></li>\n`,
      );
    }
    out.push('</ol>\n</section>\n');
  }

  out.push(`<script>${SCRIPT}</script>\n</body>\n</html>\n`);
  return out.join('');
}
