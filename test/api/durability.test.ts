import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  CreateServiceNetworkCommand,
  ListServiceNetworksCommand,
  type VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import { startTrellis } from '../support/trellis-process.js';

async function listAllNames(client: VPCLatticeClient): Promise<Set<string>> {
  const names = new Set<string>();
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListServiceNetworksCommand({ maxResults: 100, nextToken }));
    for (const item of page.items ?? []) names.add(item.name!);
    nextToken = page.nextToken;
  } while (nextToken);
  return names;
}

test('kill -9 while writing loses no acknowledged write', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'trellis-crash-'));
  const env = { TRELLIS_QUOTA_SERVICENETWORKSPERREGION: '100000' };
  try {
    const first = await startTrellis({ dataDir, env });
    const client = first.lattice();
    const acknowledged: string[] = [];
    let stop = false;
    // Four concurrent writers; the process is killed while they are mid-flight.
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const name = `crash-${w}-${i}`;
        try {
          await client.send(new CreateServiceNetworkCommand({ name }));
          acknowledged.push(name);
        } catch {
          return; // the connection died with the process
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    await first.kill();
    stop = true;
    await Promise.all(writers);
    client.destroy();
    assert.ok(acknowledged.length > 20, `only ${acknowledged.length} writes were acknowledged`);

    const second = await startTrellis({ dataDir, env });
    try {
      const stored = await listAllNames(second.lattice());
      const lost = acknowledged.filter((n) => !stored.has(n));
      assert.deepEqual(
        lost,
        [],
        `${lost.length} of ${acknowledged.length} acknowledged writes lost`,
      );
    } finally {
      await second.stop({ keepData: true });
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
