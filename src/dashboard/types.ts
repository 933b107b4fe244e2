/**
 * The shapes the page reads from the daemon (docs/api.md, "Status rows"): written out here, not
 * imported, because the browser code imports nothing from the Node side.
 */
export interface DiagCheck {
  check: string;
  status: 'pass' | 'warn' | 'fail';
  code?: string;
  hint?: string;
}

export interface StatusRow {
  port: string;
  state: string;
  condition: string;
  hello?: { model: string; sn: string; fw: string };
  status?: { state: string; locked: boolean; attemptsLeft?: number; tamper: boolean; factoryPw: string[] };
  error?: { message: string };
  activity?: { operation: string; steps: number; step?: { step: string; outcome: string; detail: string } };
  lastResult?: { operation: string; outcome: string; at: string; detail?: string; diagnostics?: DiagCheck[] };
}
