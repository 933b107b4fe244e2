/**
 * What the daemon tells of its terminals (GET /v1/terminals) and what it announces on
 * GET /v1/events, as schemas: for the OpenAPI document and the client, checked against the
 * hub's own types (src/host/hub.ts) at compile time.
 */
import { z } from 'zod';
import type { HubEvent, TerminalInfo } from '../../host/hub.js';
import {
  type Holds,
  helloInfo,
  provisionReport,
  type Same,
  statusInfo,
  stepRecord,
} from '../../host/operations/results.js';
import type { ResyncEvent } from './event-journal.js';

export const terminalInfo = z.object({
  port: z.string().meta({ description: 'the port name as given to --port' }),
  byId: z.string().optional().meta({ description: '/dev/serial/by-id/... when udev gives one' }),
  usb: z
    .object({
      vendorId: z.string().optional(),
      productId: z.string().optional(),
      serialNumber: z.string().optional(),
      manufacturer: z.string().optional(),
    })
    .optional(),
  state: z.enum(['identifying', 'present', 'busy', 'gone', 'error']),
  hello: helloInfo.optional(),
  status: statusInfo.optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  since: z.string().meta({ description: 'ISO time of the last state change' }),
});

export const terminalList = z.object({ terminals: z.array(terminalInfo) });

export const hubEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('terminal-added'), terminal: terminalInfo }),
  z.object({ type: z.literal('terminal-updated'), terminal: terminalInfo }),
  z.object({ type: z.literal('terminal-removed'), terminal: terminalInfo }),
  z.object({
    type: z.literal('operation-started'),
    port: z.string(),
    operation: z.string(),
    id: z.string().meta({ description: "the operation's ID" }),
  }),
  z.object({ type: z.literal('step'), port: z.string(), operation: z.string(), step: stepRecord }),
  z.object({
    type: z.literal('operation-finished'),
    port: z.string(),
    operation: z.string(),
    outcome: z.string(),
    report: provisionReport.optional(),
  }),
  z.object({
    type: z.literal('station-started'),
    manifest: z.string().meta({ description: "the manifest's file name" }),
    rows: z.number().int().meta({ description: 'rows in the manifest' }),
  }),
  z.object({
    type: z.literal('station-progress'),
    sn: z.string(),
    port: z.string().optional(),
    outcome: z.string().meta({ description: "the row's outcome (provisioned, failed...)" }),
    done: z.number().int().meta({ description: 'rows with a result so far' }),
    rows: z.number().int(),
  }),
  z.object({
    type: z.literal('station-ended'),
    endedBy: z.string().meta({ description: 'complete, idle, timeout, signal; error if the run broke' }),
    counts: z.record(z.string(), z.number().int()).meta({ description: 'rows by outcome' }),
    rows: z.number().int(),
  }),
]);

/** Sent first on a resumed stream that cannot be replayed (event-journal.ts). */
export const resyncEvent = z.object({
  type: z.literal('resync'),
  reason: z.enum(['restarted', 'expired', 'invalid']),
  terminals: z.array(terminalInfo),
});

export type HubSchemasAgree = Holds<
  [
    Same<z.output<typeof terminalInfo>, TerminalInfo>,
    Same<z.output<typeof hubEvent>, HubEvent>,
    Same<z.output<typeof resyncEvent>, ResyncEvent>,
  ]
>;
