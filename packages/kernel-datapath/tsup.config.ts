import { defineConfig } from 'tsup';

export default defineConfig({
  // Named entries keep dist/cli.js where bin/ovs-kernel.js loads it.
  entry: { index: 'src/index.ts', cli: 'src/tools/cli.ts', testing: 'src/testing/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
});
