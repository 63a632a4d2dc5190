/**
 * The kernel's function tracer, for the sockets that ask (like ftrace's
 * function_graph tracer filtered to one task): while a traced socket's
 * request is handled, each instrumented kernel function records its name,
 * depth, a short note and its result into that socket's log, which the socket
 * (in process) or the daemon (over the wire) hands to userspace.
 *
 * When no traced request is running, `call` costs one check.
 */
import { type KernelTraceEvent, errnoName } from '@ovs/genl-codec';

export type FtraceLayer = 'kernel' | 'vport';

export class Ftrace {
  private log: KernelTraceEvent[] | undefined;
  private depth = 0;

  /** Whether a traced request is being handled now. */
  get active(): boolean {
    return this.log !== undefined;
  }

  /** Run `fn` with the functions it calls recorded into `log` (nothing recorded when undefined). */
  capture<T>(log: KernelTraceEvent[] | undefined, fn: () => T): T {
    if (log === undefined && this.log === undefined) return fn();
    const saved = this.log;
    const savedDepth = this.depth;
    this.log = log;
    this.depth = 0;
    try {
      return fn();
    } finally {
      this.log = saved;
      this.depth = savedDepth;
    }
  }

  /**
   * Record `name` around `body`; `ret` turns its value into the result shown
   * (a handler's negative errno becomes "-EEXIST"); a thrown errno too.
   */
  call<T>(layer: FtraceLayer, name: string, note: string | undefined, body: () => T, ret: (value: T) => string | undefined = handlerRet): T {
    const log = this.log;
    if (log === undefined) return body();
    const ev: KernelTraceEvent = { depth: this.depth, layer, fn: name };
    if (note !== undefined) ev.note = note;
    log.push(ev);
    this.depth++;
    try {
      const value = body();
      const r = ret(value);
      if (r !== undefined) ev.ret = r;
      return value;
    } catch (err) {
      const errno = (err as { errno?: unknown }).errno;
      ev.ret = typeof errno === 'number' ? `-${errnoName(errno)}` : 'exception';
      throw err;
    } finally {
      this.depth--;
    }
  }

  /** A function that did its work without calling anything traced. */
  event(layer: FtraceLayer, name: string, note?: string): void {
    const log = this.log;
    if (log === undefined) return;
    const ev: KernelTraceEvent = { depth: this.depth, layer, fn: name };
    if (note !== undefined) ev.note = note;
    log.push(ev);
  }
}

/** A handler's return value as ftrace would show it: nothing for 0, "-EEXIST" for an errno. */
export function handlerRet(value: unknown): string | undefined {
  const n = typeof value === 'number' ? value : undefined;
  if (n === undefined || n === 0) return undefined;
  return n < 0 ? `-${errnoName(-n)}` : String(n);
}
