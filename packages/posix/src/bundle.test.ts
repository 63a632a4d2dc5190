/**
 * @ovs/dpif-netlink bundled into one file with esbuild (ESM and CJS) keeps a
 * working real-kernel transport: the bundle carries this package's JS, and
 * the addon is found where node-gyp-build looks (the @ovs/posix package that
 * resolves from the bundle, or prebuilds/ copied beside it); with neither,
 * the transport says so (NetlinkBindingUnavailableError, ENOSYS). Proof that
 * the socket works: DpifNetlink.open() over it gets this kernel's answer, that
 * the openvswitch module is not loaded (this machine has none; the kernel lab
 * has it).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const repo = join(pkg, '..', '..');
let dir: string;

const entry = `
import { DpifNetlink } from '@ovs/dpif-netlink';
import { openSocketFactory } from '@ovs/netlink-socket';
async function main() {
  try {
    await DpifNetlink.open('dp0', { socket: openSocketFactory({ system: true }) }, true);
    console.log('opened dp0');
  } catch (e) {
    console.log(e.name, e.code, e.message.split('\\n')[0]);
  }
}
main();
`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ovs-posix-bundle-'));
  writeFileSync(join(dir, 'entry.mjs'), entry);
  for (const format of ['esm', 'cjs'] as const) {
    const r = await build({
      entryPoints: [join(dir, 'entry.mjs')],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format,
      outfile: join(dir, 'dist', format === 'esm' ? 'app.mjs' : 'app.cjs'),
      // @ovs/dpif-netlink from the workspace root, @ovs/netlink-socket from dpif-netlink's own dependencies.
      nodePaths: [join(repo, 'node_modules'), join(repo, 'packages', 'dpif-netlink', 'node_modules')],
      logLevel: 'silent',
    });
    expect(r.errors).toEqual([]);
  }
}, 60_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function run(app: string, cwd: string): string {
  // Without NODE_PATH (the pnpm shim that started vitest sets one reaching the workspace's packages).
  const env: NodeJS.ProcessEnv = { ...process.env, OVS_POSIX_ADDON: '' };
  delete env.NODE_PATH;
  const r = spawnSync(process.execPath, [app], { cwd, encoding: 'utf8', timeout: 20_000, env });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout.trim();
}

const works = /^(DpifError|NlSockError) ENOENT .*the openvswitch kernel module is not loaded/;

describe('an esbuild bundle of @ovs/dpif-netlink', () => {
  for (const app of ['app.mjs', 'app.cjs']) {
    it(`${app}: with @ovs/posix installed beside the bundle (node_modules), the transport reaches the kernel`, () => {
      const project = join(dir, `project-${app}`);
      mkdirSync(join(project, 'node_modules', '@ovs'), { recursive: true });
      symlinkSync(pkg, join(project, 'node_modules', '@ovs', 'posix'));
      cpSync(join(dir, 'dist', app), join(project, app));
      expect(run(join(project, app), tmpdir())).toMatch(works);
    });

    it(`${app}: with prebuilds/ copied beside the bundle, the transport reaches the kernel`, () => {
      const bare = join(dir, `bare-${app}`);
      mkdirSync(bare);
      cpSync(join(pkg, 'prebuilds'), join(bare, 'prebuilds'), { recursive: true });
      cpSync(join(dir, 'dist', app), join(bare, app));
      expect(run(join(bare, app), tmpdir())).toMatch(works);
    });

    it(`${app}: with no addon anywhere, the transport says so (ENOSYS), the process does not crash`, () => {
      const none = join(dir, `none-${app}`);
      mkdirSync(none);
      cpSync(join(dir, 'dist', app), join(none, app));
      expect(run(join(none, app), dirname(none))).toMatch(
        /^NetlinkBindingUnavailableError ENOSYS AF_NETLINK transport: the native addon of @ovs\/posix is unavailable/,
      );
    });
  }
});
