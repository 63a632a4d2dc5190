#!/usr/bin/env node
import { main } from '../dist/ovsdb-server.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // Whatever handle is still open (a peer that never closes) must not keep a server that has exited alive.
  setTimeout(() => process.exit(code), 1000).unref();
});
