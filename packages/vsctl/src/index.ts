/**
 * @ovs/vsctl: ovs-vsctl over the @ovs/ovsdb IDL. `run(argv)` is one
 * invocation (what it prints and its exit status); the `ovs-vsctl` bin wraps it.
 */
export { run, runCli, defaultDb, rundir, COMMANDS, VERSION, type RunResult, type RunOptions } from './cli.js';
export { parseArgs, UsageError, type GlobalOptions, type ParsedCommand, type Style } from './args.js';
export { datumFromString, datumToString, datumToBare, atomFromString, atomToString } from './datum.js';
export { Txn, type Row, type CommitResult } from './context/txn.js';
