/**
 * The fleet's topic layout and payloads (docs/fleet.md): names from elsewhere stay one topic
 * level, topics read back as they were built, and the page's schemas are the zod schemas'.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditPayload, payloadJsonSchemas, readPayload, TOPICS } from '../../src/daemon/mqtt/payloads.js';
import {
  defaultPrefix,
  fromTopicLevel,
  parseTopic,
  prefixFilterProblem,
  stationTopics,
  topicLevel,
} from '../../src/daemon/mqtt/topics.js';
import { REPO_ROOT } from '../support/cli-process.js';

/** The generated part of docs/fleet.md, between its markers. */
function renderSchemas(): string {
  return Object.entries(payloadJsonSchemas())
    .map(([title, schema]) => `### \`${title}\`\n\n\`\`\`json\n${JSON.stringify(schema, null, 2)}\n\`\`\`\n`)
    .join('\n');
}

const page = () => readFileSync(join(REPO_ROOT, 'docs', 'fleet.md'), 'utf8');

describe('topics', () => {
  it('a serial number or station name is one level: no wildcard, no extra level', () => {
    expect(topicLevel('A/1+#%')).toBe('A%2F1%2B%23%25');
    expect(fromTopicLevel(topicLevel('A/1+#%\u0001'))).toBe('A/1+#%\u0001');
    expect(defaultPrefix('bench/3')).toBe('posbridge/bench%2F3');
    const t = stationTopics('posbridge/bench-3');
    expect(parseTopic(t.terminal('SN/9'))).toEqual({
      kind: 'terminal',
      prefix: 'posbridge/bench-3',
      sn: 'SN/9',
    });
    expect(parseTopic(t.steps('run-1'))).toEqual({
      kind: 'steps',
      prefix: 'posbridge/bench-3',
      run: 'run-1',
    });
    expect(parseTopic(t.replay)).toEqual({ kind: 'replay', prefix: 'posbridge/bench-3' });
    expect(parseTopic(t.audit)).toEqual({ kind: 'audit', prefix: 'posbridge/bench-3' });
    expect(parseTopic('posbridge/bench-3/elsewhere')).toBeUndefined();
  });

  it('a prefix filter takes + for whole levels only', () => {
    expect(prefixFilterProblem('posbridge/+')).toBeUndefined();
    expect(prefixFilterProblem('posbridge/#')).toMatch(/must not hold #/);
    expect(prefixFilterProblem('posbridge/a+')).toMatch(/each a name or \+ alone/);
  });

  it('an audit payload with a field too many or a short hash is refused, naming it', () => {
    const record = {
      v: 1,
      station: 'a',
      seq: 1,
      at: '2026-12-05T00:00:00.000Z',
      run: 'r',
      type: 'run-start',
      payload: '{}',
      prevHash: '0'.repeat(64),
      hash: 'f'.repeat(64),
    };
    expect(readPayload(auditPayload, Buffer.from(JSON.stringify(record))).ok).toBe(true);
    const extra = readPayload(auditPayload, Buffer.from(JSON.stringify({ ...record, password: 'x' })));
    expect(extra).toMatchObject({ ok: false, problem: expect.stringMatching(/password/) });
    const short = readPayload(auditPayload, Buffer.from(JSON.stringify({ ...record, hash: 'ab' })));
    expect(short).toMatchObject({ ok: false, problem: expect.stringMatching(/^hash: /) });
    expect(readPayload(auditPayload, Buffer.from('{'))).toEqual({ ok: false, problem: 'not JSON' });
  });
});

describe('docs/fleet.md', () => {
  it('has a row for every topic, with its QoS and whether it is retained', () => {
    for (const t of TOPICS) {
      const row = page()
        .split('\n')
        .find((line) => line.startsWith(`| \`${t.topic}\` |`));
      expect(row, t.topic).toBeDefined();
      const cells = row!.split('|').map((c) => c.trim());
      expect(cells.slice(2, 6), t.topic).toEqual([
        `\`${t.schema.meta()?.title}\``,
        String(t.qos),
        t.retained ? 'yes' : 'no',
        t.from,
      ]);
    }
  });

  it("carries the JSON Schema generated from each payload's zod schema", () => {
    const text = page();
    const generated = text.slice(
      text.indexOf('<!-- schemas:begin -->\n') + '<!-- schemas:begin -->\n'.length,
      text.indexOf('<!-- schemas:end -->'),
    );
    expect(generated).toBe(renderSchemas());
  });
});
