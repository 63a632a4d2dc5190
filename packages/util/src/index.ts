/**
 * @ovs/util: the pieces of OVS's lib/ that every tool and daemon shares and
 * that belong to no layer of the stack: getopt_long(), the daemon options and
 * pid file (lib/daemon-unix.c), logging (lib/vlog.c), the control socket
 * (lib/unixctl.c) and the JSON-RPC it speaks (lib/jsonrpc.c).
 */
export { GetoptError, Getopt, getoptLong } from './command-line.js';
export type { CommandLine, LongOption, ParsedOption } from './command-line.js';
export { DAEMON_LONG_OPTIONS, Daemon, addFileToUnlink, daemonUsage, readPidfile, removeFileToUnlink } from './daemon-unix.js';
export type { DaemonOptions, DaemonSettings } from './daemon-unix.js';
export { absFileName, installDir, ovsLogdir, ovsRundir } from './dirs.js';
export { Connection, DEFAULT_MAX_MESSAGE_BYTES, JSON_MAX_HEIGHT, JsonSplitter, ProtocolError, toMessage } from './jsonrpc.js';
export type { ConnectionOptions, Json, Message, Reply, Request } from './jsonrpc.js';
export { processStatusMsg, signalName } from './process.js';
export { chmodUnixSocket } from './socket-util-unix.js';
export { OvsError, errnoName, errorText, ovsStrerror } from './strerror.js';
export { UNIXCTL_LONG_OPTIONS, UnixctlError, UnixctlServer, unixctlServerCreate, unixctlTargetSocket, unixctlTransact } from './unixctl.js';
export type { UnixctlHandler, UnixctlServerCreateOptions, UnixctlServerOptions } from './unixctl.js';
export {
  VLOG_DEFAULT_PATTERNS,
  VLOG_DESTINATIONS,
  VLOG_LEVELS,
  VLOG_LONG_OPTIONS,
  Vlog,
  VlogRateLimit,
  strftimeMsec,
  vlogDestinationVal,
  vlogLevelVal,
  vlogUsage,
} from './vlog.js';
export type { Level, VlogDestination, VlogLevel, VlogModule, VlogOptions } from './vlog.js';
export {
  COVERAGE_RUN_INTERVAL,
  CoverageCounter,
  coverageCounters,
  coverageDefine,
  coverageHash,
  coverageInit,
  coverageRead,
  coverageReadCounter,
  coverageReset,
  coverageRun,
} from './coverage.js';
export type { CoverageUnixctl } from './coverage.js';
export { memoryReport, simapIncrease } from './memory.js';
export { hash2Words, hashBytes, hashInt, hashString, mhashAdd, mhashFinish } from './hash.js';
export { shashOrder } from './shash.js';
export { Lockfile, lockfileName } from './lockfile.js';
export { followSymlinks } from './util.js';
export { STREAM_SSL_LONG_OPTIONS, doCaCertBootstrap, sslClientOptions, sslHandleOption, sslInit, sslServerOptions } from './stream-ssl.js';
export type { SslContext, SslSettings } from './stream-ssl.js';
