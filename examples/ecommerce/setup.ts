/**
 * The e-commerce application of the VPC Lattice GA announcement, configured the way a team would
 * write it for the real VPC Lattice: `@aws-sdk/client-vpc-lattice`, `client-iam` and
 * `client-lambda` with their endpoint pointed at Trellis. Read it top to bottom; `demo.ts` runs it
 * against sample services it starts (`npm run demo`).
 *
 *   Order (Lambda function, role order-service-role)
 *     ├─ GET  /stock      → Inventory  IP target group, IPv6 target (::1)
 *     ├─ POST /delivery   → Delivery   ALB target groups v1/v2, weighted canary 80/20
 *     └─ POST /pay        → Payment    INSTANCE target group, HTTPS on a custom domain,
 *                                      owned by another account (the payments team's)
 *   one service network (AWS_IAM), the announcement's auth policy, access logs.
 *
 * The only Trellis-specific part is marked TRELLIS-SPECIFIC below: on AWS the VPCs, the EC2
 * instance and the ALB exist already (EC2/ELB own them); in Trellis they are records of its
 * inventory API (`/_trellis/…`), created with a SigV4-signed request.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { ACMClient, RequestCertificateCommand } from '@aws-sdk/client-acm';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateAccessLogSubscriptionCommand,
  CreateListenerCommand,
  CreateRuleCommand,
  CreateServiceCommand,
  CreateServiceNetworkCommand,
  CreateServiceNetworkServiceAssociationCommand,
  CreateServiceNetworkVpcAssociationCommand,
  CreateTargetGroupCommand,
  PutAuthPolicyCommand,
  PutResourcePolicyCommand,
  RegisterTargetsCommand,
  VPCLatticeClient,
  type HealthCheckConfig,
} from '@aws-sdk/client-vpc-lattice';
import { SignatureV4 } from '@smithy/signature-v4';

/** Where the sample services run, and where Trellis is. */
export interface EcommerceSetupInput {
  /** Trellis's API endpoint (on AWS: omit it, the SDK knows the regional endpoints). */
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Ingress address of the Order function's VPC (Trellis's default VPC). */
  ingress: string;
  /** Port of every service's HTTP listener. */
  listenerPort: number;
  /** Port of Payment's HTTPS listener. */
  httpsPort: number;
  /**
   * Root certificate the Order function trusts for Payment's HTTPS (Trellis: `<data-dir>/ca.pem`,
   * its local CA; on AWS a public ACM certificate needs none).
   */
  caFile?: string;
  inventory: { address: string; port: number };
  alb: { address: string; v1Port: number; v2Port: number };
  payment: { address: string; port: number };
  /** Folder holding `order/index.mjs`. */
  orderCodeDir: string;
  /** CloudWatch Logs log group that receives the network's access logs. */
  logGroupName: string;
  /** Addresses no other VPC uses, for the Inventory, Delivery and Payment VPCs (3 needed). */
  spareIngressAddresses: string[];
  /**
   * Network namespaces holding the Inventory, Delivery and Payment services (the demo as root):
   * their VPCs are those namespaces (Trellis attaches them) instead of ingress addresses.
   */
  namespaces?: { inventory: string; delivery: string; payment: string };
  /** Called with one line per step. */
  progress?: (line: string) => void;
}

/** What the setup created (ids, ARNs, names) — what the demo calls and reports on. */
export interface EcommerceSetup {
  accountId: string;
  /** The account that owns Payment (its VPC, instance, certificate, service, target group). */
  paymentsAccountId: string;
  serviceNetwork: { id: string; arn: string };
  vpcs: { orders: string; inventory: string; delivery: string; payment: string };
  roleArn: string;
  functionArn: string;
  functionName: string;
  services: Record<
    'order' | 'inventory' | 'delivery' | 'payment',
    { id: string; arn: string; host: string }
  >;
  targetGroups: Record<
    'inventory' | 'deliveryV1' | 'deliveryV2' | 'payment' | 'order',
    { id: string; arn: string }
  >;
  instanceId: string;
  loadBalancerArn: string;
  canaryWeights: { v1: number; v2: number };
  /** Delivery's listener, whose rule holds the canary. */
  deliveryListenerId: string;
  logGroupArn: string;
  paymentDomain: string;
  /** How Order reaches Payment: HTTPS with an ACM certificate, or HTTP where there is none. */
  paymentUrl: string;
  certificateArn?: string;
  /** Why Payment is on HTTP, when it is. */
  paymentHttpReason?: string;
}

