import { packageBuild } from '../../tsup.base';

// The library (ESM + CJS + types), then the command-line entries bin/ loads (one ESM file each).
export default packageBuild(['src/index.ts', 'src/transport/unix.ts', 'src/testing/index.ts'], { cli: 'src/cli.ts' });
