/**
 * What a command runs against (struct vsctl_context): the transaction, the
 * Open_vSwitch row, the `@name` symbol table, the command's own arguments and
 * options, its output, and the bridge/port cache, rebuilt lazily after any
 * command that may have invalidated it.
 */
import type { Idl } from '@ovs/ovsdb';
import type { CommandSyntax, ParsedCommand } from '../args.js';
import { SymbolTable } from '../datum.js';
import type { Table } from '../format.js';
import { VsctlCache } from './cache.js';
import type { Row, Txn } from './txn.js';

/** ctl_fatal(): printed as "ovs-vsctl: MESSAGE", exit status 1, nothing committed. */
/** The columns VsctlCache is built from, by table. */
const CACHE_COLUMNS: Record<string, readonly string[]> = {
  Open_vSwitch: ['bridges'],
  Bridge: ['name', 'ports'],
  Port: ['name', 'interfaces', 'fake_bridge', 'tag'],
  Interface: ['name'],
};

export class FatalError extends Error {}

/** vsctl_exit(N) without a message (br-exists: 2). */
export class ExitRequest extends Error {
  constructor(readonly status: number) {
    super(`exit ${status}`);
  }
}

export const fatal = (msg: string): never => {
  throw new FatalError(msg);
};

export interface Command extends ParsedCommand {
  syntax: CommandDef;
  output: string;
  table?: Table;
}

/** Columns each table must replicate, gathered from the commands before connecting. */
export class Prerequisites {
  readonly tables = new Map<string, Set<string>>();
  /** Console warnings the real tool logs while checking commands (VLOG_WARN). */
  readonly warnings: { module: string; message: string }[] = [];

  add(table: string, ...columns: string[]): void {
    let s = this.tables.get(table);
    if (!s) this.tables.set(table, (s = new Set()));
    for (const c of columns) s.add(c);
  }
}

export interface CommandDef extends CommandSyntax {
  /** A read-write invocation logs "Called as ..." at INFO, which takes a log sequence number. */
  mode: 'RO' | 'RW';
  pre?: (cmd: ParsedCommand, pre: Prerequisites) => void;
  run: (ctx: Ctx) => void;
  /** After a successful commit (create: print the row's real UUID). */
  post?: (ctx: Ctx, uuids: Map<string, string>) => void;
}

export class Ctx {
  cmd!: Command;
  last = false;
  /** wait-until: not satisfied yet; rerun everything after the next database change. */
  tryAgain = false;
  /** Interfaces this invocation creates, checked for errors once ovs-vswitchd has reconfigured. */
  readonly newIfaces: Row[] = [];
  readonly symtab = new SymbolTable();
  /** VLOG_WARN() on the console while a command runs (set by the caller). */
  warn: (module: string, message: string) => void = () => {};
  private cacheValue?: VsctlCache;
  private verifiedPorts = false;

  constructor(
    readonly idl: Idl,
    readonly txn: Txn,
    readonly ovs: Row,
  ) {}

  startCommand(cmd: Command, last: boolean): void {
    this.cmd = cmd;
    this.last = last;
  }

  get argv(): string[] {
    return this.cmd.argv;
  }

  has(option: string): boolean {
    return this.cmd.options.has(option);
  }

  option(option: string): string | undefined {
    return this.cmd.options.get(option) ?? undefined;
  }

  out(text: string): void {
    this.cmd.output += text;
  }

  get cache(): VsctlCache {
    this.cacheValue ??= new VsctlCache(this.txn, this.ovs);
    return this.cacheValue;
  }

  invalidateCache(): void {
    this.cacheValue = undefined;
  }

  /**
   * After a database command: the cache goes only if the command wrote a
   * column the cache is built from (the bridge/port/interface structure and
   * names). Rebuilding it after every `-- set Interface X type=...` would make
   * a transaction of N add-ports cost N².
   */
  invalidateCacheFor(table: string, columns: Iterable<string>): void {
    const used = CACHE_COLUMNS[table];
    if (used === undefined) return;
    for (const c of columns) {
      if (used.includes(c)) {
        this.invalidateCache();
        return;
      }
    }
  }

  /**
   * verify_ports(): the bridge/port/interface structure the command's decision
   * rests on. The real tool redoes this for every command; verifying the same
   * replica columns again adds nothing, so once per transaction (otherwise
   * 5,000 chained add-ports cost 5,000 walks over every port).
   */
  verifyPorts(): void {
    if (this.verifiedPorts) return;
    this.txn.verify(this.ovs, 'bridges');
    for (const br of this.txn.rows('Bridge')) this.txn.verify(br, 'ports');
    for (const p of this.txn.rows('Port')) this.txn.verify(p, 'interfaces');
    this.verifiedPorts = true;
  }
}
