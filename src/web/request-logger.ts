import type { FastifyBaseLogger, FastifyServerOptions } from "fastify";
import type { Bindings, ChildLoggerOptions, Level, Logger } from "pino";

/**
 * Fastify gives each request a child of the server's logger, bound to the request's id. pino builds
 * a child at once, and runs the redaction of every wildcard path over its bindings: about 1% of a
 * recovery start, for a logger that most requests never write a line to (below `LOG_LEVEL`). This
 * one builds the child on the first line that the level lets through, with the same bindings.
 */
export const lazyRequestLogger: NonNullable<FastifyServerOptions["childLoggerFactory"]> = (
  logger,
  bindings,
  options,
) =>
  // A route with a level or serializers of its own (none has one today) gets its child at once.
  options.level === undefined && options.serializers === undefined && isPino(logger)
    ? new LazyChild(logger, bindings)
    : logger.child(bindings, options);

const isPino = (logger: FastifyBaseLogger): logger is Logger =>
  typeof (logger as Partial<Logger>).isLevelEnabled === "function";

type Line = Parameters<FastifyBaseLogger["info"]>;

class LazyChild implements FastifyBaseLogger {
  #built: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Bindings,
  ) {}

  private built(): FastifyBaseLogger {
    this.#built ??= this.parent.child(this.bindings);
    return this.#built;
  }

  /** Through the child when the level lets the line through; otherwise nothing, as pino does. */
  private write(level: Level, line: Line): void {
    if (this.#built !== undefined || this.parent.isLevelEnabled(level)) this.built()[level](...line);
  }

  get level(): string {
    return this.#built?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.built().level = level;
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.built().child(bindings, options);
  }

  fatal(...line: Line) {
    this.write("fatal", line);
  }
  error(...line: Line) {
    this.write("error", line);
  }
  warn(...line: Line) {
    this.write("warn", line);
  }
  info(...line: Line) {
    this.write("info", line);
  }
  debug(...line: Line) {
    this.write("debug", line);
  }
  trace(...line: Line) {
    this.write("trace", line);
  }
  silent(..._line: Line) {}
}
