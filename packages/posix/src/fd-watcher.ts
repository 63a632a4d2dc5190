/**
 * Readiness of an fd for the event loop (native/fd-watcher.c): a small
 * thread per watcher poll()s the fd while the watcher is armed and calls
 * `onReady(revents)` on the event loop at the first event, then waits to be
 * armed again. It reads nothing: what is ready stays in the kernel until
 * the caller reads it (with MSG_DONTWAIT). No libuv threadpool thread is
 * held, and the event loop never blocks.
 */
import { type WatcherHandle, addon } from './addon.js';
import { check } from './posix-error.js';

/** poll(2) events as onReady receives them. */
export const POLLIN = 0x1;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;

export class FdWatcher {
  private handle: WatcherHandle | undefined;

  /**
   * Start the thread for `fd`. The watcher starts disarmed and unreferenced
   * (it does not keep the process alive until ref()). Throws PosixError
   * (pthread_create or eventfd failing: EAGAIN, EMFILE).
   */
  constructor(
    readonly fd: number,
    onReady: (revents: number) => void,
  ) {
    this.handle = check(addon().watch(fd, onReady), 'pthread_create');
  }

  /** Whether stop() was called. */
  get stopped(): boolean {
    return this.handle === undefined;
  }

  /** Report the next POLLIN / POLLERR / POLLHUP of the fd, once (arming an armed watcher changes nothing). */
  arm(): void {
    if (this.handle) addon().watchArm(this.handle);
  }

  /** Forget an armed wait: no event is reported until the next arm() (one already on its way may still arrive). */
  disarm(): void {
    if (this.handle) addon().watchDisarm(this.handle);
  }

  /** Keep the event loop alive (while waiting for an event that matters). */
  ref(): void {
    if (this.handle) addon().watchRef(this.handle);
  }

  /** Let the event loop end even so. */
  unref(): void {
    if (this.handle) addon().watchUnref(this.handle);
  }

  /** Stop and join the thread (before closing the fd); no onReady call follows. Idempotent. */
  stop(): void {
    if (this.handle === undefined) return;
    addon().watchStop(this.handle);
    this.handle = undefined;
  }
}
