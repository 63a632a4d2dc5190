// lib/vlog.c's behaviour, with OVS 3.1's tests/vlog.at and Debian's real ovsdb-server 3.1.0 as
// the references: the expected texts below are theirs (vlog.at's, or what `ovsdb-server -vSPEC` and
// `ovs-appctl -t ovsdb-server vlog/...` printed on this machine).
import { mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OvsError } from './strerror.js';
import { UnixctlServer, unixctlTransact } from './unixctl.js';
import { Vlog, VlogRateLimit, strftimeMsec } from './vlog.js';

const EPOCH = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 67));

/** What a daemon like tests/test-unixctl.c has: its modules and OVS's defaults (INFO everywhere, console OFF once detached). */
function testVlog(extra: Partial<ConstructorParameters<typeof Vlog>[0]> = {}): Vlog {
  return new Vlog({ program: 'test-unixctl', console: 'OFF', modules: ['daemon', 'test_unixctl'], now: () => EPOCH, stderr: { write: () => true }, ...extra });
}

/** vlog.at's filter: `sed -n '1,2p; /test_unixctl /p; /daemon /p'`. */
const listed = (v: Vlog) =>
  v
    .getLevels()
    .split('\n')
    .filter((l, i) => i < 2 || /^(test_unixctl|daemon) /.test(l))
    .join('\n');

describe('vlog_set_levels_from_string (vlog.at "vlog/set and vlog/list")', () => {
  it('starts as a detached test-unixctl does', () => {
    expect(listed(testVlog())).toBe(`                 console    syslog    file
                 -------    ------    ------
daemon             OFF       INFO       INFO
test_unixctl       OFF       INFO       INFO`);
  });

  it('daemon:syslog:err then file:dbg', () => {
    const v = testVlog();
    expect(v.setLevelsFromString('daemon:syslog:err')).toBeUndefined();
    expect(v.setLevelsFromString('file:dbg')).toBeUndefined();
    expect(listed(v)).toBe(`                 console    syslog    file
                 -------    ------    ------
daemon             OFF        ERR        DBG
test_unixctl       OFF       INFO        DBG`);
  });

  it('error texts', () => {
    const v = testVlog();
    expect(v.setLevelsFromString('nonexistent')).toBe('no destination, level, or module "nonexistent"');
    expect(v.setLevelsFromString('pattern')).toBe('missing destination');
    expect(v.setLevelsFromString('pattern:nonexistent')).toBe('unknown destination "nonexistent"');
    expect(v.setLevelsFromString('FACILITY:invalid')).toBe('invalid facility');
    expect(v.setLevelsFromString('console:file')).toBe('cannot specify multiple destinations');
    expect(v.setLevelsFromString('info:dbg')).toBe('cannot specify multiple levels');
    expect(v.setLevelsFromString('daemon test_unixctl')).toBe('cannot specify multiple modules');
  });

  it('words in any order and case, separated by spaces, commas, colons or tabs; ANY is no restriction', () => {
    const v = testVlog();
    expect(v.setLevelsFromString('WARN,Console\tDAEMON')).toBeUndefined();
    expect(v.getLevel('daemon', 'console')).toBe('WARN');
    expect(v.getLevel('test_unixctl', 'console')).toBe('OFF');
    expect(v.setLevelsFromString('ANY:file:emer')).toBeUndefined();
    expect(v.getLevel('daemon', 'file')).toBe('EMER');
    expect(v.getLevel('test_unixctl', 'file')).toBe('EMER');
  });

  it('no level means DBG; nothing at all (":") means every module DBG everywhere, as ovs-appctl vlog/set ":" does', () => {
    const v = testVlog();
    expect(v.setLevelsFromString('daemon')).toBeUndefined();
    expect(v.getLevel('daemon', 'console')).toBe('DBG');
    expect(v.getLevel('test_unixctl', 'console')).toBe('OFF');
    expect(v.setLevelsFromString(':')).toBeUndefined();
    expect(v.getLevel('test_unixctl', 'console')).toBe('DBG');
  });

  it('PATTERN:destination:pattern keeps the rest of the spec, colons included', () => {
    const v = testVlog();
    expect(v.setLevelsFromString('pattern:file:I<3OVS|%m')).toBeUndefined();
    expect(v.setLevelsFromString('PATTERN:console::%m')).toBeUndefined();
    expect(v.getPatterns()).toBe(`         prefix                            format
         ------                            ------
SYSLOG   <%B> %D{%h %e %T} %E %A:          ovs|%05N|%c%T|%p|%m
CONSOLE  none                              :%m
FILE     none                              I<3OVS|%m
`);
  });
});

