import { ValidationException } from '../errors/aws-errors.js';

/** Settings of the local function runner (issue 6). */
export interface FunctionSettings {
  /**
   * Function name or ARN → external Lambda Invoke-API endpoint (e.g. `sam local start-lambda` at
   * `http://127.0.0.1:3001`). Env `TRELLIS_FUNCTION_ENDPOINTS="name=url,arn:…:function:x=url"`.
   */
  readonly externalEndpoints: Readonly<Record<string, string>>;
  /** Workers per local function. Env `TRELLIS_FUNCTION_CONCURRENCY`; default min(4, CPUs). */
  readonly concurrency: number | undefined;
}

/** Reads the function settings from environment variables (only `config/` reads them). */
export function functionSettingsFromEnv(env: Record<string, string | undefined>): FunctionSettings {
  const externalEndpoints: Record<string, string> = {};
  for (const entry of (env.TRELLIS_FUNCTION_ENDPOINTS ?? '').split(',')) {
    const item = entry.trim();
    if (item === '') continue;
    const eq = item.lastIndexOf('=');
    const key = item.slice(0, eq).trim();
    const url = item.slice(eq + 1).trim();
    if (eq <= 0 || !/^https?:\/\/[^/]+/.test(url))
      throw ValidationException.fromFields([
        {
          name: 'TRELLIS_FUNCTION_ENDPOINTS',
          message: `expected name-or-arn=http://host:port, got "${item}"`,
        },
      ]);
    externalEndpoints[key] = url;
  }
  const raw = env.TRELLIS_FUNCTION_CONCURRENCY;
  let concurrency: number | undefined;
  if (raw !== undefined && raw !== '') {
    concurrency = Number(raw);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024)
      throw ValidationException.fromFields([
        { name: 'TRELLIS_FUNCTION_CONCURRENCY', message: 'must be an integer from 1 to 1024' },
      ]);
  }
  return Object.freeze({ externalEndpoints: Object.freeze(externalEndpoints), concurrency });
}
