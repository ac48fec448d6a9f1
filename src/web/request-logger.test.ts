import type { FastifyInstance } from "fastify";
import pino from "pino";
import { describe, expect, it, vi } from "vitest";
import { logSink } from "../../test/helpers.js";
import { lazyRequestLogger } from "./request-logger.js";

const lines = (text: string) =>
  text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

function requestLogger(level: string) {
  const sink = logSink();
  const parent = pino({ level }, sink.stream);
  const child = vi.spyOn(parent, "child");
  const factory = lazyRequestLogger.bind({} as FastifyInstance);
  const log = factory(parent, { reqId: "req-1" }, {}, {} as never);
  return { sink, child, log };
}

describe("the request logger", () => {
  it("builds no child for lines below the level, and one child, with the request's id, for the rest", async () => {
    const { sink, child, log } = requestLogger("warn");
    log.info("incoming request");
    log.debug("details");
    expect(child).not.toHaveBeenCalled();

    log.warn({ errorCode: "ERR_X" }, "request failed");
    log.error("unexpected error");
    log.info("still below the level");
    await new Promise((resolve) => setImmediate(resolve));
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines(sink.text())).toMatchObject([
      { reqId: "req-1", level: 40, errorCode: "ERR_X", msg: "request failed" },
      { reqId: "req-1", level: 50, msg: "unexpected error" },
    ]);
  });

  it("reads the server's level until it is given one of its own", async () => {
    const { sink, log } = requestLogger("info");
    expect(log.level).toBe("info");
    log.level = "debug";
    log.debug("now written");
    await new Promise((resolve) => setImmediate(resolve));
    expect(log.level).toBe("debug");
    expect(lines(sink.text())).toMatchObject([{ reqId: "req-1", msg: "now written" }]);
  });
});
