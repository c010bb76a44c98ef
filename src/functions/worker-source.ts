/**
 * The code of one function worker thread, run with `new Worker(WORKER_SOURCE, { eval: true })`.
 *
 * It is plain JavaScript kept as a string, on purpose: a worker evaluated from source needs no
 * TypeScript loader of its own, so a JavaScript handler's cold start is a bare thread start plus its
 * module's import (issue 6: cold start under 100 ms). A TypeScript handler is imported through
 * `tsx`'s `tsImport` in its worker (`workerData.tsxUrl`).
 *
 * Protocol (structured-clone messages):
 *   worker → parent  {t:'ready'} | {t:'load-error', errorType, errorMessage}
 *   parent → worker  {t:'invoke', id, event (JSON text), requestId, deadlineMs, env?}
 *   worker → parent  {t:'result', id, ok:true, payload} | {t:'result', id, ok:false, error}
 * Console output goes to the worker's stdout (piped to the function's log file by the parent) as
 * Lambda's tab-separated lines: time, request id, level, message.
 */
export const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { format } = require('node:util');
const d = workerData;
let requestId = '';
let handler;

function writeLine(level, args) {
  process.stdout.write(new Date().toISOString() + '\t' + (requestId || 'undefined') + '\t' + level + '\t' + format.apply(null, args) + '\n');
}
console.log = (...a) => writeLine('INFO', a);
console.info = (...a) => writeLine('INFO', a);
console.warn = (...a) => writeLine('WARN', a);
console.error = (...a) => writeLine('ERROR', a);
console.debug = (...a) => writeLine('DEBUG', a);
console.trace = (...a) => writeLine('TRACE', a);

function describe(e) {
  if (e instanceof Error) {
    return { errorType: e.name || 'Error', errorMessage: e.message, trace: String(e.stack || '').split('\n') };
  }
  const type = e === null ? 'null' : typeof e === 'object' && e.constructor ? e.constructor.name : typeof e;
  let message;
  try { message = typeof e === 'string' ? e : JSON.stringify(e); } catch { message = String(e); }
  return { errorType: type, errorMessage: String(message), trace: [] };
}

(async () => {
  try {
    let mod;
    if (d.tsxUrl) {
      const tsx = await import(d.tsxUrl);
      mod = await tsx.tsImport(d.moduleUrl, d.moduleUrl);
    } else mod = await import(d.moduleUrl);
    let fn = mod[d.exportName];
    if (fn === undefined && mod.default && typeof mod.default === 'object') fn = mod.default[d.exportName];
    if (typeof fn !== 'function') {
      parentPort.postMessage({ t: 'load-error', errorType: 'Runtime.HandlerNotFound', errorMessage: d.handler + ' is undefined or not exported' });
      return;
    }
    handler = fn;
    parentPort.postMessage({ t: 'ready' });
  } catch (e) {
    const info = describe(e);
    const type = e instanceof SyntaxError ? 'Runtime.UserCodeSyntaxError' : 'Runtime.ImportModuleError';
    parentPort.postMessage({ t: 'load-error', errorType: type, errorMessage: info.errorType + ': ' + info.errorMessage });
  }
})();

parentPort.on('message', (m) => {
  if (m.t !== 'invoke') return;
  if (m.env) Object.assign(process.env, m.env);
  requestId = m.requestId;
  let done = false;
  const finish = (err, value) => {
    if (done) return;
    done = true;
    requestId = '';
    if (err !== undefined && err !== null) {
      parentPort.postMessage({ t: 'result', id: m.id, ok: false, error: describe(err) });
      return;
    }
    let payload;
    try {
      payload = JSON.stringify(value === undefined ? null : value);
    } catch (e) {
      parentPort.postMessage({ t: 'result', id: m.id, ok: false, error: { errorType: 'Runtime.MarshalError', errorMessage: 'Unable to marshal response: ' + describe(e).errorMessage, trace: [] } });
      return;
    }
    parentPort.postMessage({ t: 'result', id: m.id, ok: true, payload });
  };
  const context = {
    functionName: d.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: d.functionArn,
    memoryLimitInMB: String(d.memorySizeMb),
    awsRequestId: m.requestId,
    logGroupName: '/aws/lambda/' + d.functionName,
    logStreamName: 'trellis/' + d.functionName,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, m.deadlineMs - Date.now()),
    done: (e, v) => finish(e, v),
    succeed: (v) => finish(null, v),
    fail: (e) => finish(e === undefined ? new Error('handled') : e),
  };
  try {
    const event = JSON.parse(m.event);
    const r = handler.length >= 3 ? handler(event, context, finish) : handler(event, context);
    if (r !== null && typeof r === 'object' && typeof r.then === 'function') {
      r.then((v) => finish(null, v), (e) => finish(e === undefined || e === null ? new Error('Promise rejected with ' + e) : e));
    } else if (handler.length < 3) {
      finish(null, r);
    }
  } catch (e) {
    finish(e);
  }
});
`;
