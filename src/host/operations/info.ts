/** `info`: who the terminal is and what state it is in (HELLO, STATUS). Changes nothing. */
import { z } from 'zod';
import { port } from './fields.js';
import { defineOperation } from './operation.js';
import { helloInfo, statusInfo } from './results.js';

export const info = defineOperation({
  name: 'info',
  summary: 'who the terminal is and what state it is in (HELLO, STATUS); changes nothing',
  request: z.object({ port }).strict(),
  result: z.object({ kind: z.literal('info'), port: z.string(), hello: helloInfo, status: statusInfo }),
  events: {},
});
