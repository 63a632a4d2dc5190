/**
 * lib/jsonrpc.c moved to @ovs/util (unixctl, which every daemon has, is made
 * of it); re-exported for ovsdb's modules.
 */
export {
  Connection,
  type ConnectionOptions,
  DEFAULT_MAX_MESSAGE_BYTES,
  JSON_MAX_HEIGHT,
  JsonSplitter,
  type Message,
  ProtocolError,
  type Reply,
  type Request,
  toMessage,
} from '@ovs/util';
