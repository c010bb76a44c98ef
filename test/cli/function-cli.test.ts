import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { registerCliCommands } from '../../src/cli/index.js';
import { buildZip } from '../functions/support/zip-writer.js';
import { startTrellis, type TrellisProcess } from '../support/trellis-process.js';
import { runCliInProcess } from './support/run-cli-in-process.js';
import { jsonOf, type CliRun } from './support/run-cli.js';

/**
 * `trellis function …` against a real `trellis up` (issue 6), run in this process like
 * cli-end-to-end.test.ts: local functions created from a folder and from a zip, listed, shown,
 * invoked (results, function errors, Event and DryRun) and deleted, and the usage errors.
 */
let trellis: TrellisProcess;
let scratch: string;
let codeDir: string;

before(async () => {
  trellis = await startTrellis({ env: { TRELLIS_STORE_SYNCHRONOUS: 'NORMAL' } });
  scratch = mkdtempSync(join(tmpdir(), 'trellis-function-cli-'));
  codeDir = join(scratch, 'code');
  mkdirSync(codeDir);
  writeFileSync(
    join(codeDir, 'index.mjs'),
    'export const handler = async (event, context) => ({ got: event, fn: context.functionName, stage: process.env.STAGE, greeting: process.env.GREETING });\n',
  );
  writeFileSync(
    join(codeDir, 'fail.mjs'),
    "export const handler = async () => { throw new RangeError('out of stock'); };\n",
  );
  writeFileSync(join(codeDir, 'text.mjs'), "export const handler = async () => 'plain';\n");
  writeFileSync(join(codeDir, 'broken.mjs'), 'export const handler = async () => { return {; };\n');
});
after(async () => {
  await trellis?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function cli(...args: string[]): Promise<CliRun> {
  return runCliInProcess([...args, '--data-dir', trellis.dataDir]);
}

function ok(run: CliRun): CliRun {
  assert.equal(run.code, 0, `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  return run;
}

function failsWith(run: CliRun, code: number, ...patterns: RegExp[]): void {
  assert.equal(run.code, code, `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  for (const p of patterns) assert.match(run.stderr, p);
}

interface Configuration {
  FunctionName: string;
  FunctionArn: string;
  Handler: string;
  Timeout: number;
  MemorySize: number;
  Environment?: { Variables: Record<string, string> };
}

describe('trellis function against trellis up', () => {
  it('create --dir with --env, --timeout and --memory; list, get and invoke it', async () => {
    const created = ok(
      await cli(
        'function',
        'create',
        '--name',
        'greeter',
        '--handler',
        'index.handler',
        '--dir',
        codeDir,
        '--env',
        'STAGE=dev',
        '--env',
        'GREETING=a=b,c',
        '--timeout',
        '5',
        '--memory',
        '256',
      ),
    );
    assert.match(created.stdout, /^FunctionName +greeter$/m);
    assert.match(
      created.stdout,
      new RegExp(
        `^FunctionArn +arn:aws:lambda:${trellis.region}:${trellis.accountId}:function:greeter$`,
        'm',
      ),
    );
    assert.match(created.stdout, /^Timeout +5$/m);
    assert.match(created.stdout, /^MemorySize +256$/m);

    const table = ok(await cli('function', 'list')).stdout;
    assert.match(table, /NAME[ │]+RUNTIME[ │]+HANDLER[ │]+TIMEOUT[ │]+MEMORY[ │]+ROLE/);
    assert.match(table, /greeter[ │]+nodejs20\.x[ │]+index\.handler[ │]+5[ │]+256[ │]/);
    const list = jsonOf<Configuration[]>(ok(await cli('function', 'list', '-o', 'json')));
    assert.deepEqual(list.find((f) => f.FunctionName === 'greeter')?.Environment?.Variables, {
      STAGE: 'dev',
      GREETING: 'a=b,c',
    });

    const got = jsonOf<{ Configuration: Configuration; Code: unknown }>(
      ok(await cli('function', 'get', 'greeter', '--output', 'json')),
    );
    assert.equal(got.Configuration.Handler, 'index.handler');
    assert.match(ok(await cli('function', 'get', 'greeter')).stdout, /^Handler +index\.handler$/m);

    const invoked = ok(await cli('function', 'invoke', 'greeter', '--payload', '{"item":"book"}'));
    assert.deepEqual(JSON.parse(invoked.stdout), {
      got: { item: 'book' },
      fn: 'greeter',
      stage: 'dev',
      greeting: 'a=b,c',
    });
    assert.match(invoked.stdout, /^ {2}"got": \{$/m, 'pretty-printed');

    const file = join(scratch, 'event.json');
    writeFileSync(file, '{"from":"file"}');
    const viaFile = jsonOf<{ StatusCode: number; FunctionError?: string; Payload: unknown }>(
      ok(await cli('function', 'invoke', 'greeter', '--payload', `@${file}`, '-o', 'json')),
    );
    assert.equal(viaFile.StatusCode, 200);
    assert.equal(viaFile.FunctionError, undefined);
    assert.deepEqual((viaFile.Payload as { got: unknown }).got, { from: 'file' });
  });

  it('create --zip; invoke without a payload; a non-object result prints as JSON text', async () => {
    const zip = join(scratch, 'code.zip');
    writeFileSync(
      zip,
      buildZip({ 'app/main.mjs': 'export const run = async (e) => ({ keys: Object.keys(e) });\n' }),
    );
    const created = jsonOf<Configuration & { CodeSize: number }>(
      ok(
        await cli(
          'function',
          'create',
          '--name',
          'zipped',
          '--handler',
          'app/main.run',
          '--zip',
          zip,
          '-o',
          'json',
        ),
      ),
    );
    assert.equal(created.FunctionName, 'zipped');
    assert.ok(created.CodeSize > 0);
    assert.deepEqual(JSON.parse(ok(await cli('function', 'invoke', 'zipped')).stdout), {
      keys: [],
    });

    ok(
      await cli(
        'function',
        'create',
        '--name',
        'texter',
        '--handler',
        'text.handler',
        '--dir',
        codeDir,
      ),
    );
    assert.equal(ok(await cli('function', 'invoke', 'texter')).stdout, '"plain"\n');
  });

  it('a function error prints the error payload, names it on stderr and exits 1', async () => {
    ok(
      await cli(
        'function',
        'create',
        '--name',
        'failing',
        '--handler',
        'fail.handler',
        '--dir',
        codeDir,
      ),
    );
    const run = await cli('function', 'invoke', 'failing');
    failsWith(
      run,
      1,
      /^trellis function invoke: function error \(Unhandled\): RangeError: out of stock$/m,
      /What to do: .*functions\/logs\/failing\.log/,
    );
    assert.equal((JSON.parse(run.stdout) as { errorType: string }).errorType, 'RangeError');

    const json = await cli('function', 'invoke', 'failing', '--output', 'json');
    assert.equal(json.code, 1);
    const out = JSON.parse(json.stdout) as {
      FunctionError: string;
      Payload: { errorMessage: string };
    };
    assert.equal(out.FunctionError, 'Unhandled');
    assert.equal(out.Payload.errorMessage, 'out of stock');
  });

  it('Event and DryRun invocations', async () => {
    assert.match(
      ok(await cli('function', 'invoke', 'greeter', '--invocation-type', 'Event')).stdout,
      /^Queued an invocation of greeter \(status 202\)\.$/m,
    );
    assert.match(
      ok(await cli('function', 'invoke', 'greeter', '--invocation-type', 'DryRun')).stdout,
      /^greeter can be invoked \(status 204\)\.$/m,
    );
  });

  it('API errors carry the exception and a hint', async () => {
    failsWith(
      await cli(
        'function',
        'create',
        '--name',
        'bad',
        '--handler',
        'broken.handler',
        '--dir',
        codeDir,
      ),
      1,
      /^trellis function create: InvalidParameterValueException: .*SyntaxError/m,
      /What to do: The handler module did not load/,
    );
    failsWith(
      await cli(
        'function',
        'create',
        '--name',
        'greeter',
        '--handler',
        'index.handler',
        '--dir',
        codeDir,
      ),
      1,
      /ResourceConflictException/,
      /What to do: A function with that name exists/,
    );
    failsWith(
      await cli('function', 'get', 'nope'),
      1,
      /^trellis function get: ResourceNotFoundException: /m,
      /What to do: .*trellis function list/,
    );
    failsWith(await cli('function', 'invoke', 'nope'), 1, /ResourceNotFoundException/);
  });

  it('delete: a sentence, then the function is gone', async () => {
    assert.equal(
      ok(await cli('function', 'delete', 'zipped')).stdout,
      'Deleted function zipped.\n',
    );
    failsWith(await cli('function', 'get', 'zipped'), 1, /ResourceNotFoundException/);
    assert.deepEqual(
      jsonOf<{ FunctionName: string }>(ok(await cli('function', 'delete', 'texter', '-o', 'json'))),
      { FunctionName: 'texter' },
    );
  });
});

describe('trellis function usage errors (exit 2, before any call)', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'neither --dir nor --zip',
      ['create', '--name', 'x', '--handler', 'i.h'],
      /exactly one of --dir and --zip/,
    ],
    [
      'both --dir and --zip',
      ['create', '--name', 'x', '--handler', 'i.h', '--dir', '.', '--zip', 'a.zip'],
      /exactly one of --dir and --zip/,
    ],
    [
      'a missing folder',
      ['create', '--name', 'x', '--handler', 'i.h', '--dir', '/no/such/dir'],
      /is not a folder/,
    ],
    [
      'an unreadable zip',
      ['create', '--name', 'x', '--handler', 'i.h', '--zip', '/no/such.zip'],
      /cannot read --zip/,
    ],
    [
      'a bad --env',
      ['create', '--name', 'x', '--handler', 'i.h', '--dir', '.', '--env', 'novalue'],
      /KEY=value/,
    ],
    [
      '--timeout out of range',
      ['create', '--name', 'x', '--handler', 'i.h', '--dir', '.', '--timeout', '901'],
      /1 to 900/,
    ],
    [
      '--memory out of range',
      ['create', '--name', 'x', '--handler', 'i.h', '--dir', '.', '--memory', '64'],
      /128 to 10240/,
    ],
    ['a payload that is not JSON', ['invoke', 'x', '--payload', '{nope'], /not valid JSON/],
    ['an unreadable payload file', ['invoke', 'x', '--payload', '@/no/such.json'], /cannot read/],
    [
      'an unknown invocation type',
      ['invoke', 'x', '--invocation-type', 'Later'],
      /Allowed choices/,
    ],
  ];
  for (const [what, args, pattern] of cases) {
    it(what, async () => {
      // No endpoint at all: a usage error must be reported before the endpoint is looked up.
      const run = await runCliInProcess(['function', ...args], {
        TRELLIS_DATA_DIR: '/nonexistent',
      });
      failsWith(run, 2, pattern);
    });
  }

  it('--help of every verb shows an example and the client flags', () => {
    const program = new Command('trellis');
    registerCliCommands(program);
    const group = program.commands.find((c) => c.name() === 'function')!;
    assert.deepEqual(
      group.commands.map((c) => c.name()),
      ['create', 'list', 'get', 'delete', 'invoke'],
    );
    for (const sub of group.commands) {
      let text = '';
      sub.configureOutput({ writeOut: (s) => (text += s) });
      sub.outputHelp();
      assert.match(text, new RegExp(`Examples?:\\n  \\$ trellis function ${sub.name()}`), text);
      for (const flag of ['--output <format>', '--endpoint <url>', '--data-dir <dir>'])
        assert.ok(text.includes(flag), `${sub.name()} lacks ${flag}`);
    }
  });
});
