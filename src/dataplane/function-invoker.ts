import type { FunctionInvokeOptions, FunctionInvokeResult } from '../model/function-types.js';

/**
 * How the data plane calls a LAMBDA target's function (spec §3.3). The data plane owns this
 * interface; `bin/` wires it to the function runner (local worker pools or external Invoke-API
 * endpoints), which the data plane never imports (DESIGN.md rooms). `payload` is the event's JSON;
 * expected failures are result values, never throws.
 */
export interface FunctionInvoker {
  invoke(
    functionArn: string,
    payload: string,
    options?: FunctionInvokeOptions,
  ): Promise<FunctionInvokeResult>;
}
