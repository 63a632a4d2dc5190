/**
 * @ovs/kernel-datapath/testing: talking to a Kernel from a test, in bytes.
 * Open a socket on the kernel (`kernel.socket({ protocol })`), send, and
 * read back what the kernel queued, decoded as the socket's protocol says
 * (generic netlink with a family table, rtnetlink, ...); or use a
 * TestClient for typed generic netlink requests.
 */
export { ask, datagrams, drain, errnoOf } from './socket.js';
export { TestClient } from './client.js';
