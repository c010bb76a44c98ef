/**
 * Host-wide allocation of Lattice address slots. Each attached namespace VPC takes a slot N
 * (1–254) that names everything Trellis puts on the host for it: the Lattice addresses
 * 169.254.171.N and fd00:ec2:80::N, the veth `tlatN`, the routing table and rule preference
 * 31000+N. Several Trellis processes may run on one machine (tests do), so a slot is claimed by
 * creating `<dir>/N.json` exclusively; the file names the owning pid and what was created, so a
 * later process can clean up after one that was killed (issue 9: no stray namespaces).
 */
import {
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  closeSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';

export const FIRST_SLOT = 1;
export const LAST_SLOT = 254;

/** What a slot file records: enough to undo the attachment without the process that made it. */
export interface SlotRecord {
  pid: number;
  vpcId: string;
  namespace: string;
  /** Trellis created the namespace: delete it with the slot. */
  createdNamespace: boolean;
  /** Trellis wrote /etc/netns/<namespace>/resolv.conf: remove it with the slot. */
  wroteResolvConf: boolean;
}

/** Default state folder: tmpfs, so a reboot (which removes namespaces too) forgets the claims. */
export function defaultSlotDir(): string {
  return process.env.TRELLIS_NETNS_STATE_DIR ?? '/run/trellis/lattice-slots';
}

export class LatticeSlots {
  constructor(readonly dir: string) {}

  private file(slot: number): string {
    return join(this.dir, `${slot}.json`);
  }

  /** Claims the lowest free slot for `record`; undefined when all 254 are taken. */
  claim(record: SlotRecord): number | undefined {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    for (let slot = FIRST_SLOT; slot <= LAST_SLOT; slot++) {
      let fd: number;
      try {
        fd = openSync(this.file(slot), 'wx', 0o600);
      } catch {
        continue;
      }
      try {
        writeFileSync(fd, JSON.stringify(record));
      } finally {
        closeSync(fd);
      }
      return slot;
    }
    return undefined;
  }

  /** Rewrites the record of a slot this process holds. */
  update(slot: number, record: SlotRecord): void {
    writeFileSync(this.file(slot), JSON.stringify(record), { mode: 0o600 });
  }

  release(slot: number): void {
    rmSync(this.file(slot), { force: true });
  }

  /**
   * Slots whose owner process is gone, each taken over atomically (renamed away, so two
   * processes sweeping at once never both clean one up). The caller undoes what the record says
   * and then calls `forgetStale`.
   */
  takeStale(): { slot: number; record: SlotRecord | undefined; staleFile: string }[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const out: { slot: number; record: SlotRecord | undefined; staleFile: string }[] = [];
    for (const name of names) {
      const m = /^(\d{1,3})\.json$/.exec(name);
      if (m === null) continue;
      const slot = Number(m[1]);
      const path = join(this.dir, name);
      let record: SlotRecord | undefined;
      try {
        record = JSON.parse(readFileSync(path, 'utf8')) as SlotRecord;
      } catch {
        // Being written by a live process right now, or half-written by one killed mid-claim:
        // only an old one is stale.
        if (ageMs(path) < 10_000) continue;
        record = undefined;
      }
      if (record !== undefined && isAlive(record.pid)) continue;
      const staleFile = `${path}.stale-${process.pid}`;
      try {
        renameSync(path, staleFile);
      } catch {
        continue; // another process took it over first
      }
      out.push({ slot, record, staleFile });
    }
    return out;
  }

  /** Frees a slot taken over by `takeStale` once its leftovers are gone. */
  forgetStale(staleFile: string): void {
    rmSync(staleFile, { force: true });
  }
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
