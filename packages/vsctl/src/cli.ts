/**
 * ovs-vsctl's main loop (utilities/ovs-vsctl.c main() and do_vsctl()):
 * parse, gather what each command needs replicated, connect the IDL, run
 * every `--`-chained command into one transaction, commit (rerunning from a
 * fresh replica on try-again), print, then — unless --no-wait — wait for
 * ovs-vswitchd to catch up (Open_vSwitch.cur_cfg ≥ the next_cfg we set) and
 * report the interfaces we added that it could not set up.
 *
 * run() returns what the process would print and its exit status, so tests
 * run it in-process; runCli() is the executable.
 */
import { Idl, type Json, rundir } from '@ovs/ovsdb';
import { type CommandSyntax, type GlobalOptions, UsageError, parseArgs } from './args.js';
import { bridgeCommands } from './commands-bridge.js';
import { ctlCommands } from './commands-ctl.js';
import { dbCommands } from './commands-db.js';
import { zoneCommands } from './commands-zone.js';
import { type Command, type CommandDef, Ctx, ExitRequest, FatalError, Prerequisites } from './context/context.js';
import { type CommitResult, type Row, Txn } from './context/txn.js';
import { TablePrinter } from './format.js';
import { ConsoleLog, VlogError } from './vlog.js';
import { type OpenedRemote, openRemote } from './stream.js';
import { type SslSettings, errorText } from '@ovs/util';

export const VERSION = '3.1.0';
export const DB_SCHEMA_VERSION = '8.3.1';

export const COMMANDS: Map<string, CommandDef> = new Map([...bridgeCommands, ...ctlCommands, ...zoneCommands, ...dbCommands].map((c) => [c.name, c]));

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
  /** Set when the real tool would die of a signal (SIGALRM on --timeout expiry: shell status 142). */
  signal?: 'SIGALRM';
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
}

/** The project's run directory ($OVS_RUNDIR, else /tmp/ovs-ts-$UID), shared with the daemons. */
export { rundir };

export function defaultDb(env: NodeJS.ProcessEnv = process.env): string {
  return `unix:${rundir(env)}/db.sock`;
}

class Output {
  stdout = '';
  stderr = '';
  readonly log = new ConsoleLog();

  error(msg: string): void {
    this.stderr += `ovs-vsctl: ${msg}\n`;
  }

  /** A VLOG_WARN, on the console as the -v options have it (by default "TIME|SEQ|MODULE|WARN|message"). */
  warn(module: string, msg: string): void {
    this.stderr += this.log.format(module, 'warn', msg);
  }

  /** A VLOG_ERR on the console. */
  err(module: string, msg: string): void {
    this.stderr += this.log.format(module, 'err', msg);
  }

  /** Any VLOG: on the console if its level there allows (a message syslog takes still uses a sequence number). */
  vlog(module: string, level: 'info' | 'dbg', msg: string): void {
    this.stderr += this.log.format(module, level, msg);
  }
}

/** The command line without its --trace option (and the FILE of --trace=html), as the trace's title. */
function withoutTrace(argv: string[]): string[] {
  const i = argv.findIndex((a) => a === '--trace' || a.startsWith('--trace='));
  if (i < 0) return argv;
  return [...argv.slice(0, i), ...argv.slice(i + (argv[i] === '--trace=html' ? 2 : 1))];
}

