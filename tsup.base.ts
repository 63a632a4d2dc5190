import { type Options, defineConfig } from 'tsup';

/** Every package's build: ESM and CJS with declarations, for Node 20; `entry` names what it publishes. */
export function packageBuild(entry: Options['entry']) {
  return defineConfig({ entry, format: ['esm', 'cjs'], dts: true, sourcemap: true, clean: true, target: 'node20' });
}
