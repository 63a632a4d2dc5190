/**
 * ovsdb/transaction-forward.c: the transactions a relay's clients asked for that its copy may not
 * commit. Each waits in a queue until the relay monitors its source (ovsdb_cs_may_send_transaction),
 * is then sent there under an id of the relay's own, and is answered with the source's reply —
 * result or error, whole. One sent when the connection to the source is lost may or may not have
 * been committed: it is answered "canceled" (ovsdb_txn_forward_cancel_all(db, true)); the queued
 * ones wait for the next connection.
 */
import type { Json } from './json.js';
import type { ForwardReply, TxnForwarder } from './server.js';

/** What the forwarder sends through: a transact request to the source, its reply to `done`. */
export type SendTransaction = (params: Json[], done: (reply: ForwardReply) => void) => { cancel(): void };

/** struct ovsdb_txn_forward. */
interface TxnForward {
  params: Json[];
  done: (reply: ForwardReply) => void;
  /** Set once sent (in txn_forward_sent); cancels the wait for the source's reply. */
  sent?: { cancel(): void };
}

export class TxnForwardQueue implements TxnForwarder {
  /** db->txn_forward_new: not sent yet, in arrival order. */
  private readonly pending = new Set<TxnForward>();
  /** db->txn_forward_sent. */
  private readonly sent = new Set<TxnForward>();
  private send?: SendTransaction;

  /** ovsdb_txn_forward_create(): queued, and sent now if the source takes transactions. */
  forward(params: Json[], done: (reply: ForwardReply) => void): { destroy(): void } {
    const t: TxnForward = { params, done };
    this.pending.add(t);
    this.run();
    return { destroy: () => this.destroy(t) };
  }

  /**
   * ovsdb_txn_forward_run(): `send` while the relay may send transactions (undefined when it may
   * not); whatever is queued goes out.
   */
  setSender(send: SendTransaction | undefined): void {
    this.send = send;
    this.run();
  }

  private run(): void {
    if (!this.send) return;
    for (const t of [...this.pending]) {
      this.pending.delete(t);
      this.sent.add(t);
      t.sent = this.send(t.params, (reply) => {
        if (!this.sent.delete(t)) return;
        t.done(reply);
      });
    }
  }

  /** ovsdb_txn_forward_cancel_all(): the sent ones (and with `sentOnly` false, the queued ones too) answered "canceled". */
  cancelAll(sentOnly: boolean): void {
    const victims = [...this.sent, ...(sentOnly ? [] : this.pending)];
    this.sent.clear();
    if (!sentOnly) this.pending.clear();
    for (const t of victims) {
      t.sent?.cancel();
      t.done({ error: 'canceled' });
    }
  }

  /** ovsdb_txn_forward_destroy(): its client went away; a reply that still comes is dropped. */
  private destroy(t: TxnForward): void {
    this.pending.delete(t);
    if (this.sent.delete(t)) t.sent?.cancel();
  }
}
