/**
 * The CLI's logger is pino built on its first enabled line (src/cli/lazy-logger.ts): a command at
 * the default level that logs nothing never loads pino, and one that logs writes pino's own lines.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { lazyLogger } from '../../src/cli/lazy-logger.js';
import { createLogger } from '../../src/cli/logger.js';

function counted(level: string) {
  const lines: string[] = [];
  let builds = 0;
  const logger = lazyLogger(level, () => {
    builds++;
    return pino({ level }, { write: (line: string) => lines.push(line) });
  });
  return { logger, lines, builds: () => builds };
}

describe('lazyLogger', () => {
  it('builds nothing for calls at disabled levels, and answers level questions as pino would', () => {
    const { logger, lines, builds } = counted('warn');
    logger.trace('t');
    logger.debug({ a: 1 }, 'd');
    logger.info('i');
    logger.silent('s');
    expect(logger.level).toBe('warn');
    expect(logger.isLevelEnabled('info')).toBe(false);
    expect(logger.isLevelEnabled('warn')).toBe(true);
    expect(logger.isLevelEnabled('fatal')).toBe(true);
    expect(builds()).toBe(0);
    expect(lines).toEqual([]);
  });

  it('builds pino once, on the first enabled line, and writes its lines from then on', () => {
    const { logger, lines, builds } = counted('info');
    logger.debug('not this');
    logger.info({ port: 'mock://x' }, 'first');
    logger.warn('second');
    expect(builds()).toBe(1);
    expect(lines.map((line) => JSON.parse(line) as { msg: string; level: number })).toMatchObject([
      { msg: 'first', level: 30, port: 'mock://x' },
      { msg: 'second', level: 40 },
    ]);
  });

  it('silent logs nothing and builds nothing; child() and a new level go to the real logger', () => {
    const silent = counted('silent');
    silent.logger.fatal('x');
    expect(silent.builds()).toBe(0);
    const { logger, lines, builds } = counted('warn');
    logger.child({ component: 'mqtt' }).warn('from the child');
    expect(builds()).toBe(1);
    logger.level = 'debug';
    logger.debug('now enabled');
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toMatchObject([
      { msg: 'from the child', component: 'mqtt' },
      { msg: 'now enabled', level: 20 },
    ]);
  });

  it("the CLI's logger keeps redacting secrets when built lazily", () => {
    const out: string[] = [];
    const logger = createLogger({ logLevel: 'info', logFormat: 'json' }, {
      write: (line: string) => out.push(line),
    } as unknown as NodeJS.WritableStream);
    logger.info({ password: 'hunter22', port: 'mock://x' }, 'login');
    expect(out.join('')).not.toContain('hunter22');
    expect(JSON.parse(out[0]!)).toMatchObject({ password: '***', port: 'mock://x', msg: 'login' });
  });
});
