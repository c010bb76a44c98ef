/** The data plane's path normalisation; it lives in model/ so `SimulateAuth` applies the same rule. */
export { normalizeRequestPath, normalizeRequestTarget } from '../model/request-path.js';
