/**
 * lib/vlog.c as ovs-vswitchd uses it: module loggers with levels per
 * destination, the log file format
 * `2026-01-01T00:00:00.000Z|00045|bridge|INFO|text`, and `vlog/list`.
 */
import { appendFileSync } from 'node:fs';

export type Level = 'EMER' | 'ERR' | 'WARN' | 'INFO' | 'DBG';
const LEVELS: Level[] = ['EMER', 'ERR', 'WARN', 'INFO', 'DBG'];
const rank = (l: Level | 'OFF'): number => (l === 'OFF' ? -1 : LEVELS.indexOf(l));

export interface VlogOptions {
  /** The log file (appended to), or none. */
  file?: string;
  /** Also to stderr, in the console format (default: only WARN and worse, as OVS's console default). */
  console?: Level | 'OFF';
  now?: () => Date;
}

export class Vlog {
  private seq = 0;
  /** Every module that has logged (or was named), for vlog/list. */
  private readonly modules = new Set<string>([
    'bridge',
    'dpif',
    'dpif_netlink',
    'netdev',
    'netdev_linux',
    'netdev_vport',
    'ofproto',
    'ofproto_dpif',
    'tunnel',
    'unixctl',
    'vswitchd',
  ]);
  /** Lines kept in memory too (the last ones), for tests and trace output. */
  readonly recent: string[] = [];
  fileLevel: Level | 'OFF' = 'INFO';
  consoleLevel: Level | 'OFF';

  constructor(private readonly opts: VlogOptions = {}) {
    this.consoleLevel = opts.console ?? 'OFF';
  }

  log(level: Level, module: string, text: string): void {
    this.modules.add(module);
    if (level === 'DBG' && rank(this.fileLevel) < rank('DBG') && rank(this.consoleLevel) < rank('DBG')) return;
    const seq = String(++this.seq).padStart(5, '0');
    const now = this.opts.now?.() ?? new Date();
    if (rank(level) <= rank(this.fileLevel)) {
      const line = `${now.toISOString()}|${seq}|${module}|${level}|${text}`;
      this.recent.push(line);
      if (this.recent.length > 1000) this.recent.splice(0, this.recent.length - 1000);
      if (this.opts.file) appendFileSync(this.opts.file, `${line}\n`);
    }
    if (rank(level) <= rank(this.consoleLevel)) process.stderr.write(`${now.toISOString().replace(/\.\d+Z$/, 'Z')}|${seq}|${module}|${level}|${text}\n`);
  }

  /** The function shape the lower layers take. */
  readonly fn = (level: 'DBG' | 'INFO' | 'WARN' | 'ERR', module: string, text: string): void => this.log(level, module, text);

  /** vlog/list. */
  list(): string {
    const rows = [...this.modules].sort().map((m) => `${m.padEnd(19)}${this.consoleLevel.padEnd(11)}${'ERR'.padEnd(10)}${this.fileLevel}`);
    return ['                 console    syslog    file', '                 -------    ------    ------', ...rows].join('\n');
  }
}
