import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FunctionDefinition } from '../model/function-types.js';
import { createFunctionRunner, type FunctionRunner } from './function-runner.js';

const dir = mkdtempSync(join(tmpdir(), 'trellis-fn-'));
const code = join(dir, 'code');
const coldStarts: number[] = [];
let runner: FunctionRunner;

const HANDLERS: Record<string, string> = {
  'ok.mjs': `export const handler = async (event, context) => { console.log('got', event.n); return { n: event.n + 1, id: context.awsRequestId, left: context.getRemainingTimeInMillis() > 0 }; };`,
  'env.mjs': `export const handler = async () => ({ key: process.env.AWS_ACCESS_KEY_ID ?? null, token: process.env.AWS_SESSION_TOKEN ?? null, region: process.env.AWS_REGION, mine: process.env.MINE, endpoint: process.env.AWS_ENDPOINT_URL ?? null });`,
  'callback.cjs': `exports.handler = (event, context, cb) => { setTimeout(() => cb(null, { cb: true }), 5); };`,
  'typed.ts': `export const handler = async (e: { n: number }): Promise<{ doubled: number }> => ({ doubled: e.n * 2 });`,
  'shapes.ts': `export interface Shape { sides: number }\nexport const square: Shape = { sides: 4 };`,
  'composed.ts': `import { square, type Shape } from './shapes';\nimport { greet } from 'greeter';\nexport const handler = async (): Promise<Shape & { hi: string; url: boolean }> => ({ ...square, hi: greet('ts'), url: import.meta.url.startsWith('file:') });`,
  'node_modules/greeter/package.json': `{ "name": "greeter", "main": "index.js" }`,
  'node_modules/greeter/index.js': `exports.greet = (n) => 'hello ' + n;`,
  'badtyped.ts': `export const handler = async (): Promise<number> => { return {; };`,
  'throws.mjs': `export const handler = async () => { const e = new TypeError('bad thing'); throw e; };`,
  'hangs.mjs': `export const handler = () => new Promise(() => {});`,
  'loops.mjs': `export const handler = () => { for (;;) {} };`,
  'exits.mjs': `export const handler = () => { process.exit(3); };`,
  'oom.mjs': `export const handler = () => { const a = []; for (;;) a.push(new Array(1e5).fill('x' + a.length)); };`,
  'scalar.mjs': `export const handler = async () => 42;`,
  'circular.mjs': `export const handler = async () => { const o = {}; o.o = o; return o; };`,
  'syntax.mjs': `export const handler = async () => { return {; };`,
  'noexport.mjs': `export const other = 1;`,
  'toplevel.mjs': `throw new Error('init failed');`,
};

function def(
  name: string,
  handler: string,
  extra: Partial<FunctionDefinition> = {},
): FunctionDefinition {
  return {
    functionName: name,
    functionArn: `arn:aws:lambda:us-east-1:111122223333:function:${name}`,
    handler,
    codeDir: code,
    timeoutSeconds: 1,
    memorySizeMb: 64,
    environment: {},
    concurrency: 2,
    ...extra,
  };
}

before(async () => {
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(code, 'node_modules', 'greeter'), { recursive: true });
  for (const [f, text] of Object.entries(HANDLERS)) writeFileSync(join(code, f), text);
  runner = createFunctionRunner({
    dataDir: dir,
    region: 'eu-west-1',
    endpointUrl: () => 'http://127.0.0.1:1',
    credentials: async (roleArn, session) => ({
      accessKeyId: `ASIA${session.toUpperCase().replace(/[^A-Z]/g, '')}`,
      secretAccessKey: 'secret',
      sessionToken: `token-for-${roleArn}`,
      expiration: new Date(Date.now() + 3600_000).toISOString(),
    }),
    logger: { info: (_m, f) => coldStarts.push(Number(f?.initDurationMs)), warn: () => undefined },
  });
  await runner.start();
});
after(async () => {
  await runner.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a handler runs warm: one worker reused, output logged with the request id', async () => {
  assert.deepEqual(await runner.deploy(def('ok', 'ok.handler')), { ok: true });
  for (let i = 0; i < 5; i++) {
    const r = await runner.invoke('ok', JSON.stringify({ n: i }), { requestId: `req-${i}` });
    assert.deepEqual(r, {
      status: 'ok',
      payload: JSON.stringify({ n: i + 1, id: `req-${i}`, left: true }),
    });
  }
  assert.equal(runner.workerCount('ok'), 1);
  await new Promise((r) => setTimeout(r, 50));
  const log = readFileSync(runner.logFile('ok'), 'utf8');
  assert.match(log, /INIT_START .*Init Duration: [\d.]+ ms/);
  assert.match(log, /\treq-3\tINFO\tgot 3\n/);
  assert.match(log, /REPORT RequestId: req-4\tDuration/);
  assert.ok(coldStarts.length >= 1 && coldStarts[0]! > 0);
});

test('the ARN resolves to the function; callback style and TypeScript handlers work', async () => {
  await runner.deploy(def('cb', 'callback.handler'));
  assert.deepEqual(await runner.invoke('arn:aws:lambda:us-east-1:111122223333:function:cb', '{}'), {
    status: 'ok',
    payload: '{"cb":true}',
  });
  assert.deepEqual(await runner.deploy(def('typed', 'typed.handler')), { ok: true });
  assert.deepEqual(await runner.invoke('typed', '{"n":21}'), {
    status: 'ok',
    payload: '{"doubled":42}',
  });
});

