import type { Vpc } from '../model/inventory-types.js';
import type { Store } from '../store/store.js';

/** ID of the VPC `trellis up` creates for the default account (its ingress is `--dataplane-host`). */
export function defaultVpcId(accountId: string): string {
  // Stable per account so that restarts and scripts see the same id.
  const digits = accountId.padStart(12, '0');
  return `vpc-0${digits}def0`;
}

/** Creates the default VPC on first start; keeps its ingress address in step with the flag. */
export async function ensureDefaultVpc(
  store: Store,
  accountId: string,
  ingressAddress: string,
): Promise<Vpc> {
  const vpcId = defaultVpcId(accountId);
  return store.transact(async (tx) => {
    const existing = await tx.get<Vpc>('vpc', vpcId);
    if (existing) {
      if (existing.data.ingressAddresses.join(',') === ingressAddress) return existing.data;
      const vpc: Vpc = { ...existing.data, ingressAddresses: [ingressAddress] };
      await tx.update({ kind: 'vpc', id: vpcId, accountId, data: vpc });
      return vpc;
    }
    const vpc: Vpc = {
      vpcId,
      ownerAccountId: accountId,
      cidrBlocks: [],
      ingressAddresses: [ingressAddress],
      createdAt: new Date().toISOString(),
      tags: { Name: 'default' },
    };
    await tx.insert({ kind: 'vpc', id: vpcId, accountId, data: vpc });
    return vpc;
  });
}
