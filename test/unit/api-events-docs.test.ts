/**
 * docs/api.md lists every event of the daemon's stream ("Hub events"): each type the client's
 * schema accepts has its row, and no row names a type the daemon never sends.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hubEvent, resyncEvent } from '../../src/daemon/api/hub-schemas.js';

describe('docs/api.md, "Hub events"', () => {
  it('has one row per event type of the stream', () => {
    const doc = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## Hub events'), doc.indexOf('### Resuming'));
    const documented = [...section.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]).sort();
    const types = [...hubEvent.options.map((o) => o.shape.type.value), resyncEvent.shape.type.value].sort();
    expect(types).toContain('station-ended');
    expect(documented).toEqual(types);
  });
});
