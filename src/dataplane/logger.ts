/** The minimal logger the data plane writes to; `bin/` passes pino or a console adapter. */
export interface DataPlaneLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A logger that drops everything (the default when none is given). */
export const silentLogger: DataPlaneLogger = Object.freeze({
  info() {},
  warn() {},
  error() {},
});
