/**
 * The oracle's transcripts (../shared/oracle/transcripts: real OVS 3.1 run
 * step by step) as data: the commands with their output and exit status, so
 * a test can replay them against our switch and compare.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const TRANSCRIPTS = fileURLToPath(new URL('../../../../../shared/oracle/transcripts/', import.meta.url));

export interface OracleCommand {
  /** The section ("add-port vxlan0 remote_ip=192.0.2.1") the command belongs to. */
  section: string;
  cmd: string;
  out: string[];
  err: string[];
  exit: number;
  /** Part of the snapshot taken after each step (show, list Interface, ofctl, dpif/show, dpctl/show). */
  snapshot: boolean;
}

/** The vswitchd log lines the oracle recorded, per section. */
export function transcriptLogs(file: string): Map<string, string[]> {
  const logs = new Map<string, string[]>();
  let section = '';
  for (const line of readFileSync(TRANSCRIPTS + file, 'utf8').split('\n')) {
    const sec = /^=+ (.*?) =+$/.exec(line);
    if (sec) section = sec[1]!;
    else if (line.startsWith('log| ')) logs.set(section, [...(logs.get(section) ?? []), line.slice(5)]);
  }
  return logs;
}

export function readTranscript(file: string): OracleCommand[] {
  const lines = readFileSync(TRANSCRIPTS + file, 'utf8').split('\n');
  const out: OracleCommand[] = [];
  let section = '';
  let snapshot = false;
  let cur: OracleCommand | undefined;
  for (const line of lines) {
    const sec = /^=+ (.*?) =+$/.exec(line);
    if (sec) {
      section = sec[1]!;
      snapshot = false;
      continue;
    }
    if (line === '--- snapshot') {
      snapshot = true;
      continue;
    }
    if (line.startsWith('--- ')) {
      snapshot = false;
      continue;
    }
    if (line.startsWith('$ ')) {
      cur = { section, cmd: line.slice(2), out: [], err: [], exit: 0, snapshot };
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    if (line.startsWith('out| ')) cur.out.push(line.slice(5));
    else if (line === 'out|') cur.out.push('');
    else if (line.startsWith('err| ')) cur.err.push(line.slice(5));
    else if (line.startsWith('exit=')) {
      cur.exit = Number(line.slice(5));
      cur = undefined;
    }
  }
  return out;
}

/** `ovs-vsctl --columns=... list Interface` records, as a set (the rows come in hash order). */
export function interfaceRecords(lines: string[]): string[] {
  const records: string[] = [];
  let rec: string[] = [];
  for (const l of [...lines, '']) {
    if (l.trim() === '') {
      if (rec.length) records.push(rec.join('; '));
      rec = [];
    } else rec.push(l.replace(/ {2,}:/, ' :'));
  }
  return records.sort();
}