describe('vlog_set_verbosity (-v, --verbose)', () => {
  it('a bare -v sets every module to DBG on every destination', () => {
    const v = testVlog();
    v.setVerbosity(undefined);
    for (const d of ['console', 'syslog', 'file'] as const) expect(v.getLevel('daemon', d)).toBe('DBG');
  });

  it('a bad spec: the text ovsdb-server 3.1 prints after "ovsdb-server: "', () => {
    const v = testVlog();
    const fatal = (spec: string) => {
      try {
        v.setVerbosity(spec);
      } catch (err) {
        expect(err).toBeInstanceOf(OvsError);
        return (err as Error).message;
      }
      return undefined;
    };
    expect(fatal('bogus')).toBe('processing "bogus": no destination, level, or module "bogus"');
    expect(fatal('console:file')).toBe('processing "console:file": cannot specify multiple destinations');
    expect(fatal('PATTERN')).toBe('processing "PATTERN": missing destination');
    expect(fatal('console:off')).toBeUndefined();
  });

  it('--syslog-method: only null, libc, unix: and udp:', () => {
    expect(() => testVlog().handleOption('syslog-method', 'foo')).toThrow("unsupported syslog method 'foo'");
  });
});

describe('format_log_message', () => {
  it("the file and console default patterns (ovs-vswitchd.log's lines)", () => {
    const v = testVlog({ console: 'INFO' });
    const out: string[] = [];
    const v2 = new Vlog({ program: 'x', console: 'INFO', now: () => EPOCH, stderr: { write: (s: string) => out.push(s) } });
    v2.log('WARN', 'bridge', 'hello\n');
    expect(out).toEqual(['2026-01-02T03:04:05Z|00001|bridge|WARN|hello\n']);
    expect(v2.recent).toEqual(['2026-01-02T03:04:05.067Z|00001|bridge|WARN|hello']);
    expect(v.recent).toEqual([]);
  });

  it('%B: LOG_LOCAL0 by default, the FACILITY set (vlog.at "RFC5424 facility": <133>1, <29>1, <191>1)', () => {
    const v = testVlog();
    v.setPattern('file', '<%B>1 %A %m');
    v.log('INFO', 'daemon', 'a');
    v.setLevelsFromString('FACILITY:daemon');
    v.log('INFO', 'daemon', 'b');
    v.setLevelsFromString('FACILITY:local7');
    v.setLevelsFromString('ANY:file:DBG');
    v.log('DBG', 'daemon', 'c');
    expect(v.recent).toEqual(['<133>1 test-unixctl a', '<29>1 test-unixctl b', '<191>1 test-unixctl c']);
  });

  it('widths, padding, justification, subprogram', () => {
    const v = testVlog();
    const m = v.module('daemon_unix');
    expect(v.format(m, 'ERR', '[%-6p][%6c][%05N][%t]%T', 'x', EPOCH)).toBe('[ERR   ][daemon_unix][00000][main]');
    v.subprogram = 'monitor';
    expect(v.format(m, 'ERR', '%c%T|%t', 'x', EPOCH)).toBe('daemon_unix(monitor)|monitor');
    expect(strftimeMsec('%Y-%m-%dT%H:%M:%S.###Z', EPOCH, true)).toBe('2026-01-02T03:04:05.067Z');
    expect(strftimeMsec('%S.##|%S.####', EPOCH, true)).toBe('05.06|05.0670');
  });
});

describe('rate limits (vlog_rate_limit(), VLOG_RATE_LIMIT_INIT(5, 5))', () => {
  it('a burst, then drops, then the count of what was dropped; none with vlog/disable-rate-limit', () => {
    let now = EPOCH.getTime();
    const v = new Vlog({ program: 'x', now: () => new Date(now) });
    const rl = new VlogRateLimit(5, 5);
    for (let i = 0; i < 8; i++) v.logRateLimited(rl, 'WARN', 'netdev', `m${i}`);
    now += 3_000;
    v.logRateLimited(rl, 'WARN', 'netdev', 'm8');
    now += 60_000;
    v.logRateLimited(rl, 'WARN', 'netdev', 'm9');
    const texts = v.recent.map((l) => l.slice(l.lastIndexOf('|') + 1));
    expect(texts).toEqual([
      'm0',
      'm1',
      'm2',
      'm3',
      'm4',
      'Dropped 4 log messages in last 63 seconds (most recently, 60 seconds ago) due to excessive rate',
      'm9',
    ]);
    v.setRateLimits(['netdev'], false);
    for (let i = 0; i < 8; i++) v.logRateLimited(rl, 'WARN', 'netdev', 'again');
    expect(v.recent.filter((l) => l.endsWith('|again'))).toHaveLength(8);
  });
});

