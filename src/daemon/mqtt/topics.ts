/**
 * The topic layout (docs/fleet.md, "Topics"), built and read in one place. Everything a station
 * publishes sits under its prefix (default `posbridge/<station>`):
 *
 *   <prefix>/status              online | offline, retained, the last will says offline
 *   <prefix>/terminals/<sn>      one terminal's identity and state, retained; emptied when unplugged
 *   <prefix>/runs                the last runs, retained (what `fleet status` shows)
 *   <prefix>/runs/<run>/steps    each step of a run as it happens (QoS 0)
 *   <prefix>/audit               every audit record exactly as chained (QoS 1)
 *   <prefix>/audit/replay        a collector asks for records again from a seq (QoS 1)
 *
 * Names that come from elsewhere (a station name, a terminal's serial number) become one topic
 * level each: `/`, `+`, `#`, `%` and control characters are written %XX, so a serial number
 * like `A/1` cannot open a level of its own nor act as a wildcard.
 */

/** One topic level from any text (percent-encoding the characters MQTT gives a meaning). */
export function topicLevel(text: string): string {
  const encoded = text.replace(
    /[/+#%\u0000-\u001f\u007f]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
  return encoded === '' ? '%00' : encoded;
}

/** The text a level stands for (topicLevel backwards). */
export function fromTopicLevel(level: string): string {
  return level.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

export function defaultPrefix(station: string): string {
  return `posbridge/${topicLevel(station)}`;
}

export interface StationTopics {
  prefix: string;
  status: string;
  runs: string;
  audit: string;
  replay: string;
  terminal(sn: string): string;
  terminalsFilter: string;
  steps(runId: string): string;
}

export function stationTopics(prefix: string): StationTopics {
  return {
    prefix,
    status: `${prefix}/status`,
    runs: `${prefix}/runs`,
    audit: `${prefix}/audit`,
    replay: `${prefix}/audit/replay`,
    terminal: (sn) => `${prefix}/terminals/${topicLevel(sn)}`,
    terminalsFilter: `${prefix}/terminals/+`,
    steps: (runId) => `${prefix}/runs/${topicLevel(runId)}/steps`,
  };
}

/** What a topic under some station's prefix is, for whoever reads many stations. */
export type TopicKind =
  | { kind: 'status'; prefix: string }
  | { kind: 'terminal'; prefix: string; sn: string }
  | { kind: 'runs'; prefix: string }
  | { kind: 'steps'; prefix: string; run: string }
  | { kind: 'audit'; prefix: string }
  | { kind: 'replay'; prefix: string };

/** Reads a topic by its tail; undefined for a topic that is not one of ours. */
export function parseTopic(topic: string): TopicKind | undefined {
  const levels = topic.split('/');
  const n = levels.length;
  const prefix = (drop: number) => levels.slice(0, n - drop).join('/');
  if (n >= 2 && levels[n - 1] === 'status') return { kind: 'status', prefix: prefix(1) };
  if (n >= 2 && levels[n - 1] === 'runs') return { kind: 'runs', prefix: prefix(1) };
  if (n >= 2 && levels[n - 1] === 'audit') return { kind: 'audit', prefix: prefix(1) };
  if (n >= 3 && levels[n - 2] === 'audit' && levels[n - 1] === 'replay')
    return { kind: 'replay', prefix: prefix(2) };
  if (n >= 3 && levels[n - 2] === 'terminals')
    return { kind: 'terminal', prefix: prefix(2), sn: fromTopicLevel(levels[n - 1]!) };
  if (n >= 4 && levels[n - 3] === 'runs' && levels[n - 1] === 'steps')
    return { kind: 'steps', prefix: prefix(3), run: fromTopicLevel(levels[n - 2]!) };
  return undefined;
}

/** `posbridge/+`: the filter that matches every station's prefix when each is the default. */
export const DEFAULT_PREFIX_FILTER = 'posbridge/+';

/** A filter of prefixes: like a prefix, but `+` may stand for whole levels. */
export function prefixFilterProblem(filter: string): string | undefined {
  if (filter.length === 0 || filter.length > 200) return 'must be 1 to 200 characters';
  if (filter.includes('#')) return 'must not hold # (the filter matches prefixes, one + per level)';
  if (filter.split('/').some((level) => level === '' || (level.includes('+') && level !== '+')))
    return 'must be levels separated by /, each a name or + alone';
  return undefined;
}
