/**
 * The part of lib/vlog.c a short-lived ovs-vsctl uses: console levels by
 * module (ovs-vsctl starts every module at WARN on the console), the
 * `-v`/`--verbose` specs that change them (vlog_set_levels_from_string():
 * `MODULE[:DESTINATION[:LEVEL]]` words in any order, `PATTERN:DESTINATION:
 * PATTERN`, `FACILITY:NAME`), and the console line (format_log_message()).
 * Only the console is written: syslog and the log file are accepted and
 * not written.
 */

export const LEVELS = ['off', 'emer', 'err', 'warn', 'info', 'dbg'] as const;
export type VlogLevel = (typeof LEVELS)[number];
const DESTINATIONS = ['console', 'syslog', 'file'] as const;

const DEFAULT_CONSOLE_PATTERN = '%D{%Y-%m-%dT%H:%M:%SZ}|%05N|%c%T|%p|%m';

export class VlogError extends Error {}

type Dest = 'console' | 'syslog';

export class ConsoleLog {
  /**
   * Levels by destination and module (lower case; `*` for the others). The
   * console starts at WARN (ovs-vsctl's vlog_set_levels(NULL, VLF_CONSOLE,
   * VLL_WARN)), syslog at INFO; `reconnect` is at WARN everywhere. The log
   * file, never opened here, does not count.
   */
  private readonly levels: Record<Dest, Map<string, VlogLevel>> = {
    console: new Map([
      ['*', 'warn'],
      ['reconnect', 'warn'],
    ]),
    syslog: new Map([
      ['*', 'info'],
      ['reconnect', 'warn'],
    ]),
  };
  private pattern = DEFAULT_CONSOLE_PATTERN;
  private seq = 0;