/** The Delivery canary: share of /delivery* requests per version (a listener rule's weights). */
export const CANARY_WEIGHTS = { v1: 80, v2: 20 } as const;
/** The Payment service's custom domain name. */
export const PAYMENT_DOMAIN = 'payment.shop.example';
/** The payments team's account, which owns Payment (the announcement: several accounts). */
export const PAYMENTS_ACCOUNT = '222233334444';
/** Name of the Order function's execution role. */
export const ORDER_ROLE = 'order-service-role';

const doc = (statement: object[]): string =>
  JSON.stringify({ Version: '2012-10-17', Statement: statement });

/** Configures the whole application; every call is an ordinary SDK call except the inventory. */
export async function setUpEcommerce(input: EcommerceSetupInput): Promise<EcommerceSetup> {
  const say = input.progress ?? (() => {});
  const client = { endpoint: input.endpoint, region: input.region, credentials: input.credentials };
  const lattice = new VPCLatticeClient(client);
  const iam = new IAMClient(client);
  const lambda = new LambdaClient(client);
  const acm = new ACMClient(client);
  const more: { destroy(): void }[] = [];
  try {
    const port = input.listenerPort;

    // ---- TRELLIS-SPECIFIC: the VPCs, the EC2 instance and the ALB (EC2/ELB on AWS) ---------
    // Order's VPC is Trellis's default VPC (its ingress is where the data plane listens).
    const vpcs = (await trellis(input, 'GET', '/_trellis/vpcs')) as {
      items: { vpcId: string; ingressAddresses: string[]; ownerAccountId: string }[];
    };
    const ordersVpc = vpcs.items.find((v) => v.ingressAddresses.includes(input.ingress));
    if (!ordersVpc) throw new Error(`no VPC has the ingress address ${input.ingress}`);
    const accountId = ordersVpc.ownerAccountId;
    const [invAddr, dlvAddr, payAddr] = input.spareIngressAddresses;
    // The payments team's account (on AWS it exists already; Trellis creates accounts itself).
    const payments = (await trellis(input, 'POST', '/_trellis/accounts', {
      accountId: PAYMENTS_ACCOUNT,
    })) as { accountId: string; accessKeyId: string; secretAccessKey: string };
    const asPayments = {
      ...input,
      credentials: { accessKeyId: payments.accessKeyId, secretAccessKey: payments.secretAccessKey },
    };
    say(`account ${payments.accountId} (the payments team; Payment lives there)`);
    const createVpc = async (
      cidrBlocks: string[],
      ingress: string | undefined,
      name: 'inventory' | 'delivery' | 'payment',
      owner = input,
    ) => {
      // A real network namespace when the demo runs as root (docs/multi-vpc.md), else a record
      // whose ingress address stands for the VPC.
      const namespace = input.namespaces?.[name];
      const vpc = (await trellis(owner, 'POST', '/_trellis/vpcs', {
        cidrBlocks,
        ...(namespace
          ? { networkNamespace: { name: namespace, create: false } }
          : { ingressAddresses: [ingress] }),
        tags: { Name: name },
      })) as { vpcId: string };
      say(
        `VPC ${name} ${vpc.vpcId} (${cidrBlocks.join(', ')})${namespace ? ` = network namespace ${namespace}` : ''}`,
      );
      return vpc.vpcId;
    };
    say(`VPC orders ${ordersVpc.vpcId} (Trellis's default VPC; the Order function runs here)`);
    // The announcement: VPCs with overlapping CIDRs (Delivery and Payment both use 10.0.0.0/16).
    const inventoryVpc = await createVpc(['10.1.0.0/16', 'fd00:1::/56'], invAddr, 'inventory');
    const deliveryVpc = await createVpc(['10.0.0.0/16'], dlvAddr, 'delivery');
    const paymentVpc = await createVpc(['10.0.0.0/16'], payAddr, 'payment', asPayments);
    const instance = (await trellis(asPayments, 'POST', '/_trellis/instances', {
      vpcId: paymentVpc,
      address: input.payment.address,
    })) as { instanceId: string };
    say(`EC2 instance ${instance.instanceId} at ${input.payment.address} (Payment)`);
    const alb = (await trellis(input, 'POST', '/_trellis/loadbalancers', {
      name: 'delivery-alb',
      vpcId: deliveryVpc,
      address: input.alb.address,
    })) as { loadBalancerArn: string };
    say(`ALB delivery-alb at ${input.alb.address} (Delivery)`);
    // ---- end of the TRELLIS-SPECIFIC part: from here on, plain AWS SDK -----------------------

    // 1. The Order function's execution role, allowed to invoke Lattice services.
    const role = await iam.send(
      new CreateRoleCommand({
        RoleName: ORDER_ROLE,
        AssumeRolePolicyDocument: doc([
          {
            Effect: 'Allow',
            Principal: { Service: 'lambda.amazonaws.com' },
            Action: 'sts:AssumeRole',
          },
          // So that people of the account can try calls as the role (`trellis curl --role`).
          {
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${accountId}:root` },
            Action: 'sts:AssumeRole',
          },
        ]),
      }),
    );
    const roleArn = role.Role!.Arn!;
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: ORDER_ROLE,
        PolicyName: 'invoke-lattice-services',
        PolicyDocument: doc([
          { Effect: 'Allow', Action: 'vpc-lattice-svcs:Invoke', Resource: '*' },
        ]),
      }),
    );
    say(`IAM role ${ORDER_ROLE} (${roleArn})`);

    // 2. The service network: IAM auth, "Allow only authenticated access".
    const sn = await lattice.send(
      new CreateServiceNetworkCommand({ name: 'ecommerce', authType: 'AWS_IAM' }),
    );
    await lattice.send(
      new PutAuthPolicyCommand({
        resourceIdentifier: sn.id,
        policy: doc([
          {
            Effect: 'Allow',
            Principal: '*',
            Action: 'vpc-lattice-svcs:Invoke',
            Resource: '*',
            Condition: { StringNotEqualsIgnoreCase: { 'aws:PrincipalType': 'anonymous' } },
          },
        ]),
      }),
    );
    await lattice.send(
      new CreateServiceNetworkVpcAssociationCommand({
        serviceNetworkIdentifier: sn.id,
        vpcIdentifier: ordersVpc.vpcId,
      }),
    );
    say(`service network ecommerce ${sn.id} (AWS_IAM, authenticated callers only)`);
    say(`  associated with VPC ${ordersVpc.vpcId}; clients there reach its services`);

    const healthCheck: HealthCheckConfig = {
      enabled: true,
      path: '/health',
      healthCheckIntervalSeconds: 5,
      healthyThresholdCount: 2,
    };
    const service = async (
      name: string,
      extra: { customDomainName?: string; certificateArn?: string } = {},
    ) => {
      const s = await lattice.send(
        new CreateServiceCommand({
          name,
          authType: name === 'order' ? 'NONE' : 'AWS_IAM',
          ...extra,
        }),
      );
      await lattice.send(
        new CreateServiceNetworkServiceAssociationCommand({
          serviceNetworkIdentifier: sn.id,
          serviceIdentifier: s.id,
        }),
      );
      const host = extra.customDomainName ?? s.dnsEntry!.domainName!;
      say(`service ${name} ${s.id} → ${host}`);
      return { id: s.id!, arn: s.arn!, host };
    };

    // 3. Inventory: IP target group, IPv6 target.
    const inventory = await service('inventory');
    const inventoryTg = await lattice.send(
      new CreateTargetGroupCommand({
        name: 'inventory-ipv6',
        type: 'IP',
        config: {
          port: input.inventory.port,
          protocol: 'HTTP',
          ipAddressType: 'IPV6',
          vpcIdentifier: inventoryVpc,
          healthCheck,
        },
      }),
    );
    await lattice.send(
      new RegisterTargetsCommand({
        targetGroupIdentifier: inventoryTg.id,
        targets: [{ id: input.inventory.address }],
      }),
    );
    await lattice.send(
      new CreateListenerCommand({
        serviceIdentifier: inventory.id,
        name: 'http',
        protocol: 'HTTP',
        port,
        defaultAction: { forward: { targetGroups: [{ targetGroupIdentifier: inventoryTg.id }] } },
      }),
    );
    say(`  target group inventory-ipv6: IP, IPV6, target [${input.inventory.address}]`);

    // 4. Delivery: the ALB as target — one group per ALB listener (v1, v2) — and a weighted rule.
    const delivery = await service('delivery');
    const albGroup = async (name: string, albPort: number) => {
      const tg = await lattice.send(
        new CreateTargetGroupCommand({
          name,
          type: 'ALB',
          config: {
            port: albPort,
            protocol: 'HTTP',
            protocolVersion: 'HTTP1',
            vpcIdentifier: deliveryVpc,
          },
        }),
      );
      await lattice.send(
        new RegisterTargetsCommand({
          targetGroupIdentifier: tg.id,
          targets: [{ id: alb.loadBalancerArn, port: albPort }],
        }),
      );
      return { id: tg.id!, arn: tg.arn! };
    };
    const deliveryV1 = await albGroup('delivery-v1', input.alb.v1Port);
    const deliveryV2 = await albGroup('delivery-v2', input.alb.v2Port);
    const listener = await lattice.send(
      new CreateListenerCommand({
        serviceIdentifier: delivery.id,
        name: 'http',
        protocol: 'HTTP',
        port,
        defaultAction: { fixedResponse: { statusCode: 404 } },
      }),
    );
    await lattice.send(
      new CreateRuleCommand({
        serviceIdentifier: delivery.id,
        listenerIdentifier: listener.id,
        name: 'delivery-canary',
        priority: 10,
        match: { httpMatch: { pathMatch: { match: { prefix: '/delivery' } } } },
        action: {
          forward: {
            targetGroups: [
              { targetGroupIdentifier: deliveryV1.id, weight: CANARY_WEIGHTS.v1 },
              { targetGroupIdentifier: deliveryV2.id, weight: CANARY_WEIGHTS.v2 },
            ],
          },
        },
      }),
    );
    say(
      `  rule delivery-canary: /delivery* → delivery-v1 ${CANARY_WEIGHTS.v1}% / delivery-v2 ${CANARY_WEIGHTS.v2}% (ALB targets)`,
    );

    // 5. Payment, set up by the payments team in their account: an EC2 instance, HTTPS on a
    // custom domain with its own certificate. On AWS the certificate is imported into ACM or
    // requested and validated by DNS; Trellis issues it from its local CA. Where the endpoint has
    // no ACM, Payment stays on HTTP (and says why).
    const paymentsClient = { ...client, credentials: asPayments.credentials };
    const paymentsLattice = new VPCLatticeClient(paymentsClient);
    const paymentsAcm = new ACMClient(paymentsClient);
    more.push(paymentsLattice, paymentsAcm);
    let certificateArn: string | undefined;
    let paymentHttpReason: string | undefined;
    try {
      const cert = await paymentsAcm.send(
        new RequestCertificateCommand({ DomainName: PAYMENT_DOMAIN }),
      );
      certificateArn = cert.CertificateArn!;
      say(`ACM certificate for ${PAYMENT_DOMAIN} (${certificateArn})`);
    } catch (err) {
      paymentHttpReason = `no ACM certificate (${(err as Error).name}: ${(err as Error).message})`;
      say(`${paymentHttpReason}: Payment listens on HTTP`);
    }
    const paymentSvc = await paymentsLattice.send(
      new CreateServiceCommand({
        name: 'payment',
        authType: 'AWS_IAM',
        customDomainName: PAYMENT_DOMAIN,
        ...(certificateArn ? { certificateArn } : {}),
      }),
    );
    const payment = { id: paymentSvc.id!, arn: paymentSvc.arn!, host: PAYMENT_DOMAIN };
    say(`service payment ${payment.id} → ${PAYMENT_DOMAIN} (account ${payments.accountId})`);
    const paymentTg = await paymentsLattice.send(
      new CreateTargetGroupCommand({
        name: 'payment',
        type: 'INSTANCE',
        config: {
          port: input.payment.port,
          protocol: 'HTTP',
          vpcIdentifier: paymentVpc,
          healthCheck,
        },
      }),
    );
    await paymentsLattice.send(
      new RegisterTargetsCommand({
        targetGroupIdentifier: paymentTg.id,
        targets: [{ id: instance.instanceId }],
      }),
    );
    const paymentPort = certificateArn ? input.httpsPort : port;
    await paymentsLattice.send(
      new CreateListenerCommand({
        serviceIdentifier: payment.id,
        name: certificateArn ? 'https' : 'http',
        protocol: certificateArn ? 'HTTPS' : 'HTTP',
        port: paymentPort,
        defaultAction: { forward: { targetGroups: [{ targetGroupIdentifier: paymentTg.id }] } },
      }),
    );
    const paymentUrl = `${certificateArn ? 'https' : 'http'}://${payment.host}:${paymentPort}`;
    say(`  target group payment: INSTANCE ${instance.instanceId}; listener ${paymentUrl}`);
    // The payments team shares the service with the shop's account (a resource policy; on AWS
    // usually an AWS RAM share), and the shop associates it with its network, by ARN.
    await paymentsLattice.send(
      new PutResourcePolicyCommand({
        resourceArn: payment.arn,
        policy: doc([
          {
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${accountId}:root` },
            Action: 'vpc-lattice:CreateServiceNetworkServiceAssociation',
            Resource: payment.arn,
          },
        ]),
      }),
    );
    await lattice.send(
      new CreateServiceNetworkServiceAssociationCommand({
        serviceNetworkIdentifier: sn.id,
        serviceIdentifier: payment.arn,
      }),
    );
    say(`  shared with account ${accountId} (resource policy) and associated with ecommerce`);

    // 6. The announcement's auth policy: Order may GET /stock on Inventory and call anything
    // under /delivery on Delivery. (The post's Resource ".../delivery" matches that one path
    // only; "anything under" needs the wildcard.) Payment lets Order POST /pay.
    const allowOrder = (resource: string, method?: string) => ({
      Effect: 'Allow',
      Principal: { AWS: roleArn },
      Action: 'vpc-lattice-svcs:Invoke',
      Resource: resource,
      ...(method
        ? { Condition: { StringEquals: { 'vpc-lattice-svcs:RequestMethod': method } } }
        : {}),
    });
    const policies: [string, object[]][] = [
      [inventory.id, [allowOrder(`${inventory.arn}/stock`, 'GET')]],
      [delivery.id, [allowOrder(`${delivery.arn}/delivery*`)]],
    ];
    for (const [resourceIdentifier, statements] of policies)
      await lattice.send(new PutAuthPolicyCommand({ resourceIdentifier, policy: doc(statements) }));
    // Payment's owner writes Payment's policy: the shop's Order role may POST /pay.
    await paymentsLattice.send(
      new PutAuthPolicyCommand({
        resourceIdentifier: payment.id,
        policy: doc([allowOrder(`${payment.arn}/pay`, 'POST')]),
      }),
    );
    say(
      'auth policies: Order may GET /stock (Inventory), * /delivery* (Delivery), POST /pay (Payment)',
    );

    // 7. Access logs of the whole network to a CloudWatch Logs log group.
    const logGroupArn = `arn:aws:logs:${input.region}:${accountId}:log-group:${input.logGroupName}`;
    await lattice.send(
      new CreateAccessLogSubscriptionCommand({
        resourceIdentifier: sn.id,
        destinationArn: logGroupArn,
      }),
    );
    say(`access logs → ${input.logGroupName}`);

    // 8. The Order function, and a service in front of it (LAMBDA target group).
    const order = await service('order');
    const functionName = 'order';
    const fn = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: functionName,
        Runtime: 'nodejs20.x',
        Handler: 'index.handler',
        Role: roleArn,
        Timeout: 30,
        // Trellis extension: code from a local folder (on AWS: a zip, or an S3 object).
        Code: { S3Bucket: 'trellis-local', S3Key: input.orderCodeDir },
        Environment: {
          Variables: {
            INVENTORY_URL: `http://${inventory.host}:${port}`,
            DELIVERY_URL: `http://${delivery.host}:${port}`,
            PAYMENT_URL: paymentUrl,
            LATTICE_INGRESS: input.ingress,
            ...(certificateArn && input.caFile ? { LATTICE_CA_FILE: input.caFile } : {}),
          },
        },
      }),
    );
    say(`Lambda function ${functionName} (role ${ORDER_ROLE})`);
    const orderTg = await lattice.send(
      new CreateTargetGroupCommand({
        name: 'order-function',
        type: 'LAMBDA',
        config: { lambdaEventStructureVersion: 'V2' },
      }),
    );
    await lattice.send(
      new RegisterTargetsCommand({
        targetGroupIdentifier: orderTg.id,
        targets: [{ id: fn.FunctionArn! }],
      }),
    );
    // Created last: once the data plane serves it, it serves everything above (one snapshot).
    await lattice.send(
      new CreateListenerCommand({
        serviceIdentifier: order.id,
        name: 'http',
        protocol: 'HTTP',
        port,
        defaultAction: { forward: { targetGroups: [{ targetGroupIdentifier: orderTg.id }] } },
      }),
    );
    say('  target group order-function: LAMBDA (V2 events)');

    return {
      accountId,
      paymentsAccountId: payments.accountId,
      serviceNetwork: { id: sn.id!, arn: sn.arn! },
      vpcs: {
        orders: ordersVpc.vpcId,
        inventory: inventoryVpc,
        delivery: deliveryVpc,
        payment: paymentVpc,
      },
      roleArn,
      functionArn: fn.FunctionArn!,
      functionName,
      services: { order, inventory, delivery, payment },
      targetGroups: {
        inventory: { id: inventoryTg.id!, arn: inventoryTg.arn! },
        deliveryV1,
        deliveryV2,
        payment: { id: paymentTg.id!, arn: paymentTg.arn! },
        order: { id: orderTg.id!, arn: orderTg.arn! },
      },
      instanceId: instance.instanceId,
      loadBalancerArn: alb.loadBalancerArn,
      canaryWeights: { ...CANARY_WEIGHTS },
      deliveryListenerId: listener.id!,
      logGroupArn,
      paymentDomain: PAYMENT_DOMAIN,
      paymentUrl,
      ...(certificateArn ? { certificateArn } : {}),
      ...(paymentHttpReason ? { paymentHttpReason } : {}),
    };
  } finally {
    lattice.destroy();
    iam.destroy();
    lambda.destroy();
    acm.destroy();
    for (const c of more) c.destroy();
  }
}

/**
 * TRELLIS-SPECIFIC: a call to Trellis's own API (`/_trellis/…`: inventory, auth simulation),
 * SigV4-signed like the SDK signs Lattice calls. Throws on an error status.
 */
export async function trellis(
  input: Pick<EcommerceSetupInput, 'endpoint' | 'region' | 'credentials'>,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<unknown> {
  const url = new URL(path, input.endpoint);
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { host: url.host };
  if (text !== undefined) headers['content-type'] = 'application/json';
  const signer = new SignatureV4({
    service: 'vpc-lattice',
    region: input.region,
    credentials: input.credentials,
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers,
    body: text,
  });
  const res = await fetch(url, {
    method,
    headers: signed.headers as Record<string, string>,
    body: text,
  });
  const out = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${out}`);
  return out ? (JSON.parse(out) as unknown) : undefined;
}
