/**
 * A CPU profile of one stretch of this process, in the `.cpuprofile` format that `node
 * --cpu-prof` writes (Chrome DevTools opens it too), through the inspector's sampling profiler:
 * only the stretch asked for is profiled, not the process's start-up or warm-up.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';

export interface RunningProfile {
  /** Stops sampling and writes the profile to `file`. */
  stop(file: string): Promise<void>;
}

/** Starts sampling every `intervalUs` µs (node --cpu-prof's default: 1000). */
export async function startProfile(intervalUs = 1000): Promise<RunningProfile> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(profile));
    },
  };
}
