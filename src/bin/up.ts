import { chmodSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { createApiServer } from '../api/api-server.js';
import { LATTICE_OPERATIONS } from '../api/operation-table.js';
import { createSigV4Authenticator } from '../api/sigv4-authenticator.js';
import { createIamQueryServices } from '../api/iam-services.js';
import { trellisOperations } from '../api/operations/trellis-operations.js';
import {
  monitoringSettingsFromEnv,
  type MonitoringSettings,
} from '../config/monitoring-settings.js';
import type { Settings } from '../config/settings.js';
import { startMonitoring, type RunningMonitoring } from './monitoring-wiring.js';
import { ensureDefaultAccount } from '../manager/accounts.js';
import { ensureDefaultVpc } from '../manager/default-vpc.js';
import type { ManagerContext } from '../manager/manager-context.js';
import { createSnapshotBuilder } from '../snapshot/snapshot-builder.js';
import { createSqliteStore } from '../store/sqlite/sqlite-store.js';
import { startDataPlane, type RunningDataPlane } from './dataplane-wiring.js';
import { createAcmService } from '../api/operations/acm-operations.js';
import { createRamService } from '../api/operations/ram-operations.js';
import { prepareCertificates } from './certificates-wiring.js';
import { startDns } from './dns-wiring.js';
import { startNetworkNamespaces } from './netns-wiring.js';
import { functionSettingsFromEnv } from '../config/function-settings.js';
import { lambdaOperations } from '../api/operations/lambda-operations.js';
import { startFunctions } from './functions-wiring.js';

/** What a running `trellis up` exposes to its caller (the CLI command, tests). */
export interface RunningTrellis {
  apiEndpoint: string;
  /** `host:port` of the DNS responder in address mode (`--dns-listen`), when it runs. */
  dnsEndpoint?: string;
  stop(): Promise<void>;
}

/** Where `trellis up` writes what clients need to find it: endpoint and pid. */
export function runtimeFile(dataDir: string): string {
  return join(dataDir, 'runtime.json');
}

/**
 * `trellis up`: the store, the control-plane API and (unless disabled) the data plane in one
 * process. Parts start in order and stop in reverse; `stop()` is safe after a partial start.
 */
export async function up(
  settings: Settings,
  monitoringSettings: MonitoringSettings = monitoringSettingsFromEnv(process.env),
): Promise<RunningTrellis> {
  const log = pino({ level: settings.logLevel, base: { service: 'trellis' } });
  const dataDir = resolve(settings.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const stops: (() => Promise<void> | void)[] = [];
  const stop = async (): Promise<void> => {
    while (stops.length) {
      const s = stops.pop()!;
      try {
        await s();
      } catch (err) {
        log.warn({ err }, 'error while stopping');
      }
    }
  };
  try {
    const store = createSqliteStore({
      filename: join(dataDir, 'trellis.db'),
      synchronous: settings.storeSynchronous,
    });
    stops.push(() => store.close());

    const admin = await ensureDefaultAccount(store, settings.partition, settings.accountId);
    writeClientFiles(dataDir, settings, admin);
    await ensureDefaultVpc(store, settings.accountId, settings.dataplaneHost);
    // Sealing key, local CA (root in <data-dir>/ca.pem) and the generated-name certificate.
    const certificates = prepareCertificates(dataDir, settings.region);

    const ctx: ManagerContext = {
      partition: settings.partition,
      region: settings.region,
      quotas: settings.quotas,
      operatorAccountId: settings.accountId,
      now: () => new Date().toISOString(),
      // ListTargets reads the health the data plane writes (spec §1.5 Targets).
      usage: {
        listUsage: (filter) => store.listUsage(filter),
        prices: monitoringSettings.prices,
      },
      targetHealth: {
        get: (targetGroupId) => store.getTargetHealth(targetGroupId),
        forget: (targetGroupId, targetId, port) => {
          store
            .deleteTargetHealth(targetGroupId, targetId, port)
            .catch((err: unknown) =>
              log.warn({ err, targetGroupId }, 'target health cleanup failed'),
            );
        },
      },
    };

    // Functions get AWS_ENDPOINT_URL once the API listens (just below).
    const functionsEndpoint: { url?: string } = {};
    const functions = await startFunctions({
      dataDir,
      settings: functionSettingsFromEnv(process.env),
      store,
      ctx,
      log,
      endpointUrl: () => functionsEndpoint.url,
    });
    stops.push(() => functions.stop());

    // The control-plane API listens before the snapshot is loaded and the data plane compiles it
    // (seconds with 10,000 services and 100,000 targets): the API reads the store, not snapshots.
    // runtime.json is still written only once everything serves (clients and tests wait for it
    // before sending data-plane traffic). `/metrics` is routed once monitoring has started.
    const publicRoutes: RunningMonitoring['publicRoutes'] = {};
    const iam = createIamQueryServices({ store, ctx, logger: log });
    const api = createApiServer({
      store,
      ctx,
      authorizer: iam.authorizer,
      queryServices: iam.queryServices,
      jsonTargetServices: {
        acm: createAcmService({
          store,
          ctx,
          authorizer: iam.authorizer,
          ports: certificates.ports,
        }),
      },
      restServices: { ram: createRamService({ store, ctx, authorizer: iam.authorizer }) },
      operations: [
        ...LATTICE_OPERATIONS,
        ...trellisOperations,
        ...lambdaOperations(functions.config),
      ],
      authenticator: createSigV4Authenticator({ store, region: settings.region }),
      publicRoutes,
      logger: log,
    });
    const address = await api.start(settings.apiListen.host, settings.apiListen.port);
    stops.push(() => api.stop());
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const apiEndpoint = `http://${host}:${address.port}`;
    functionsEndpoint.url = apiEndpoint;
    log.info({ apiEndpoint }, 'control plane API is listening');

    const snapshots = createSnapshotBuilder({
      store,
      region: settings.region,
      partition: settings.partition,
      logger: log,
    });
    await snapshots.start();
    stops.push(() => snapshots.stop());

    // Monitoring stops after the data plane (stops run in reverse), so its last records are kept.
    const monitoring = await startMonitoring({
      dataDir,
      settings: monitoringSettings,
      store,
      snapshots,
      log,
    });
    stops.push(() => monitoring.stop());
    Object.assign(publicRoutes, monitoring.publicRoutes);

    // Namespace VPCs (issue 8 §1) are attached before the data plane and DNS see them; they are
    // detached after both stopped (stops run in reverse).
    const netns = await startNetworkNamespaces({ settings, snapshots, log });
    stops.push(() => netns.stop());

    let dataPlane: RunningDataPlane | undefined;
    if (settings.dataplane) {
      dataPlane = await startDataPlane({
        settings,
        store,
        snapshots: netns.source,
        log,
        functions: functions.runner,
      });
      stops.push(() => dataPlane!.stop());
      dataPlane.dataPlane.onRequestComplete = monitoring.hook;
      dataPlane.dataPlane.traceSpans = monitoring.monitoring.traceSpans;
      if (monitoring.monitoring.metrics)
        monitoring.monitoring.metrics.connections = dataPlane.dataPlane.counters;
    }

    const dns = await startDns({ settings, snapshots: netns.source, log });
    if (dns) stops.push(() => dns.responder.stop());
    const dnsAt = settings.dnsListen.mode === 'address' ? dns?.endpoints[0] : undefined;
    const dnsEndpoint = dnsAt
      ? `${dnsAt.address.includes(':') ? `[${dnsAt.address}]` : dnsAt.address}:${dnsAt.port}`
      : undefined;

    writeFileSync(
      runtimeFile(dataDir),
      JSON.stringify(
        {
          apiEndpoint,
          pid: process.pid,
          region: settings.region,
          ...(dnsEndpoint ? { dnsEndpoint } : {}),
        },
        null,
        2,
      ),
    );
    stops.push(() => rmSync(runtimeFile(dataDir), { force: true }));
    log.info({ apiEndpoint, dataDir, store: store.adapter }, 'trellis is serving');
    return { apiEndpoint, ...(dnsEndpoint ? { dnsEndpoint } : {}), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Writes `<data-dir>/credentials` and `<data-dir>/config` in the AWS shared-file formats. */
function writeClientFiles(
  dataDir: string,
  settings: Settings,
  admin: { accessKeyId: string; secretAccessKey: string },
): void {
  const credentials = join(dataDir, 'credentials');
  writeFileSync(
    credentials,
    `[default]\naws_access_key_id = ${admin.accessKeyId}\naws_secret_access_key = ${admin.secretAccessKey}\n`,
    { mode: 0o600 },
  );
  chmodSync(credentials, 0o600);
  writeFileSync(join(dataDir, 'config'), `[default]\nregion = ${settings.region}\n`);
}
