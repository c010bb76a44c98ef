/**
 * The text-format parser `/metrics` is checked with (and `trellis top` reads with) against the
 * exposition-format rules, the quantile estimate `trellis top` shows, and `topRows`, the
 * difference of two scrapes that makes a `trellis top` window.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { topRows } from '../../src/cli/top-commands.js';
import { histogramQuantile, parsePrometheusText } from '../../src/model/prometheus-text.js';

describe('parsePrometheusText', () => {
  test('samples, labels with escapes, special values in any case, timestamps', () => {
    const e = parsePrometheusText(
      [
        '# HELP a_total Some help with \\\\ and \\n',
        '# TYPE a_total counter',
        'a_total{path="/x\\"y\\\\z\\n",code="200"} 3 1700000000000',
        'a_total{path="/",code="500"} 1e3',
        '# a plain comment',
        'lag Nan',
        'up +Inf',
        'down -inf',
        '',
      ].join('\n'),
    );
    assert.equal(e.types.get('a_total'), 'counter');
    assert.equal(e.value('a_total', { path: '/x"y\\z\n' }), 3);
    assert.equal(e.value('a_total', { code: '500' }), 1000);
    assert.ok(Number.isNaN(e.value('lag')));
    assert.equal(e.value('up'), Infinity);
    assert.equal(e.value('down'), -Infinity);
    assert.throws(() => e.value('a_total'), /2 samples/);
  });

  test('rejects what the format does not allow', () => {
    for (const bad of [
      'x{a="1"',
      'x{a=1} 1',
      'x{1a="1"} 1',
      'x{a="1",a="2"} 1',
      'x{a="\\t"} 1',
      'x 1 2 3',
      'x one',
      'x 1 12.5',
      '# TYPE x thing',
      'x 1\n# TYPE x counter',
      '# TYPE x counter\n# TYPE x gauge',
    ])
      assert.throws(() => parsePrometheusText(bad), Error, bad);
  });

  test('histograms must be cumulative up to +Inf = _count', () => {
    const h = (b: number[], count: number): string =>
      [
        '# TYPE t histogram',
        `t_bucket{s="a",le="1"} ${b[0]}`,
        `t_bucket{s="a",le="5"} ${b[1]}`,
        `t_bucket{s="a",le="+Inf"} ${b[2]}`,
        't_sum{s="a"} 10',
        `t_count{s="a"} ${count}`,
      ].join('\n');
    assert.equal(parsePrometheusText(h([1, 3, 4], 4)).value('t_count', { s: 'a' }), 4);
    assert.throws(() => parsePrometheusText(h([3, 1, 4], 4)), /cumulative/);
    assert.throws(() => parsePrometheusText(h([1, 3, 4], 5)), /_count/);
  });
});

describe('histogramQuantile', () => {
  test('interpolates inside the bucket, like PromQL histogram_quantile', () => {
    const b = [
      { le: 10, count: 50 },
      { le: 20, count: 100 },
      { le: Infinity, count: 100 },
    ];
    assert.equal(histogramQuantile(0.5, b), 10);
    assert.equal(histogramQuantile(0.75, b), 15);
    assert.equal(histogramQuantile(0.99, b), 19.8);
    assert.ok(Number.isNaN(histogramQuantile(0.99, [{ le: Infinity, count: 0 }])));
    // In the +Inf bucket: the highest finite bound.
    assert.equal(
      histogramQuantile(0.99, [
        { le: 5, count: 1 },
        { le: Infinity, count: 10 },
      ]),
      5,
    );
  });
});

describe('topRows', () => {
  const scrape = (total: number, c5xx: number, buckets: [string, number][]): string =>
    [
      '# TYPE trellis_lattice_service_total_request_count counter',
      `trellis_lattice_service_total_request_count{service="svc-1",service_network="sn-1"} ${total}`,
      '# TYPE trellis_lattice_service_httpcode_5xx_count counter',
      `trellis_lattice_service_httpcode_5xx_count{service="svc-1",service_network="sn-1"} ${c5xx}`,
      '# TYPE trellis_lattice_service_request_time histogram',
      ...buckets.map(
        ([le, n]) =>
          `trellis_lattice_service_request_time_bucket{service="svc-1",service_network="sn-1",le="${le}"} ${n}`,
      ),
      `trellis_lattice_service_request_time_count{service="svc-1",service_network="sn-1"} ${total}`,
    ].join('\n');
  const names = { services: new Map([['svc-1', 'orders']]), networks: new Map<string, string>() };

  test('rates and percentiles are of the window between two scrapes', () => {
    const before = parsePrometheusText(
      scrape(100, 0, [
        ['10', 100],
        ['100', 100],
        ['+Inf', 100],
      ]),
    );
    const after = parsePrometheusText(
      scrape(300, 20, [
        ['10', 100],
        ['100', 300],
        ['+Inf', 300],
      ]),
    );
    const [row] = topRows(before, after, 2, names);
    assert.deepEqual(row, {
      serviceId: 'svc-1',
      serviceName: 'orders',
      serviceNetworkId: 'sn-1',
      serviceNetworkName: '-',
      requests: 200,
      requestsPerSecond: 100,
      clientErrorRate: 0,
      serverErrorRate: 0.1,
      p50Ms: 55, // all 200 of the window are in (10, 100]: halfway
      p99Ms: 99.1,
    });
  });

  test('a counter that went down (restart) counts from zero', () => {
    const before = parsePrometheusText(
      scrape(500, 0, [
        ['10', 500],
        ['+Inf', 500],
      ]),
    );
    const after = parsePrometheusText(
      scrape(4, 0, [
        ['10', 4],
        ['+Inf', 4],
      ]),
    );
    assert.equal(topRows(before, after, 1, names)[0]!.requests, 4);
  });
});
