import type { Logger } from 'pino';
import type { Settings } from '../config/settings.js';
import {
  createDnsResponder,
  type DnsEndpoint,
  type DnsResponder,
  type DnsSnapshotSource,
} from '../dns/index.js';
import { defaultVpcId } from '../manager/default-vpc.js';

/**
 * Starts the DNS responder when `--dns-listen` asks for one (docs/multi-vpc.md). It reads the same
 * snapshots as the data plane; queries arriving on an address no VPC owns come from the default VPC.
 */
export async function startDns(deps: {
  settings: Settings;
  snapshots: DnsSnapshotSource;
  log: Logger;
}): Promise<{ responder: DnsResponder; endpoints: DnsEndpoint[] } | undefined> {
  const { settings } = deps;
  const listen = settings.dnsListen;
  if (listen.mode === 'off') return undefined;
  const log = deps.log.child({ part: 'dns' });
  const responder = createDnsResponder({
    snapshotSource: deps.snapshots,
    listen,
    defaultVpcId: defaultVpcId(settings.accountId),
    ...(settings.dnsUpstream ? { upstream: settings.dnsUpstream } : {}),
    logger: {
      info: (message, fields) => log.info(fields ?? {}, message),
      warn: (message, fields) => log.warn(fields ?? {}, message),
    },
  });
  try {
    await responder.start();
  } catch (err) {
    await responder.stop();
    throw err;
  }
  return { responder, endpoints: responder.endpoints() };
}
