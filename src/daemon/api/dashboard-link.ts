/**
 * `POST /v1/dashboard/link` on the owner-only socket: a new one-time login URL for the dashboard
 * (docs/dashboard.md, "Another browser"). The URL printed at start works once, and under systemd
 * it is in the journal; `posbridge dashboard` asks for a fresh one instead of a restart.
 */
import { z } from 'zod';
import { HttpProblem, json } from './http.js';
import type { Route } from './routes.js';

export const DASHBOARD_LINK_PATH = '/v1/dashboard/link';

export const dashboardLink = z.object({
  /** `http://HOST:PORT/login?token=T`: opening it once starts a session. */
  url: z.string().url(),
});
export type DashboardLink = z.infer<typeof dashboardLink>;

/** `renew`: the dashboard's new login URL, or undefined when the daemon serves none. */
export function dashboardLinkRoute(renew: () => string | undefined): Route {
  return {
    method: 'POST',
    path: DASHBOARD_LINK_PATH,
    handle: (ex) => {
      // Nothing in the body is read: drain it so the connection can be reused.
      ex.req.resume();
      const url = renew();
      if (url === undefined)
        throw new HttpProblem(
          404,
          'this daemon serves no dashboard',
          'start it with --http 127.0.0.1:8390, or `http:` in its config (docs/dashboard.md)',
        );
      json(ex.res, 200, { url } satisfies DashboardLink);
    },
  };
}
