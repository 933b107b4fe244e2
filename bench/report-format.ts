/** Number formats and Markdown pieces shared by the sections of docs/performance.md. */
import type { Section } from './run.js';

export const ms = (v: number) => `${Math.round(v).toLocaleString('en-US')} ms`;
export const ms1 = (v: number) => `${v.toFixed(1)} ms`;
export const x = (v: number, digits = 3) => `${v.toFixed(digits)}×`;
export const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
export const n0 = (v: number) => Math.round(v).toLocaleString('en-US');
export const verdict = (met: boolean | undefined) => (met === undefined ? '' : met ? 'met' : '**missed**');

export function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

export function notRun(name: string, section: Section<unknown> | undefined): string | undefined {
  if (!section) return `_Not run yet: \`npm run bench\` (or \`--only ${name}\`) measures it._`;
  if (section.error)
    return `_This benchmark could not run (${section.measuredAt}):_\n\n\`\`\`\n${section.error}\n\`\`\``;
  return undefined;
}

export function sectionLine(section: Section<unknown>): string {
  return `_Measured ${section.measuredAt.slice(0, 16).replace('T', ' ')} UTC in ${section.durationS} s; load average ${section.loadAverageAtStart[0]} at the start, ${section.loadAverageAtEnd[0]} at the end._`;
}
