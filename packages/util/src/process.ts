/**
 * lib/process.c's process_status_msg() and lib/signals.c's signal_name():
 * how OVS describes the way a child process ended ("exit status 1",
 * "killed (Segmentation fault), core dumped"), from what Node reports of it.
 */
import { constants } from 'node:os';

/** glibc's signal descriptions (sigdescr_np()), which signal_name() returns. */
const DESCRIPTIONS: Readonly<Record<string, string>> = {
  SIGHUP: 'Hangup',
  SIGINT: 'Interrupt',
  SIGQUIT: 'Quit',
  SIGILL: 'Illegal instruction',
  SIGTRAP: 'Trace/breakpoint trap',
  SIGABRT: 'Aborted',
  SIGBUS: 'Bus error',
  SIGFPE: 'Floating point exception',
  SIGKILL: 'Killed',
  SIGUSR1: 'User defined signal 1',
  SIGSEGV: 'Segmentation fault',
  SIGUSR2: 'User defined signal 2',
  SIGPIPE: 'Broken pipe',
  SIGALRM: 'Alarm clock',
  SIGTERM: 'Terminated',
  SIGSTKFLT: 'Stack fault',
  SIGCHLD: 'Child exited',
  SIGCONT: 'Continued',
  SIGSTOP: 'Stopped (signal)',
  SIGTSTP: 'Stopped',
  SIGTTIN: 'Stopped (tty input)',
  SIGTTOU: 'Stopped (tty output)',
  SIGURG: 'Urgent I/O condition',
  SIGXCPU: 'CPU time limit exceeded',
  SIGXFSZ: 'File size limit exceeded',
  SIGVTALRM: 'Virtual timer expired',
  SIGPROF: 'Profiling timer expired',
  SIGWINCH: 'Window changed',
  SIGIO: 'I/O possible',
  SIGPWR: 'Power failure',
  SIGSYS: 'Bad system call',
};

/** signal_name(): the description of a signal, by name ('SIGSEGV') or number, else "signal N". */
export function signalName(signal: NodeJS.Signals | number): string {
  const name = typeof signal === 'number' ? Object.entries(constants.signals).find(([, n]) => n === signal)?.[0] : signal;
  const number = typeof signal === 'number' ? signal : (constants.signals as Record<string, number>)[signal];
  return (name && DESCRIPTIONS[name]) ?? `signal ${number ?? signal}`;
}

/**
 * process_status_msg(): "exit status N" or "killed (DESCRIPTION)". (Node does
 * not say whether a core was dumped, so ", core dumped" never appears.)
 */
export function processStatusMsg(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal !== null) return `killed (${signalName(signal)})`;
  return `exit status ${code ?? 0}`;
}
