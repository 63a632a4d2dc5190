/**
 * @ovs/genl-codec/testing: what the stack's tests share about netlink errors.
 */

/** The error `p` rejects with, checked to be a `cls` (e.g. NetlinkErrnoError); fails if `p` resolves or rejects otherwise. */
export async function rejection<E>(p: Promise<unknown>, cls: abstract new (...args: never[]) => E): Promise<E> {
  try {
    await p;
  } catch (err) {
    if (err instanceof cls) return err;
    throw new Error(`expected a ${cls.name}, got ${String(err)}`);
  }
  throw new Error(`expected a rejection with a ${cls.name}`);
}
