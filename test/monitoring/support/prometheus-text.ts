/**
 * The tests read `/metrics` with the strict text-format parser of src/model/prometheus-text.ts
 * (no Prometheus parser library is installed: neither prom-client nor any other package in
 * node_modules parses the text format). test/monitoring/prometheus-text.test.ts checks that parser
 * against the exposition-format rules.
 */
export {
  parsePrometheusText,
  histogramQuantile,
  type PrometheusSample as Sample,
  type PrometheusExposition as Exposition,
} from '../../../src/model/prometheus-text.js';
