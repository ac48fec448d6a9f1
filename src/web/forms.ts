import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/**
 * preHandler for a page's form POST: checks the CSRF token like `app.csrfProtection`, but when it is
 * stale or missing (a tab left open, a restart) the step is shown again with a fresh form and a short
 * notice (`form.renewed`), instead of an error page that asks to reload (which re-posts the stale form).
 * `renew` renders the step; it runs instead of the route's handler and nothing changes.
 */
export function freshFormOnCsrfFailure<R extends FastifyRequest = FastifyRequest>(
  app: FastifyInstance,
  renew: (request: R, reply: FastifyReply) => unknown,
) {
  return async (request: R, reply: FastifyReply) => {
    const valid = await new Promise<boolean>((resolve) => {
      // The plugin reports a failure through reply.send(error); only that path is intercepted.
      const probe = { send: () => resolve(false) } as unknown as FastifyReply;
      app.csrfProtection.call(app, request, probe, () => resolve(true));
    });
    if (!valid) return renew(request, reply);
  };
}
