/**
 * ovs-ofctl's command line, error texts and exit statuses, as real
 * ovs-ofctl 3.1 gives them (texts recorded from /usr/bin/ovs-ofctl; the
 * differential test in real-ovs.test.ts runs both side by side), and how a
 * bridge name becomes a socket (open_vconn__(), stream-unix.c).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OFPP_LOCAL } from './constants.js';
import { parseOptions, rundir, runOfctl } from './ofctl.js';
import { OpenflowMgmtServer } from './server.js';

const dir = mkdtempSync(join(tmpdir(), 'ofctl-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function ofctl(args: string[], env: NodeJS.ProcessEnv = { OVS_RUNDIR: dir }): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runOfctl(args, { out: (s) => (stdout += s), err: (s) => (stderr += s) }, env);
  return { code, stdout, stderr };
}

const fails = (stderr: string) => ({ code: 1, stdout: '', stderr: `ovs-ofctl: ${stderr}\n` });

describe('command line', () => {
  it('--version, -V', async () => {
    for (const a of ['--version', '-V', '--vers'])
      expect(await ofctl([a])).toEqual({ code: 0, stderr: '', stdout: 'ovs-ofctl (Open vSwitch) 3.1.0\nOpenFlow versions 0x1:0x6\n' });
  });

  it('--help', async () => {
    const r = await ofctl(['--help']);
    expect(r.code).toBe(0);
    expect(
      r.stdout.startsWith(
        'ovs-ofctl: OpenFlow switch management utility\nusage: ovs-ofctl [OPTIONS] COMMAND [ARG...]\n\nFor OpenFlow switches:\n  show SWITCH                 show OpenFlow information\n',
      ),
    ).toBe(true);
  });

  it.each([
    [[], 'missing command name; use --help for help'],
    [['show'], "'show' command requires at least 1 arguments"],
    [['show', 'a', 'b'], "'show' command takes at most 1 arguments"],
    [['bogus', 'x'], "unknown command 'bogus'; use --help for help"],
    [['--bogus'], "unrecognized option '--bogus'"],
    [['-x', 'show', 'x'], "invalid option -- 'x'"],
    [['show', 'x', '-O'], "option requires an argument -- 'O'"],
    [['--protocols'], "option '--protocols' requires an argument"],
    [['-O', 'Foo', 'show', 'x'], 'Unknown OpenFlow version: "Foo"'],
    [['-t', '0', 'show', 'x'], 'value 0 on -t or --timeout is invalid'],
    [['--version=3'], "option '--version' doesn't allow an argument"],
    [
      ['--s', 'show', 'x'],
      "option '--s' is ambiguous; possibilities: '--strict' '--sort' '--stats' '--syslog-method' '--syslog-target' '--ssl-protocols' '--ssl-ciphers'",
    ],
  ])('%j', async (args, text) => {
    expect(await ofctl(args)).toEqual(fails(text));
  });

  it('options anywhere (getopt permutes), abbreviations, -O lists', () => {
    expect(parseOptions(['show', 'br0', '-O', 'OpenFlow13']).options.allowedVersions).toBe(0x10);
    expect(parseOptions(['--prot=openflow10,OpenFlow15', 'show', 'br0']).options.allowedVersions).toBe(0x42);
    expect(parseOptions(['-mm', 'show', 'br0'])).toMatchObject({ options: { verbosity: 2 }, args: ['show', 'br0'] });
    expect(parseOptions(['show', '--', '-O'])).toMatchObject({ args: ['show', '-O'] });
    expect(parseOptions(['show', 'br0']).options.allowedVersions).toBe(0x02); // OpenFlow10 only by default
  });
});

describe('finding the switch', () => {
  it('a bridge without a socket', async () => {
    expect(await ofctl(['show', 'br9'])).toEqual(fails('br9 is not a bridge or a socket'));
  });

  it('a missing unix: socket', async () => {
    expect(await ofctl(['show', `unix:${dir}/nonexist`])).toEqual(fails(`connecting to unix:${dir}/nonexist (No such file or directory)`));
  });

  it('a file that is not a socket', async () => {
    writeFileSync(join(dir, 'brf.mgmt'), '');
    expect(await ofctl(['show', 'brf'])).toEqual(fails(`${dir}/brf.mgmt: failed to open socket (Connection refused)`));
    expect(await ofctl(['show', `unix:${dir}/brf.mgmt`])).toEqual(fails(`connecting to unix:${dir}/brf.mgmt (Connection refused)`));
  });

  it('other connection methods are not available here (EAFNOSUPPORT, like an unknown method)', async () => {
    expect(await ofctl(['show', 'foo:bar'])).toEqual(fails('connecting to foo:bar (Address family not supported by protocol)'));
  });

  it('BRIDGE, TYPE@BRIDGE, unix:RELATIVE (to $OVS_RUNDIR) and a socket in $OVS_RUNDIR by its own name all reach $OVS_RUNDIR', async () => {
    const server = await OpenflowMgmtServer.listen(join(dir, 'br0.mgmt'), {
      datapathId: () => 0xabn,
      ports: () => [{ portNo: OFPP_LOCAL, name: 'br0', hwAddr: '00:00:00:00:00:ab' }],
    });
    try {
      for (const name of ['br0', 'netdev@br0', 'unix:br0.mgmt', 'br0.mgmt', `unix:${dir}/br0.mgmt`]) {
        const r = await ofctl(['show', name]);
        expect(r.stderr).toBe('');
        expect(r.stdout).toContain('OFPT_FEATURES_REPLY (xid=0x2): dpid:00000000000000ab\n');
        expect(r.stdout).toContain(' LOCAL(br0): addr:00:00:00:00:00:ab\n');
      }
    } finally {
      await server.close();
    }
  });

  it('$OVS_RUNDIR, else /tmp/ovs-ts-$UID (as @ovs/vswitchd)', () => {
    expect(rundir({ OVS_RUNDIR: '/x' })).toBe('/x');
    expect(rundir({})).toBe(`/tmp/ovs-ts-${process.getuid?.() ?? 0}`);
  });

  it('-O OpenFlow13 against a switch that allows 1.0 only: the hello fails', async () => {
    mkdirSync(join(dir, 'only10'), { recursive: true });
    const server = await OpenflowMgmtServer.listen(join(dir, 'only10', 'br0.mgmt'), { datapathId: () => 1n, ports: () => [] }, { allowedVersions: 0x02 });
    try {
      const r = await ofctl(['-O', 'OpenFlow13', 'show', 'br0'], { OVS_RUNDIR: join(dir, 'only10') });
      // vconn's warning on the console (VLOG's default pattern), then the fatal error.
      expect({ ...r, stderr: r.stderr.replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|/gm, 'TIME|') }).toEqual({
        code: 1,
        stdout: '',
        stderr: `TIME|00001|vconn|WARN|unix:${join(dir, 'only10')}/br0.mgmt: version negotiation failed (we support version 0x04, peer supports version 0x01)\novs-ofctl: br0: failed to connect to socket (Protocol error)\n`,
      });
    } finally {
      await server.close();
    }
  });
});