describe('the log file and the vlog/* commands (vlog.at, C daemon)', () => {
  let dir: string;
  let server: UnixctlServer;
  let v: Vlog;
  const appctl = (cmd: string, ...args: string[]) => unixctlTransact(join(dir, 'ctl'), cmd, args);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vlog-'));
    server = new UnixctlServer();
    await server.listen(join(dir, 'ctl'));
    v = testVlog({ now: undefined });
    v.registerUnixctl(server);
    server.register('log', 'ARG', 1, 1, ([arg]) => void v.log('INFO', 'test_unixctl', arg!));
  });

  afterEach(async () => {
    await server.close();
    v.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** vlog.at's vlog_filt: "opened log file" alone, else the text after the last '|'. */
  const filt = (file: string) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (l.includes('opened log file') ? 'opened log file' : l.slice(l.lastIndexOf('|') + 1)));

  it('vlog/reopen after the file was renamed (logrotate)', async () => {
    const log = join(dir, 'log');
    v.handleOption('log-file', log);
    v.log('INFO', 'test_unixctl', 'Entering run loop.');
    await appctl('log', 'message');
    renameSync(log, `${log}.old`);
    await appctl('log', 'message2');
    expect(await appctl('vlog/reopen')).toBe('');
    await appctl('log', 'message3');
    expect(filt(`${log}.old`)).toEqual(['opened log file', 'Entering run loop.', 'message', 'message2', 'closing log file']);
    expect(filt(log)).toEqual(['opened log file', 'message3']);
  });

  it('vlog/reopen without a log file', async () => {
    await expect(appctl('vlog/reopen')).rejects.toThrow('Logging to file not configured\n');
  });

  it('vlog/reopen onto /dev/full (vlog.at "vlog/reopen can\'t reopen log file"): writes fail quietly, a later reopen works', async () => {
    const log = join(dir, 'log');
    v.handleOption('log-file', log);
    v.log('INFO', 'test_unixctl', 'Entering run loop.');
    await appctl('log', 'message');
    renameSync(log, `${log}.old`);
    symlinkSync('/dev/full', log);
    expect(await appctl('vlog/reopen')).toBe('');
    await appctl('log', 'message2');
    rmSync(log);
    expect(await appctl('vlog/reopen')).toBe('');
    await appctl('log', 'message3');
    expect(filt(`${log}.old`)).toEqual(['opened log file', 'Entering run loop.', 'message', 'closing log file']);
    expect(filt(log)).toEqual(['opened log file', 'message3']);
  });

  it('vlog/close: nothing logged until vlog/reopen; closing twice is harmless', async () => {
    const log = join(dir, 'log');
    v.handleOption('log-file', log);
    v.log('INFO', 'test_unixctl', 'Entering run loop.');
    await appctl('log', 'message');
    await appctl('log', 'message2');
    await appctl('vlog/close');
    renameSync(log, `${log}.old`);
    await appctl('log', 'message3');
    await appctl('vlog/close');
    await appctl('log', 'message4');
    await appctl('vlog/reopen');
    await appctl('log', 'message5');
    expect(filt(`${log}.old`)).toEqual(['opened log file', 'Entering run loop.', 'message', 'message2']);
    expect(filt(log)).toEqual(['opened log file', 'message5']);
  });

  it('vlog/set, vlog/list and their errors as ovs-appctl shows them', async () => {
    await appctl('vlog/set', 'daemon:syslog:err');
    await appctl('vlog/set', 'file:dbg');
    await expect(appctl('vlog/set', 'nonexistent')).rejects.toThrow('no destination, level, or module "nonexistent"\n');
    await expect(appctl('vlog/set', 'pattern')).rejects.toThrow('missing destination\n');
    await expect(appctl('vlog/set', 'pattern:nonexistent')).rejects.toThrow('unknown destination "nonexistent"\n');
    await expect(appctl('vlog/set', 'FACILITY:invalid')).rejects.toThrow('invalid facility\n');
    const list = await appctl('vlog/list');
    expect(list).toContain('daemon             OFF        ERR        DBG\n');
    expect(list).toContain('test_unixctl       OFF       INFO        DBG\n');
    await appctl('vlog/disable-rate-limit', 'vlog');
    await expect(appctl('vlog/disable-rate-limit', 'nope')).rejects.toThrow('unknown module\n');
    expect(await appctl('vlog/list')).toContain('vlog               OFF       INFO        DBG    (rate limiting disabled)\n');
    await appctl('vlog/enable-rate-limit');
    expect(await appctl('vlog/list')).not.toContain('rate limiting disabled');
    await appctl('vlog/set');
    expect(await appctl('vlog/list')).toContain('daemon             DBG        DBG        DBG\n');
  });
});
