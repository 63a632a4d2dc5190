/**
 * Table output of `list` and `find` (lib/table.c): the default "list"
 * format (`name                : value`), `--format=table|csv|html|json`,
 * `--data=string|bare|json`, `--no-headings`, `--bare`. Successive tables in
 * one invocation are separated by a blank line, except in JSON and HTML.
 */
import type { ColumnType, Datum } from '@ovs/ovsdb';
import type { Style } from './args.js';
import { datumToBare, datumToJsonText, datumToString, jsonString } from './datum.js';

export interface Cell {
  datum: Datum;
  type: ColumnType;
}

export class Table {
  readonly rows: Cell[][] = [];
  constructor(readonly headings: string[]) {}
}

function cellText(c: Cell, style: Style): string {
  if (style.cell === 'json') return datumToJsonText(c.datum, c.type);
  return style.cell === 'bare' ? datumToBare(c.datum, c.type) : datumToString(c.datum, c.type);
}

/** Keeps lib/table.c's "first table" state across the tables of one invocation. */
export class TablePrinter {
  private first = true;

  constructor(private readonly style: Style) {}

  private separator(): string {
    if (this.first) {
      this.first = false;
      return '';
    }
    return '\n';
  }

  format(t: Table): string {
    const s = this.style;
    switch (s.format) {
      case 'list':
        return this.separator() + this.list(t);
      case 'table':
        return this.separator() + this.table(t);
      case 'csv':
        return this.separator() + this.csv(t);
      case 'html':
        return this.html(t);
      case 'json':
        return this.json(t);
    }
  }

  private list(t: Table): string {
    const out: string[] = [];
    t.rows.forEach((row, y) => {
      if (y > 0) out.push('\n');
      row.forEach((c, x) => {
        const head = this.style.headings ? `${t.headings[x]!.padEnd(20)}: ` : '';
        out.push(`${head}${cellText(c, this.style)}\n`);
      });
    });
    return out.join('');
  }

  private table(t: Table): string {
    const texts = t.rows.map((r) => r.map((c) => cellText(c, this.style)));
    const widths = t.headings.map((h, x) => {
      let w = Math.max(0, ...texts.map((r) => r[x]!.length));
      if (this.style.maxColumnWidth > 0 && w > this.style.maxColumnWidth) w = this.style.maxColumnWidth;
      return this.style.headings ? Math.max(w, h.length) : w;
    });
    const line = (cells: string[]) =>
      cells
        .map((c, x) => c.slice(0, widths[x]).padEnd(widths[x]!))
        .join(' ')
        .trimEnd() + '\n';
    let out = '';
    if (this.style.headings) {
      out += line(t.headings);
      out += line(widths.map((w) => '-'.repeat(w)));
    }
    for (const r of texts) out += line(r);
    return out;
  }

  private csv(t: Table): string {
    const cell = (s: string) => (/[\n",]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    let out = '';
    if (this.style.headings) out += t.headings.map(cell).join(',') + '\n';
    for (const r of t.rows) out += r.map((c) => cell(cellText(c, this.style))).join(',') + '\n';
    return out;
  }

  private html(t: Table): string {
    const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
    let out = '<table border=1>\n';
    if (this.style.headings) out += `  <tr>\n${t.headings.map((h) => `    <th>${esc(h)}</th>\n`).join('')}  </tr>\n`;
    for (const r of t.rows) {
      out += '  <tr>\n';
      r.forEach((c, x) => {
        const text = cellText(c, this.style);
        out += t.headings[x] === '_uuid' ? `    <td><a name="${esc(text)}">${esc(text.slice(0, 8))}</a></td>\n` : `    <td>${esc(text)}</td>\n`;
      });
      out += '  </tr>\n';
    }
    return out + '</table>\n';
  }

  private json(t: Table): string {
    const data = t.rows.map((r) => `[${r.map((c) => datumToJsonText(c.datum, c.type)).join(',')}]`);
    const headings = t.headings.map(jsonString);
    if (!this.style.pretty) return `{"data":[${data.join(',')}],"headings":[${headings.join(',')}]}\n`;
    return JSON.stringify({ data: JSON.parse(`[${data.join(',')}]`), headings: t.headings }, null, 2) + '\n';
  }
}
