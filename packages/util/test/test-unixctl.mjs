#!/usr/bin/env node
// tests/test-unixctl.c of OVS 3.1 over @ovs/util's built dist: a tiny daemon with OVS's daemon,
// logging and --unixctl options and the commands exit, echo, echo_error, log, block.
// Extra for the tests: `crash SIGNAL` makes it die of that signal, `--fail-before-ready=N`
// makes it exit N before it is ready, `--ready-delay=MS` waits before saying it is ready.
import { DAEMON_LONG_OPTIONS, Daemon, OvsError, UNIXCTL_LONG_OPTIONS, VLOG_LONG_OPTIONS, Vlog, getoptLong, unixctlServerCreate } from '../dist/index.js';

// TEST_UNIXCTL_PROGRAM: another program name (tests/daemon.at runs `ovsdb-server --no-db` the same way).
const program = process.env.TEST_UNIXCTL_PROGRAM || 'test-unixctl';
const OPTIONS = [
  ...UNIXCTL_LONG_OPTIONS,
  { name: 'help', arg: 'no', short: 'h' },
  { name: 'version', arg: 'no', short: 'V' },
  { name: 'fail-before-ready', arg: 'required' },
  { name: 'ready-delay', arg: 'required' },
  { name: 'no-db', arg: 'no' },
  ...DAEMON_LONG_OPTIONS,
  ...VLOG_LONG_OPTIONS,
];

async function main(argv) {
  const cmdline = getoptLong(argv, OPTIONS);
  if ('error' in cmdline) {
    process.stderr.write(`${program}: ${cmdline.error}\n`);
    return 1;
  }
  const vlog = new Vlog({ program, console: 'INFO', modules: ['daemon', 'daemon_unix', 'test_unixctl', 'unixctl', 'jsonrpc'] });
  const daemon = new Daemon({ program, vlog });
  let unixctlPath;
  let failBeforeReady;
  let readyDelay = 0;
  try {
    for (const { option, value } of cmdline.options) {
      if (daemon.handleOption(option.name, value) || vlog.handleOption(option.name, value)) continue;
      if (option.name === 'unixctl') unixctlPath = value;
      else if (option.name === 'fail-before-ready') failBeforeReady = Number(value);
      else if (option.name === 'ready-delay') readyDelay = Number(value);
    }
    if (cmdline.operands.length) throw new OvsError('exactly zero non-option arguments required; use --help for usage', 'EINVAL');
    await daemon.start();
    if (failBeforeReady !== undefined) {
      process.stderr.write(`${program}: failing before ready as asked\n`);
      return failBeforeReady;
    }
    const unixctl = await unixctlServerCreate(unixctlPath, { program, version: `${program} (Open vSwitch) 3.1.0` });
    let exit;
    const exited = new Promise((resolve) => (exit = resolve));
    if (unixctl) {
      vlog.registerUnixctl(unixctl);
      unixctl.register('exit', '', 0, 0, () => void setImmediate(exit));
      unixctl.register('echo', 'ARG', 1, 1, ([arg]) => arg);
      unixctl.register('echo_error', 'ARG', 1, 1, ([arg]) => {
        throw new Error(arg);
      });
      unixctl.register('log', 'ARG', 1, 1, ([arg]) => void vlog.log('INFO', 'test_unixctl', arg));
      unixctl.register('block', '', 0, 0, () => new Promise(() => {}));
      unixctl.register('crash', 'SIGNAL', 1, 1, ([sig]) => void setImmediate(() => process.kill(process.pid, sig)));
    }
    if (readyDelay) await new Promise((r) => setTimeout(r, readyDelay));
    daemon.complete();
    vlog.log('INFO', 'test_unixctl', 'Entering run loop.');
    await exited;
    await unixctl?.close();
    return 0;
  } catch (err) {
    if (err instanceof OvsError) {
      if (err.message) process.stderr.write(`${program}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
