#!/usr/bin/env node
// The command is one bundled CommonJS file (dist/, see tsup.base.ts); on Node 22.1+ V8's code cache for it
// is kept between runs (module.enableCompileCache: $NODE_COMPILE_CACHE, or the OS's temporary directory).
require('node:module').enableCompileCache?.();
const { main } = require('../dist/cli.cjs');

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
