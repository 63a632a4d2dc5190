import { packageBuild } from '../../tsup.base';

// The library (ESM + CJS + types), then the command-line entries bin/ loads (one ESM file each).
export default packageBuild(['src/index.ts', 'src/testing/real-ovs.ts'], {
  cli: 'src/cli.ts',
  'ovsdb-tool': 'src/ovsdb-tool.ts',
  'ovsdb-server': 'src/ovsdb-server.ts',
});
