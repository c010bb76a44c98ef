import { createHash, createHmac } from 'node:crypto';
import type { FunctionInvokeResult } from '../model/function-types.js';

/** Credentials the external endpoint's requests are signed with (SAM local accepts any). */
export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** RFC 3986 encoding of one path segment, as SigV4 canonical URIs want. */
function encodeSegment(s: string): string {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * Signs a request with SigV4 (service `lambda`): the headers to send. Small and synchronous on
 * purpose: one POST shape, no query string, payload hash included as Lambda expects.
 */
export function signLambdaRequest(
  url: URL,
  body: string,
  region: string,
  credentials: SigningCredentials,
  now = new Date(),
): Record<string, string> {
  const amzDate = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const date = amzDate.slice(0, 8);
  const payloadHash = createHash('sha256').update(body, 'utf8').digest('hex');
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    host: url.host,
    'x-amz-content-sha256': payloadHash,
    'x-amz-date': amzDate,
  };
  if (credentials.sessionToken !== undefined)
    headers['x-amz-security-token'] = credentials.sessionToken;
  const names = Object.keys(headers).sort();
  const canonical = [
    'POST',
    url.pathname,
    '',
    ...names.map((n) => `${n}:${headers[n]!.trim()}`),
    '',
    names.join(';'),
    payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/lambda/aws4_request`;
  const toSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    createHash('sha256').update(canonical, 'utf8').digest('hex'),
  ].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, date), region), 'lambda'),
    'aws4_request',
  );
  const signature = createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
  delete headers.host; // fetch sets it from the URL
  return headers;
}

/**
 * Invokes a function served by an external Lambda Invoke API (e.g. `sam local start-lambda`):
 * `POST {endpoint}/2015-03-31/functions/{name}/invocations`, SigV4-signed. Never throws.
 */
export async function invokeExternal(
  endpointUrl: string,
  functionName: string,
  payload: string,
  options: { region: string; credentials: SigningCredentials; timeoutMs: number },
): Promise<FunctionInvokeResult> {
  const base = endpointUrl.endsWith('/') ? endpointUrl.slice(0, -1) : endpointUrl;
  const url = new URL(`${base}/2015-03-31/functions/${encodeSegment(functionName)}/invocations`);
  const headers = signLambdaRequest(url, payload, options.region, options.credentials);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers,
      body: payload,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    if (e.name === 'TimeoutError')
      return {
        status: 'function-error',
        errorType: 'Sandbox.Timedout',
        payload: JSON.stringify({
          errorType: 'Sandbox.Timedout',
          errorMessage: `Task timed out after ${(options.timeoutMs / 1000).toFixed(2)} seconds`,
        }),
      };
    return {
      status: 'unavailable',
      message: `external function endpoint ${endpointUrl} unreachable: ${e.cause?.code ?? e.message}`,
    };
  }
  const text = await res.text().catch(() => '');
  if (res.status === 404)
    return { status: 'not-found', message: text || `${functionName} not found at ${endpointUrl}` };
  if (res.status === 429) return { status: 'unavailable', throttled: true, message: text };
  if (res.status < 200 || res.status > 299)
    return {
      status: 'unavailable',
      message: `external endpoint answered ${res.status}: ${text.slice(0, 200)}`,
    };
  const functionError = res.headers.get('x-amz-function-error');
  if (functionError !== null) {
    let errorType = functionError;
    try {
      const parsed = JSON.parse(text) as { errorType?: unknown };
      if (typeof parsed.errorType === 'string') errorType = parsed.errorType;
    } catch {
      // keep the header's value
    }
    return { status: 'function-error', errorType, payload: text };
  }
  return { status: 'ok', payload: text };
}
