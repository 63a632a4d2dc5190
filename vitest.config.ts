import { defineConfig } from 'vitest/config';

// pnpm runs the tests with node_modules/.bin first on PATH, where this workspace's own
// ovs-vsctl, ovsdb-server, ovsdb-tool, ovs-appctl... are; a test that runs a tool by its bare
// name means the real Open vSwitch's (tests run ours by their bin/*.js paths).
// (Set here, in the main process, so that every project's workers inherit it.)
process.env.PATH = (process.env.PATH ?? '')
  .split(':')
  .filter((dir) => !dir.endsWith('/node_modules/.bin'))
  .join(':');

export default defineConfig({
  test: {
    projects: ['packages/*'],
  },
});
