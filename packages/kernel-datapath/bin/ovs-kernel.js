#!/usr/bin/env node
// The command is one bundled file (dist/, see tsup.base.ts); on Node 22.1+ V8's code cache for it is kept
// between runs (module.enableCompileCache: $NODE_COMPILE_CACHE, or the OS's temporary directory).
import module from 'node:module';

module.enableCompileCache?.();
const { main } = await import('../dist/cli.js');

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