function escapeArgs(args: string[]): string {
  return args.map((a) => (/[ \t\r\n\v\\'"]/.test(a) ? `"${a.replace(/[\\"]/g, (c) => `\\${c}`)}"` : a)).join(' ');
}

function usage(env: NodeJS.ProcessEnv): string {
  return `ovs-vsctl: ovs-vswitchd management utility
usage: ovs-vsctl [OPTIONS] COMMAND [ARG...]

Open vSwitch commands:
  init                        initialize the database if it is empty
  show                        print an overview of the database
  emer-reset                  reset the configuration to a clean state

Bridge commands:
  add-br BRIDGE               create bridge BRIDGE
  add-br BRIDGE PARENT VLAN   create fake bridge BRIDGE on VLAN of bridge PARENT
  del-br BRIDGE               delete BRIDGE (its fake bridges, ports and interfaces)
  list-br                     print every bridge's name (--real, --fake: only those)
  br-exists BRIDGE            exit 2 if BRIDGE does not exist
  br-to-vlan BRIDGE           print BRIDGE's VLAN (0 for a real bridge)
  br-to-parent BRIDGE         print BRIDGE's parent (itself for a real bridge)
  br-set-external-id BRIDGE KEY [VALUE]  set (or, without VALUE, unset) KEY on BRIDGE
  br-get-external-id BRIDGE [KEY]  print KEY's value, or every KEY=VALUE, of BRIDGE

Port commands (a bond is one port):
  list-ports BRIDGE           print the names of BRIDGE's ports
  add-port BRIDGE PORT [COLUMN[:KEY]=VALUE]...  add network device PORT to BRIDGE
  add-bond BRIDGE PORT IFACE... [COLUMN[:KEY]=VALUE]...  add bond PORT of IFACEs
  add-bond-iface BOND IFACE   add interface IFACE to bond BOND
  del-bond-iface [BOND] IFACE delete interface IFACE from its bond
  del-port [BRIDGE] PORT      delete PORT (a bond: all its interfaces) from BRIDGE
  port-to-br PORT             print the name of the bridge holding PORT

Interface commands (a bond has several interfaces):
  list-ifaces BRIDGE          print the names of BRIDGE's interfaces
  iface-to-br IFACE           print the name of the bridge holding IFACE

Controller commands:
  get-controller BRIDGE       print BRIDGE's controllers
  del-controller BRIDGE       delete BRIDGE's controllers
  [--inactivity-probe=MSECS]
  set-controller BRIDGE TARGET...  set BRIDGE's controllers
  get-fail-mode BRIDGE        print BRIDGE's fail mode
  del-fail-mode BRIDGE        delete BRIDGE's fail mode
  set-fail-mode BRIDGE MODE   set BRIDGE's fail mode (standalone or secure)

Manager commands:
  get-manager                 print the managers
  del-manager                 delete the managers
  [--inactivity-probe=MSECS]
  set-manager TARGET...       set the managers

SSL commands:
  get-ssl                     print the SSL configuration
  del-ssl                     delete the SSL configuration
  [--bootstrap] set-ssl PRIV-KEY CERT CA-CERT  set the SSL configuration

Auto Attach commands:
  add-aa-mapping BRIDGE I-SID VLAN   add an Auto Attach mapping to BRIDGE
  del-aa-mapping BRIDGE I-SID VLAN   delete an Auto Attach mapping from BRIDGE
  get-aa-mapping BRIDGE              print BRIDGE's Auto Attach mappings

Conntrack zone and datapath commands:
  add-zone-tp DP zone=ZONE POLICY...  set ZONE's timeout policy (KEY=SECS...) on DP
  del-zone-tp DP zone=ZONE    delete ZONE's timeout policy on DP
  list-zone-tp DP             print DP's zones and their timeout policies
  list-dp-cap DP              print DP's capabilities

Database commands:
  list TBL [REC]              list RECord (or all records) in TBL
  find TBL CONDITION...       list records satisfying CONDITION in TBL
  get TBL REC COL[:KEY]       print values of COLumns in RECord in TBL
  set TBL REC COL[:KEY]=VALUE set COLumn values in RECord in TBL
  add TBL REC COL [KEY=]VALUE add (KEY=)VALUE to COLumn in RECord in TBL
  remove TBL REC COL [KEY=]VALUE  remove (KEY=)VALUE from COLumn
  clear TBL REC COL           clear values from COLumn in RECord in TBL
  create TBL COL[:KEY]=VALUE  create a record (--id=@NAME to refer to it, --id=UUID to choose its UUID)
  destroy TBL REC             delete RECord from TBL (--all: every record)
  wait-until TBL REC [COL[:KEY]=VALUE]  wait until the condition is true
  comment [ARG]...            do nothing (recorded in the transaction)
Chain commands with "--"; each may be preceded by its options (--may-exist, --if-exists, ...).

Options:
  --db=DATABASE               connect to DATABASE
                              (default: ${defaultDb(env)})
                              unix:PATH, tcp:IP:PORT, ssl:IP:PORT, or passive
                              punix:PATH, ptcp:PORT[:IP], pssl:PORT[:IP]
  --no-wait                   do not wait for ovs-vswitchd to reconfigure
  --retry                     keep trying to connect to server forever
  -t, --timeout=SECS          wait at most SECS seconds for ovs-vswitchd
  --dry-run                   do not commit changes to database
  --oneline                   print exactly one line of output per command
  -f, --format=FORMAT         "list" (default), "table", "csv", "html" or "json"
  -d, --data=FORMAT           "string", "bare" or "json"
  --no-headings, --pretty, --bare
  --trace[=tree|json|html FILE]
                              show the call path ovs-vswitchd takes for the
                              change, down to the kernel's functions

SSL options (for ssl: and pssl: remotes):
  -p, --private-key=FILE      file with private key
  -c, --certificate=FILE      file with certificate for private key
  -C, --ca-cert=FILE          file with peer CA's certificate
  --bootstrap-ca-cert=FILE    file with peer CA's certificate; when it does not
                              exist, the peer's own CA certificate is saved there

Logging options:
  -vSPEC, --verbose=SPEC      set logging levels (MODULE[:DESTINATION[:LEVEL]],
                              PATTERN:console:PATTERN); only the console is used
  -v, --verbose               set maximum verbosity level

Other options:
  -h, --help                  display this help message
  -V, --version               display version information
`;
}

/**
 * ovsdb_idl_set_remote(idl, db, retry): with --retry, the connection is made
 * and re-made forever (with reconnect.c's backoff); without it, once. A
 * passive remote (punix:, ptcp:, pssl:) waits for the server to connect.
 */
async function connect(db: string, pre: Prerequisites, retry: boolean, ssl: SslSettings, live: Live, out: Output): Promise<{ idl: Idl; stream: OpenedRemote }> {
  const tables: Record<string, string[]> = {};
  for (const [t, cols] of pre.tables) tables[t] = [...cols];
  for (;;) {
    let stream: OpenedRemote | undefined;
    try {
      stream = await openRemote(db, ssl, (module, msg) => out.err(module, msg));
      live.stream = stream;
      return { idl: await Idl.open({ remote: stream.remote, tables, reconnect: retry ? { minMs: 1000, maxMs: 8000 } : false }), stream };
    } catch (e) {
      stream?.close();
      const code = (e as NodeJS.ErrnoException).code;
      if (retry && code) {
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      throw new FatalError(`${db}: database connection failed (${errorText(e)})`);
    }
  }
}

/** main()'s check of ovsdb_idl_is_alive(): the reason the connection ended, as ovs_retval_to_string() words it. */
function connectionFailed(db: string, idl: Idl): FatalError {
  const e = idl.client.lastError as NodeJS.ErrnoException | undefined;
  const why = !e ? 'End of file' : errorText(e);
  return new FatalError(`${db}: database connection failed (${why})`);
}

/**
 * The main loop's wait for the replica to change before trying again.
 * Without --retry a connection lost meanwhile ends the run, as in ovs-vsctl;
 * with it the IDL reconnects, and its resynchronisation is the change.
 */
function nextChange(idl: Idl, seqno: number, db: string, retry: boolean): Promise<void> {
  if (idl.seqno !== seqno) return Promise.resolve();
  if (!retry && !idl.client.connected) return Promise.reject(connectionFailed(db, idl));
  return new Promise((resolve, reject) => {
    const lost = () => {
      if (retry) return;
      stop();
      reject(connectionFailed(db, idl));
    };
    const off = idl.onChange(() => {
      stop();
      resolve();
    });
    const stop = () => {
      off();
      idl.client.off('disconnect', lost);
    };
    idl.client.on('disconnect', lost);
  });
}

interface Attempt {
  result: CommitResult;
  ctx: Ctx;
  /** The operations committed (for --trace). */
  operations: Json[];
}

/** do_vsctl(): one try at running every command and committing. Null: run again after the next database change. */
async function attempt(idl: Idl, commands: Command[], g: GlobalOptions, args: string, out: Output): Promise<Attempt | null> {
  const txn = new Txn(idl);
  txn.comment(`ovs-vsctl: ${args}`);
  const ovs: Row = idl.first('Open_vSwitch') ?? txn.insert('Open_vSwitch');
  if (!g.noWait) txn.incrementOnCommit(ovs, 'next_cfg');
  const ctx = new Ctx(idl, txn, ovs);
  ctx.warn = (module, message) => out.warn(module, message);
  for (const [i, c] of commands.entries()) {
    c.output = '';
    c.table = undefined;
    ctx.startCommand(c, i === commands.length - 1);
    c.syntax.run(ctx);
    if (ctx.tryAgain) return null;
  }
  for (const [name, sym] of ctx.symtab.symbols) {
    if (!sym.created) throw new FatalError(`row id "${name}" is referenced but never created (e.g. with "-- --id=${name} create ...")`);
    if (!sym.strongRef) {
      out.warn(
        'vsctl',
        sym.weakRef
          ? `row id "${name}" was created but only a weak reference to it was inserted, so it will not actually appear in the database`
          : `row id "${name}" was created but no reference to it was inserted, so it will not actually appear in the database`,
      );
    }
  }
  const operations = txn.operations() ?? [];
  const result: CommitResult = g.dryRun ? { status: 'unchanged' } : await txn.commit();
  if (result.status === 'try-again') return null;
  if (result.status === 'error') {
    // The IDL logs an operation's error (ovsdb_idl_txn_process_reply(), all but "not allowed"), then ovs-vsctl dies of it.
    if (result.logged) out.warn('ovsdb_idl', `transaction error: ${result.error}`);
    throw new FatalError(`transaction error: ${result.error}`);
  }
  const uuids = result.status === 'success' ? result.uuids : new Map<string, string>();
  for (const c of commands) {
    if (!c.syntax.post) continue;
    ctx.startCommand(c, false);
    c.syntax.post(ctx, uuids);
  }
  return { result, ctx, operations };
}

/** post_db_reload_do_checks(): interfaces we created that ovs-vswitchd failed to set up. */
function reportIfaceErrors(idl: Idl, created: Row[], uuids: Map<string, string>, out: Output, env: NodeJS.ProcessEnv): void {
  let any = false;
  for (const placeholder of created) {
    const uuid = uuids.get(placeholder.uuid);
    const iface = uuid ? idl.get('Interface', uuid) : undefined;
    if (!iface) continue;
    const ofport = iface.datum('ofport').keys;
    if (ofport.length && ofport[0] !== -1) continue;
    const name = iface.datum('name').keys[0] as string;
    const error = iface.datum('error').keys[0] as string | undefined;
    out.error(
      error
        ? `Error detected while setting up '${name}': ${error}.  See ovs-vswitchd log for details.`
        : `Error detected while setting up '${name}'.  See ovs-vswitchd log for details.`,
    );
    any = true;
  }
  if (any) out.error(`The default log directory is "${env.OVS_LOGDIR || rundir(env)}".`);
}

function waitForCfg(idl: Idl, nextCfg: number): Promise<void> {
  const done = () => {
    for (const r of idl.rows('Open_vSwitch')) if (((r.datum('cur_cfg').keys[0] as number) ?? 0) >= nextCfg) return true;
    return false;
  };
  if (done()) return Promise.resolve();
  return new Promise((resolve) => {
    const off = idl.onChange(() => {
      if (!done()) return;
      off();
      resolve();
    });
  });
}

function printOutputs(commands: Command[], g: GlobalOptions, out: Output): void {
  const printer = new TablePrinter(g.style);
  for (const c of commands) {
    if (c.table) out.stdout += printer.format(c.table);
    else if (g.oneline) out.stdout += `${c.output.replace(/\n$/, '').replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n`;
    else out.stdout += c.output;
  }
}

/** What a run has open, for the --timeout alarm to close. */
interface Live {
  idl?: Idl;
  stream?: OpenedRemote;
}

async function runCommands(argv: string[], env: NodeJS.ProcessEnv, out: Output, live: Live): Promise<number> {
  const syntaxes = new Map<string, CommandSyntax>(COMMANDS);
  const { global: g, commands: parsed } = parseArgs(argv, syntaxes);
  if (g.help) {
    out.stdout += usage(env);
    return 0;
  }
  if (g.version) {
    out.stdout += `ovs-vsctl (Open vSwitch) ${VERSION}\nDB Schema ${DB_SCHEMA_VERSION}\n`;
    return 0;
  }
  for (const spec of g.verbose) {
    try {
      out.log.setVerbosity(spec);
    } catch (e) {
      if (e instanceof VlogError) throw new FatalError(`processing "${spec}": ${e.message}`);
      throw e;
    }
  }
  const commands: Command[] = parsed.map((p) => ({ ...p, syntax: COMMANDS.get(p.argv[0]!)!, output: '' }));
  // main()'s "Called as": INFO when a command may write (syslog takes it: a sequence number), else DBG.
  out.vlog('vsctl', commands.some((c) => c.syntax.mode === 'RW') ? 'info' : 'dbg', `Called as ${escapeArgs(['ovs-vsctl', ...argv])}`);

  const pre = new Prerequisites();
  pre.add('Open_vSwitch');
  if (!g.noWait) pre.add('Open_vSwitch', 'cur_cfg');
  for (const c of commands) {
    try {
      c.syntax.pre?.(c, pre);
    } catch (e) {
      throw new FatalError((e as Error).message);
    }
  }
  for (const w of pre.warnings) out.warn(w.module, w.message);

  if (g.trace && (g.noWait || g.dryRun)) throw new FatalError('--trace follows the change into ovs-vswitchd: it cannot be used with --no-wait or --dry-run');
  const db = g.db ?? defaultDb(env);
  // --trace's code (@ovs/trace, its HTML page) is loaded only when asked for: every other call starts faster.
  const trace = g.trace ? await import('./trace.js') : undefined;
  if (trace) await trace.armTrace(env);
  const { idl, stream } = await connect(db, pre, g.retry, g.ssl, live, out);
  live.idl = idl;
  try {
    const args = escapeArgs(argv);
    let done: Attempt | null = null;
    while (!done) {
      const seqno = idl.seqno;
      done = await attempt(idl, commands, g, args, out);
      if (!done) await nextChange(idl, seqno, db, g.retry);
    }
    printOutputs(commands, g, out);
    const { result, ctx, operations } = done;
    if (!g.noWait && result.status === 'success' && result.nextCfg !== undefined) {
      // Even without --retry ovs-vsctl reconnects here: the server going away must not
      // leave it waiting for a cur_cfg it can no longer see.
      idl.enableReconnect();
      await waitForCfg(idl, result.nextCfg);
      reportIfaceErrors(idl, ctx.newIfaces, result.uuids, out, env);
      if (trace && g.trace) out.stdout += trace.emitTrace(await trace.collectTrace(env, escapeArgs(withoutTrace(argv)), operations, result.nextCfg), g.trace);
    }
    return 0;
  } finally {
    idl.close();
    stream.close();
  }
}

/** Runs one ovs-vsctl invocation; never throws. */
export async function run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const env = opts.env ?? process.env;
  const out = new Output();
  const live: Live = {};
  const main = runCommands(argv, env, out, live).then(
    (status) => status,
    (e: unknown) => {
      if (e instanceof ExitRequest) return e.status;
      if (e instanceof FatalError || e instanceof UsageError) {
        out.error(e.message);
        return 1;
      }
      if (e instanceof Error && e.constructor === Error) {
        out.error(e.message);
        return 1;
      }
      throw e;
    },
  );
  let timeoutSecs = 0;
  try {
    timeoutSecs = parseArgs(argv, new Map(COMMANDS)).global.timeout;
  } catch {
    // Reported by runCommands.
  }
  if (!timeoutSecs && env.OVS_CTL_TIMEOUT && /^\d+$/.test(env.OVS_CTL_TIMEOUT)) timeoutSecs = Number(env.OVS_CTL_TIMEOUT);
  if (!timeoutSecs) {
    const status = await main;
    return { status, stdout: out.stdout, stderr: out.stderr };
  }
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), timeoutSecs * 1000);
  });
  const winner = await Promise.race([main, expired]);
  clearTimeout(timer);
  if (winner !== 'expired') return { status: winner, stdout: out.stdout, stderr: out.stderr };
  // The real tool's alarm: fatal_signal logs this, then the process dies of SIGALRM (shell status 142).
  live.idl?.close();
  live.stream?.close();
  main.catch(() => {});
  out.warn('fatal_signal', 'terminating with signal 14 (Alarm clock)');
  return { status: 142, stdout: out.stdout, stderr: out.stderr, signal: 'SIGALRM' };
}

/** The executable: prints, then exits with the status (or dies of SIGALRM, as the real tool). */
export function runCli(argv: string[]): void {
  run(argv).then((r) => {
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr, () => {
      if (r.signal) process.kill(process.pid, r.signal);
      else process.exit(r.status);
    });
  });
}
