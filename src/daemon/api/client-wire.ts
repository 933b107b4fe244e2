/**
 * The client side of the API's wire format (wire.ts): request parts built from engine calls,
 * and replies read back into what the engine would have returned or thrown.
 */
import type { IncomingMessage } from 'node:http';
import type { OperatorAction, ProvisionCall } from '../../host/engine.js';
import { PosbridgeError } from '../../host/errors.js';
import type { WireTrace } from '../../host/trace.js';
import { WorkflowStopped } from '../../host/workflow/provision.js';
import type { ProvisionReport } from '../../host/workflow/report.js';
import { errorFromWire, errorToCarried, type TraceEvent, type WireError } from './wire.js';

export interface Reply {
  status: number;
  body: unknown;
}
/** A `trace` event into the caller's trace; a line that is not one is left out. */
export function recordTraceEvent(trace: WireTrace, data: unknown): void {
  const { at, direction, text } = (data ?? {}) as Partial<TraceEvent>;
  const when = new Date(String(at));
  if ((direction !== '>' && direction !== '<') || typeof text !== 'string' || Number.isNaN(when.getTime()))
    return;
  trace.record({ at: when, direction, text });
}

/** The wire form of an operator action: the password as its value. */
export function operationToWire(op: OperatorAction): Record<string, unknown> {
  if (op.action === 'add') return { ...op, password: op.password.reveal() };
  return { ...op };
}

/**
 * The first passwords of the profile's operators whose source is not `generate`, read with the
 * caller's callback (its environment and files are not the daemon's); an error a read gave
 * travels instead, and the daemon raises it where the engine would have.
 */
export async function operatorPasswords(call: ProvisionCall): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const operator of call.request.profile.operators) {
    const source = operator.password;
    if (source === 'generate') continue;
    try {
      out[operator.id] = (await call.readOperatorSecret!(operator.id, source)).reveal();
    } catch (error) {
      out[operator.id] = { error: errorToCarried(error) };
    }
  }
  return out;
}

export function isEventStream(res: IncomingMessage): boolean {
  return res.statusCode === 200 && (res.headers['content-type'] ?? '').startsWith('text/event-stream');
}

export function readJson(res: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('error', reject);
    res.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text === '' ? undefined : JSON.parse(text));
      } catch {
        reject(
          new PosbridgeError(
            'BAD_REPLY',
            `the daemon answered HTTP ${res.statusCode} with something that is not JSON`,
          ),
        );
      }
    });
  });
}

/** A non-200 reply (or an error result) as the error the engine raised. */
export function replyError(reply: Reply): PosbridgeError {
  const body = reply.body as { error?: WireError; report?: ProvisionReport } | undefined;
  if (!body?.error || typeof body.error.code !== 'string') {
    return new PosbridgeError(
      'BAD_REPLY',
      `the daemon answered HTTP ${reply.status} without an error document`,
    );
  }
  const error = errorFromWire(body.error);
  return body.report ? new WorkflowStopped(error, body.report) : error;
}
