/**
 * `trellis certificate …`: the certificate store Trellis serves in the role of AWS Certificate
 * Manager (spec §7.4), through the official `@aws-sdk/client-acm`. `request` issues a certificate
 * from Trellis's local CA at once; clients trust `<data-dir>/ca.pem`.
 */
import { readFileSync } from 'node:fs';
import {
  ACMClient,
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  ImportCertificateCommand,
  paginateListCertificates,
  RequestCertificateCommand,
  type CertificateSummary,
} from '@aws-sdk/client-acm';
import {
  addMaxItems,
  clientAction,
  createGroup,
  printDone,
  withExamples,
  type CommandContext,
} from './cli-command.js';
import { CliFailure, type Column } from './output.js';

const COLUMNS: Column<CertificateSummary>[] = [
  { header: 'ARN', value: (c) => c.CertificateArn },
  { header: 'DOMAIN', value: (c) => c.DomainName },
  { header: 'NAMES', value: (c) => (c.SubjectAlternativeNameSummaries ?? []).join(' ') },
  { header: 'TYPE', value: (c) => c.Type },
  { header: 'KEY', value: (c) => c.KeyAlgorithm },
  { header: 'IN USE', value: (c) => (c.InUse ? 'yes' : 'no') },
  { header: 'NOT AFTER', value: (c) => c.NotAfter?.toISOString() },
];

async function withAcm<R>(
  ctx: CommandContext<unknown>,
  fn: (c: ACMClient) => Promise<R>,
): Promise<R> {
  const c = ctx.config;
  const client = new ACMClient({
    endpoint: c.endpoint,
    region: c.region,
    credentials: c.credentials,
  });
  try {
    return await fn(client);
  } finally {
    client.destroy();
  }
}

function readPem(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CliFailure(
      [`cannot read the ${what} file ${path}: ${(err as Error).message}`],
      `Give the path of a PEM file.`,
    );
  }
}

async function describe(
  ctx: CommandContext<unknown>,
  client: ACMClient,
  arn: string,
): Promise<void> {
  const d = await client.send(new DescribeCertificateCommand({ CertificateArn: arn }));
  ctx.printResource(d.Certificate);
}

/** The `trellis certificate` command group. */
export function certificateCommands(): ReturnType<typeof createGroup> {
  const group = createGroup(
    'certificate',
    'Certificates for HTTPS listeners and custom domains (an ACM-compatible store with a local CA).',
  );

  const request = withExamples(
    group
      .command('request')
      .description(
        "Issue a certificate from Trellis's local CA for a domain (and more names); clients trust <data-dir>/ca.pem.",
      )
      .requiredOption('--domain <name>', 'the domain, e.g. payments.example.com or *.example.com')
      .option('--san <name...>', 'further names the certificate covers'),
    'trellis certificate request --domain payments.example.com',
    'trellis certificate request --domain example.com --san "*.example.com"',
  );
  clientAction<{ domain: string; san?: string[] }>(request, async (ctx) => {
    await withAcm(ctx, async (client) => {
      ctx.progress(`issuing a certificate for ${ctx.opts.domain} from the local CA`);
      const out = await client.send(
        new RequestCertificateCommand({
          DomainName: ctx.opts.domain,
          ...(ctx.opts.san ? { SubjectAlternativeNames: ctx.opts.san } : {}),
        }),
      );
      await describe(ctx, client, out.CertificateArn!);
    });
  });

  const importCmd = withExamples(
    group
      .command('import')
      .description(
        'Import a PEM certificate, its private key (unencrypted) and chain. Re-import with --arn.',
      )
      .requiredOption('--certificate <file>', 'PEM certificate')
      .requiredOption('--private-key <file>', 'PEM private key (stored sealed, never returned)')
      .option('--chain <file>', 'PEM intermediate certificates')
      .option('--arn <arn>', 're-import in place of this certificate (rotation under one ARN)'),
    'trellis certificate import --certificate cert.pem --private-key key.pem --chain chain.pem',
  );
  clientAction<{ certificate: string; privateKey: string; chain?: string; arn?: string }>(
    importCmd,
    async (ctx) => {
      const o = ctx.opts;
      await withAcm(ctx, async (client) => {
        const out = await client.send(
          new ImportCertificateCommand({
            Certificate: readPem(o.certificate, 'certificate'),
            PrivateKey: readPem(o.privateKey, 'private key'),
            ...(o.chain ? { CertificateChain: readPem(o.chain, 'chain') } : {}),
            ...(o.arn ? { CertificateArn: o.arn } : {}),
          }),
        );
        await describe(ctx, client, out.CertificateArn!);
      });
    },
  );

  const list = withExamples(
    addMaxItems(group.command('list').description('List certificates.')),
    'trellis certificate list',
  );
  clientAction<{ maxItems?: number }>(list, async (ctx) => {
    await withAcm(ctx, async (client) => {
      const items: CertificateSummary[] = [];
      for await (const page of paginateListCertificates({ client }, {})) {
        items.push(...(page.CertificateSummaryList ?? []));
        if (ctx.opts.maxItems !== undefined && items.length >= ctx.opts.maxItems) break;
      }
      ctx.printList(items.slice(0, ctx.opts.maxItems ?? items.length), COLUMNS);
    });
  });

  const get = withExamples(
    group.command('get').description('Describe a certificate.').argument('<arn>'),
    'trellis certificate get arn:aws:acm:us-east-1:111122223333:certificate/…',
  );
  clientAction(get, async (ctx, [arn]) => {
    await withAcm(ctx, (client) => describe(ctx, client, arn!));
  });

  const del = withExamples(
    group
      .command('delete')
      .description('Delete a certificate (refused while a service names it).')
      .argument('<arn>'),
    'trellis certificate delete arn:aws:acm:us-east-1:111122223333:certificate/…',
  );
  clientAction(del, async (ctx, [arn]) => {
    await withAcm(ctx, (client) =>
      client.send(new DeleteCertificateCommand({ CertificateArn: arn })),
    );
    printDone(ctx, `Deleted ${arn}.`, { CertificateArn: arn });
  });

  return group;
}