  constructor(
    private readonly program = 'ovs-vsctl',
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** vlog_set_verbosity(): a bare -v (null) makes every module DBG everywhere. */
  setVerbosity(spec: string | null): void {
    if (spec === null || spec === '') {
      this.set(undefined, undefined, 'dbg');
      return;
    }
    this.setLevelsFromString(spec);
  }

  /** vlog_set_levels(): MODULE (undefined: every one) on DEST (undefined: every one). */
  private set(module: string | undefined, dest: Dest | 'file' | undefined, level: VlogLevel): void {
    for (const d of ['console', 'syslog'] as const) {
      if (dest !== undefined && dest !== d) continue;
      if (module === undefined) {
        this.levels[d].clear();
        this.levels[d].set('*', level);
      } else this.levels[d].set(module, level);
    }
  }

  /** vlog_set_levels_from_string(). */
  private setLevelsFromString(spec: string): void {
    const words = spec.split(/[ \t:]+/).filter(Boolean);
    const first = words[0]?.toLowerCase();
    if (first === 'pattern') {
      // PATTERN:DESTINATION:PATTERN (the pattern keeps its colons).
      const m = /^[ \t]*PATTERN[ \t]*:[ \t]*([^:]*?)[ \t]*:(.*)$/i.exec(spec);
      if (!m) throw new VlogError('missing destination');
      const dest = m[1]!.toLowerCase();
      if (dest !== 'any' && !(DESTINATIONS as readonly string[]).includes(dest)) throw new VlogError(`unknown destination "${m[1]}"`);
      if (dest === 'any' || dest === 'console') this.pattern = m[2]!;
      return;
    }
    if (first === 'facility') {
      if (words.length < 2) throw new VlogError('missing facility');
      return;
    }
    let dest: string | undefined;
    let level: VlogLevel | undefined;
    let module: string | undefined;
    for (const w of words) {
      const lw = w.toLowerCase();
      if (lw === 'any' || (DESTINATIONS as readonly string[]).includes(lw)) {
        if (dest !== undefined) throw new VlogError('cannot specify multiple destinations');
        dest = lw;
      } else if ((LEVELS as readonly string[]).includes(lw)) {
        if (level !== undefined) throw new VlogError('cannot specify multiple levels');
        level = lw as VlogLevel;
      } else {
        // Any other word names a module (ovs-vsctl's modules are not enumerated here).
        if (module !== undefined) throw new VlogError('cannot specify multiple modules');
        module = lw;
      }
    }
    this.set(module, dest === 'any' ? undefined : (dest as Dest | 'file' | undefined), level ?? 'dbg');
  }

  private enabled(dest: Dest, module: string, level: VlogLevel): boolean {
    const max = this.levels[dest].get(module.toLowerCase()) ?? this.levels[dest].get('*')!;
    return LEVELS.indexOf(level) <= LEVELS.indexOf(max);
  }

  /**
   * vlog(): the console line, or '' when the console does not show it. A
   * message some destination takes (here, syslog) uses a sequence number
   * either way.
   */
  format(module: string, level: Exclude<VlogLevel, 'off'>, message: string): string {
    const console = this.enabled('console', module, level);
    if (!console && !this.enabled('syslog', module, level)) return '';
    const seq = ++this.seq;
    if (!console) return '';
    return `${formatLogMessage(this.pattern, { module, level, message, seq, program: this.program, now: this.now() })}\n`;
  }
}

interface LogFields {
  module: string;
  level: string;
  message: string;
  seq: number;
  program: string;
  now: Date;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** strftime() for the conversions OVS's default patterns use, plus %### (milliseconds). */
function strftime(fmt: string, d: Date, utc: boolean): string {
  const g = utc
    ? { Y: d.getUTCFullYear(), m: d.getUTCMonth() + 1, d: d.getUTCDate(), H: d.getUTCHours(), M: d.getUTCMinutes(), S: d.getUTCSeconds() }
    : { Y: d.getFullYear(), m: d.getMonth() + 1, d: d.getDate(), H: d.getHours(), M: d.getMinutes(), S: d.getSeconds() };
  return fmt
    .replace(/%([YmdHMSFT%])/g, (_, c: string) => {
      switch (c) {
        case 'Y':
          return String(g.Y);
        case 'F':
          return `${g.Y}-${pad2(g.m)}-${pad2(g.d)}`;
        case 'T':
          return `${pad2(g.H)}:${pad2(g.M)}:${pad2(g.S)}`;
        case '%':
          return '%';
        default:
          return pad2(g[c as 'm' | 'd' | 'H' | 'M' | 'S']);
      }
    })
    .replace(/#+/g, (h) => String(d.getUTCMilliseconds()).padStart(3, '0').slice(0, h.length));
}

/** format_log_message(): %[-][0][WIDTH]CONVERSION, with %d/%D taking an optional {strftime format}. */
export function formatLogMessage(pattern: string, f: LogFields): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch !== '%') {
      out += ch;
      continue;
    }
    const m = /^(-?)(0?)(\d*)(.)/.exec(pattern.slice(i + 1));
    if (!m) break;
    i += m[0].length;
    const [, left, zero, width, conv] = m;
    let s: string;
    switch (conv) {
      case 'A':
        s = f.program;
        break;
      case 'c':
        s = f.module;
        break;
      case 'd':
      case 'D': {
        let fmt = '%Y-%m-%d %H:%M:%S';
        if (pattern[i + 1] === '{') {
          const end = pattern.indexOf('}', i + 2);
          if (end >= 0) {
            fmt = pattern.slice(i + 2, end);
            i = end;
          }
        }
        s = strftime(fmt, f.now, conv === 'D');
        break;
      }
      case 'm':
        s = f.message;
        break;
      case 'N':
        s = String(f.seq);
        break;
      case 'n':
        s = '\n';
        break;
      case 'p':
        s = f.level.toUpperCase();
        break;
      case 'P':
        s = String(process.pid);
        break;
      case 't':
        s = 'main';
        break;
      case 'T':
        s = '';
        break;
      case '%':
        s = '%';
        break;
      default:
        s = conv!;
    }
    const w = Number(width || 0);
    if (s.length < w) s = left ? s.padEnd(w) : s.padStart(w, zero ? '0' : ' ');
    out += s;
  }
  return out;
}
