/**
 * `--diag-fail CHECK:CODE,...`: hardware faults the self-diagnostics report, e.g.
 * `printer:paper_out,network:no_sim`. Checks and codes come from DIAG_CHECKS (src/protocol), so
 * the mock can only report what the protocol documents.
 */
import { DIAG_CHECK_ORDER, DIAG_CHECKS, type DiagCheck, diagCode, isDiagCheck } from '../protocol/index.js';
import { MockConfigError } from './errors.js';

export type DiagFaults = Partial<Record<DiagCheck, string>>;

export function parseDiagFaults(spec: string): DiagFaults {
  const faults: DiagFaults = {};
  for (const part of spec.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const [check, code, ...rest] = item.split(':').map((s) => s.trim());
    if (rest.length > 0 || !check || !code)
      throw new MockConfigError(`diag fault "${clip(item)}": expected CHECK:CODE`);
    const fault = { [check]: code };
    Object.assign(faults, validateDiagFaults(fault, faults));
  }
  return faults;
}

/** Checks faults given in TypeScript; `already` detects a check named twice. */
export function validateDiagFaults(faults: Record<string, string>, already: DiagFaults = {}): DiagFaults {
  const valid: DiagFaults = {};
  for (const [check, code] of Object.entries(faults)) {
    if (!isDiagCheck(check)) {
      throw new MockConfigError(
        `diag fault "${clip(check)}": unknown check (known: ${DIAG_CHECK_ORDER.join(', ')})`,
      );
    }
    if (!diagCode(check, code)) {
      const known = Object.keys(DIAG_CHECKS[check].codes).join(', ');
      throw new MockConfigError(
        `diag fault "${check}:${clip(code)}": unknown code for ${check} (known: ${known})`,
      );
    }
    if (already[check] !== undefined || valid[check] !== undefined) {
      throw new MockConfigError(`diag fault "${check}": check given twice`);
    }
    valid[check] = code;
  }
  return valid;
}

export function formatDiagFaults(faults: DiagFaults): string {
  return DIAG_CHECK_ORDER.filter((c) => faults[c] !== undefined)
    .map((c) => `${c}:${faults[c]}`)
    .join(',');
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}