test('a TypeScript handler is built once: its local modules bundled, its packages from node_modules', async () => {
  assert.deepEqual(await runner.deploy(def('composed', 'composed.handler')), { ok: true });
  assert.deepEqual(await runner.invoke('composed', '{}'), {
    status: 'ok',
    payload: '{"sides":4,"hi":"hello ts","url":true}',
  });
  // The workers import the built JavaScript, kept with the function's own packages.
  const { readdirSync } = await import('node:fs');
  const built = readdirSync(join(code, 'node_modules', '.cache', 'trellis'));
  assert.ok(
    built.some((f) => f.startsWith('composed-') && f.endsWith('.mjs')),
    String(built),
  );
});

test('a TypeScript handler that only is registered is built on its first invocation', async () => {
  runner.register(def('lazy-typed', 'typed.handler'));
  const results = await Promise.all([
    runner.invoke('lazy-typed', '{"n":1}'),
    runner.invoke('lazy-typed', '{"n":2}'),
  ]);
  assert.deepEqual(
    results.map((r) => r.status === 'ok' && r.payload),
    ['{"doubled":2}', '{"doubled":4}'],
  );
  assert.ok(runner.workerCount('lazy-typed') >= 1);
});

test('a TypeScript syntax error is reported at deploy as the Lambda runtime reports it', async () => {
  const r = await runner.deploy(def('badtyped', 'badtyped.handler'));
  assert.equal(r.ok, false);
  assert.match(
    (r as { errorType: string }).errorType,
    /^Runtime\.(UserCodeSyntaxError|ImportModuleError)$/,
  );
});

test('the execution role reaches the handler as AWS_* variables', async () => {
  await runner.deploy(
    def('env', 'env.handler', {
      role: 'arn:aws:iam::111122223333:role/r',
      environment: { MINE: 'yes' },
    }),
  );
  const r = await runner.invoke('env', '{}');
  assert.equal(r.status, 'ok');
  assert.deepEqual(JSON.parse((r as { payload: string }).payload), {
    key: 'ASIAENV',
    token: 'token-for-arn:aws:iam::111122223333:role/r',
    region: 'eu-west-1',
    mine: 'yes',
    endpoint: 'http://127.0.0.1:1',
  });
});

test('a function that is not there is not-found', async () => {
  assert.equal((await runner.invoke('nope', '{}')).status, 'not-found');
});

const BAD: { name: string; handler: string; errorType: RegExp }[] = [
  { name: 'throws', handler: 'throws.handler', errorType: /^TypeError$/ },
  { name: 'hangs', handler: 'hangs.handler', errorType: /^Sandbox\.Timedout$/ },
  { name: 'loops', handler: 'loops.handler', errorType: /^Sandbox\.Timedout$/ },
  { name: 'exits', handler: 'exits.handler', errorType: /^Runtime\.ExitError$/ },
  { name: 'oom', handler: 'oom.handler', errorType: /^(Runtime\.OutOfMemory|Sandbox\.Timedout)$/ },
  { name: 'circular', handler: 'circular.handler', errorType: /^Runtime\.MarshalError$/ },
];

for (const bad of BAD) {
  test(`a handler that ${bad.name}: a typed function error, the worker replaced, others serve`, async () => {
    await runner.deploy(
      def(bad.name, bad.handler, { timeoutSeconds: bad.name === 'oom' ? 20 : 1 }),
    );
    const r = await runner.invoke(bad.name, '{}');
    assert.equal(r.status, 'function-error', JSON.stringify(r));
    const { errorType, errorMessage } = JSON.parse((r as { payload: string }).payload) as Record<
      string,
      string
    >;
    assert.match(errorType!, bad.errorType);
    assert.equal(typeof errorMessage, 'string');
    // Others keep serving, and the bad function gets a fresh worker next time.
    assert.equal((await runner.invoke('ok', '{"n":1}')).status, 'ok');
    assert.equal((await runner.invoke(bad.name, '{}')).status, 'function-error');
  });
}

test('a non-object result is returned as its JSON (the data plane decides it is malformed)', async () => {
  await runner.deploy(def('scalar', 'scalar.handler'));
  assert.deepEqual(await runner.invoke('scalar', '{}'), { status: 'ok', payload: '42' });
});

const LOAD_FAILURES: { handler: string; errorType: string; message: RegExp }[] = [
  { handler: 'syntax.handler', errorType: 'Runtime.UserCodeSyntaxError', message: /SyntaxError/ },
  {
    handler: 'missing.handler',
    errorType: 'Runtime.ImportModuleError',
    message: /Cannot find module 'missing'/,
  },
  {
    handler: 'noexport.handler',
    errorType: 'Runtime.HandlerNotFound',
    message: /noexport.handler is undefined/,
  },
  { handler: 'toplevel.handler', errorType: 'Runtime.ImportModuleError', message: /init failed/ },
  { handler: 'nodot', errorType: 'Runtime.MalformedHandlerName', message: /file.export/ },
  { handler: '../../etc/passwd.x', errorType: 'Runtime.MalformedHandlerName', message: /outside/ },
];
for (const f of LOAD_FAILURES) {
  test(`a module that fails to load (${f.handler}) is reported at deploy with the loader's error`, async () => {
    const r = await runner.deploy(def('broken', f.handler));
    assert.equal(r.ok, false);
    assert.equal((r as { errorType: string }).errorType, f.errorType);
    assert.match((r as { errorMessage: string }).errorMessage, f.message);
  });
}

test('concurrent invocations use up to `concurrency` workers and queue the rest', async () => {
  await runner.deploy(def('par', 'callback.handler', { concurrency: 3 }));
  const results = await Promise.all(Array.from({ length: 12 }, () => runner.invoke('par', '{}')));
  assert.ok(results.every((r) => r.status === 'ok'));
  assert.ok(runner.workerCount('par') <= 3 && runner.workerCount('par') >= 1);
});
