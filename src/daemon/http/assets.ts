/**
 * Where the dashboard's files are in the package: `npm run build` compiles the browser code into
 * dist/dashboard and copies the page (src/dashboard/static) next to it; package.json ships that
 * folder. This file sits three levels down in both src/ and dist/, so the package root is the
 * same from either.
 */
import { fileURLToPath } from 'node:url';
import type { DashboardAssets } from './dashboard-server.js';

export function packageAssets(): DashboardAssets {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  return { staticDir: `${root}dist/dashboard`, scriptDir: `${root}dist/dashboard` };
}
