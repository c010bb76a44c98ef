/** `--dns-listen` / `--dns-upstream` (env TRELLIS_DNS_LISTEN / TRELLIS_DNS_UPSTREAM) parsing. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadSettings, settingsFromEnv } from '../../src/config/settings.js';

test('DNS settings: off by default, host:port, vpcs:port, upstream or refuse', () => {
  const d = loadSettings({});
  assert.deepEqual(d.dnsListen, { mode: 'off' });
  assert.equal(d.dnsUpstream, undefined);
  const table: [Record<string, string>, unknown, unknown][] = [
    [{ dnsListen: '127.0.0.1:0' }, { mode: 'address', host: '127.0.0.1', port: 0 }, undefined],
    [{ dnsListen: '[::1]:5353' }, { mode: 'address', host: '::1', port: 5353 }, undefined],
    [
      { dnsListen: 'vpcs:53', dnsUpstream: '192.0.2.53:53' },
      { mode: 'vpcs', port: 53 },
      { host: '192.0.2.53', port: 53 },
    ],
  ];
  for (const [input, listen, upstream] of table) {
    const s = loadSettings(input);
    assert.deepEqual(s.dnsListen, listen, JSON.stringify(input));
    assert.deepEqual(s.dnsUpstream, upstream, JSON.stringify(input));
  }
  assert.deepEqual(settingsFromEnv({ TRELLIS_DNS_LISTEN: 'vpcs:5300' }).dnsListen, 'vpcs:5300');
});

test('bad DNS settings name the field', () => {
  for (const [input, field] of [
    [{ dnsListen: 'vpcs:x' }, 'dnsListen'],
    [{ dnsListen: 'nowhere' }, 'dnsListen'],
    [{ dnsListen: '127.0.0.1:70000' }, 'dnsListen'],
    [{ dnsUpstream: '8.8.8.8' }, 'dnsUpstream'],
  ] as const) {
    assert.throws(
      () => loadSettings(input),
      (err: { fieldList?: { name: string }[] }) => err.fieldList?.[0]?.name === field,
      JSON.stringify(input),
    );
  }
});
