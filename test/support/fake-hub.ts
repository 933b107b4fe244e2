/** A TerminalHub whose terminals a test sets and whose events it publishes by hand. */
import type { HubEvent, TerminalInfo } from '../../src/host/hub.js';

export class FakeHub {
  terminals: TerminalInfo[] = [];
  private readonly listeners = new Set<(event: HubEvent) => void>();

  list(): TerminalInfo[] {
    return this.terminals;
  }

  subscribe(listener: (event: HubEvent) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  publish(event: HubEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
