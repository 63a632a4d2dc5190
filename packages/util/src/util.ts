/**
 * lib/util.c's file name helpers that more than one program needs.
 */
import { readlinkSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';

/**
 * follow_symlinks(): the file a (possibly dangling) symlink names, relative
 * links resolved from the link's directory, at most 10 links deep (then the
 * name reached so far, as OVS gives up).
 */
export function followSymlinks(name: string): string {
  let cur = name;
  for (let i = 0; i < 10; i++) {
    let target: string;
    try {
      target = readlinkSync(cur);
    } catch {
      return cur;
    }
    cur = isAbsolute(target) ? target : join(dirname(cur), target);
  }
  return cur;
}
