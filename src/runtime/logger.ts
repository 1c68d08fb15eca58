// The logging surface the runtime needs: pino's shape, received as a parameter (src/cmd builds the
// real pino logger), so the runtime never creates loggers or writes to stdout by itself.

/** A pino-compatible logger: `log.info({ key }, 'message')` or `log.info('message')`. */
export interface Logger {
  debug(objOrMsg: unknown, msg?: string): void;
  info(objOrMsg: unknown, msg?: string): void;
  warn(objOrMsg: unknown, msg?: string): void;
  error(objOrMsg: unknown, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** A logger that drops everything; the default when none is given. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};
