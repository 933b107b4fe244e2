/**
 * Telnet option negotiation without loops: the "Q method" of RFC 1143, pure.
 *
 * Each option has two sides: ours (we WILL it, the peer asks with DO) and the peer's (it WILL,
 * we ask with DO). Each side is NO, YES, or waiting for the answer to our request (WANTYES). A
 * reply goes out only when a side changes state, so two peers can never acknowledge each other's
 * acknowledgements forever (RFC 854's loop, which RFC 1143 closes). posbridge never asks to turn
 * an option off, so the WANTNO states and the queue bit of RFC 1143 are not needed.
 *
 * Options outside the wanted sets are refused: DO x gets WONT x, WILL x gets DONT x (once).
 */
import type { TelnetVerb } from './codec.js';

type SideState = 'no' | 'yes' | 'wantyes';
export type Side = 'local' | 'remote';

export interface NegotiationWants {
  /** Options we offer to do (we send WILL, accept DO): e.g. BINARY, SGA, COM-PORT-OPTION. */
  local: readonly number[];
  /** Options we ask the peer to do (we send DO, accept WILL): e.g. BINARY, SGA. */
  remote: readonly number[];
}

export interface NegotiationStep {
  /** What to send back, if anything. */
  reply?: { verb: TelnetVerb; option: number };
  /** A side that became enabled or disabled. */
  change?: { side: Side; option: number; enabled: boolean };
}

export class OptionNegotiator {
  private readonly states = { local: new Map<number, SideState>(), remote: new Map<number, SideState>() };
  private readonly wants: { local: Set<number>; remote: Set<number> };

  constructor(wants: NegotiationWants) {
    this.wants = { local: new Set(wants.local), remote: new Set(wants.remote) };
  }

  /** Our opening requests (WILL for local wants, DO for remote ones); each side goes WANTYES. */
  start(): { verb: TelnetVerb; option: number }[] {
    const requests: { verb: TelnetVerb; option: number }[] = [];
    for (const option of this.wants.local) {
      if (this.state('local', option) !== 'no') continue;
      this.states.local.set(option, 'wantyes');
      requests.push({ verb: 'WILL', option });
    }
    for (const option of this.wants.remote) {
      if (this.state('remote', option) !== 'no') continue;
      this.states.remote.set(option, 'wantyes');
      requests.push({ verb: 'DO', option });
    }
    return requests;
  }

  /** A negotiation from the peer: what to answer, and what changed (RFC 1143 section 7). */
  receive(verb: TelnetVerb, option: number): NegotiationStep {
    const side: Side = verb === 'WILL' || verb === 'WONT' ? 'remote' : 'local';
    const positive = verb === 'WILL' || verb === 'DO';
    const state = this.state(side, option);
    const agree: TelnetVerb = side === 'remote' ? 'DO' : 'WILL';
    const refuse: TelnetVerb = side === 'remote' ? 'DONT' : 'WONT';
    if (positive) {
      if (state === 'yes') return {};
      if (state === 'wantyes') return this.set(side, option, 'yes');
      if (this.wants[side].has(option))
        return { ...this.set(side, option, 'yes'), reply: { verb: agree, option } };
      return { reply: { verb: refuse, option } };
    }
    if (state === 'no') return {};
    const step = this.set(side, option, 'no');
    // YES -> NO: acknowledge the peer's WONT/DONT. WANTYES -> NO: our request was refused, and
    // the refusal needs no answer.
    return state === 'yes' ? { ...step, reply: { verb: refuse, option } } : step;
  }

  /** The side is on (agreed by both ends). */
  enabled(side: Side, option: number): boolean {
    return this.state(side, option) === 'yes';
  }

  /** Our request for this side has been answered (or was never made). */
  settled(side: Side, option: number): boolean {
    return this.state(side, option) !== 'wantyes';
  }

  private state(side: Side, option: number): SideState {
    return this.states[side].get(option) ?? 'no';
  }

  private set(side: Side, option: number, next: SideState): NegotiationStep {
    const before = this.state(side, option);
    this.states[side].set(option, next);
    const was = before === 'yes';
    const now = next === 'yes';
    return was === now ? {} : { change: { side, option, enabled: now } };
  }
}
