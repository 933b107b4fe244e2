/**
 * docs/protocol.md §4, §5, §10 step 5: which key a 400 names (D44, D8), the grammar errors, and
 * what an error may repeat of the line: free text only, bounded (D47), and nothing of a line that
 * may hold a secret.
 */
import { appendCrc } from '../../protocol/index.js';
import { type Check, check } from '../check.js';
import { expectErr, expectThat } from '../expect.js';
import { MAX_ECHO } from '../spec.js';
import { raw } from './errors-shared.js';

const errors = (spec: Parameters<typeof check>[1]) => check('errors', spec);

export const syntaxErrorChecks: Check[] = [
  errors({
    name: 'which-400-key',
    section: '§10 step 5, D44, D8, examples 34 and 37',
    title:
      'a 400 names the offending key: grammar first, then a stray word, then unknown/repeated, then missing',
    start: 'factory',
    readOnly: true,
    async run(t) {
      const id = () => t.nextId();
      await raw(
        t,
        appendCrc(`@${id()} SET key=net.mode foo value=`),
        400,
        'syntax',
        'a malformed value= and a stray word',
        'value',
      );
      await raw(
        t,
        appendCrc(`@${id()} SET foo key=net.mode key=net.mode`),
        400,
        'syntax',
        'a stray word and a repeat',
        null,
      );
      await raw(
        t,
        appendCrc(`@${id()} SET version=1 key=net.mode key=net.mode`),
        400,
        'syntax',
        'unknown, then repeated',
        'version',
      );
      await raw(
        t,
        appendCrc(`@${id()} USER-ADD id=02 perms=sale`),
        400,
        'syntax',
        'missing name= and password=',
        'name',
      );
      await raw(t, appendCrc(`@${id()} HELLO version=1`), 400, 'syntax', 'HELLO version=1', 'version');
      await raw(t, appendCrc(`@${id()} GET key=a key=b`), 400, 'syntax', 'a repeated key', 'key');
      await raw(t, appendCrc(`@${id()} GET =1`), 400, 'syntax', '=1 names no key', null);
      await raw(t, appendCrc(`@${id()} STATUS foo`), 400, 'syntax', 'an extra word', null);
      await raw(t, appendCrc(`@${id()} GET KEY=net.mode`), 400, 'syntax', 'keys are lower case (D8)', 'KEY');
      // §10 step 5: in LOGIN, PASSWD and USER-ADD, key= names only an argument the command takes.
      await raw(t, appendCrc(`@${id()} LOGIN USER=admin password=x`), 400, 'syntax', 'LOGIN USER=', null);
      await raw(
        t,
        appendCrc(`@${id()} LOGIN user=admin password=x pin=1`),
        400,
        'syntax',
        'LOGIN pin=',
        null,
      );
      await raw(
        t,
        appendCrc(`@${id()} USER-ADD id=02 name=X perms=sale password=Pw.x9 Pa55=word`),
        400,
        'syntax',
        'USER-ADD Pa55=',
        null,
      );
      await raw(t, appendCrc(`@${id()} LOGIN password=x`), 400, 'syntax', 'LOGIN without user=', 'user');
      await raw(
        t,
        appendCrc(`@${id()} INIT terminal=12345678`),
        400,
        'syntax',
        'INIT without merchant=',
        'merchant',
      );
      const long = 'k'.repeat(200);
      await raw(
        t,
        appendCrc(`@${id()} HELLO ${long}=1`),
        400,
        'syntax',
        'a 200-byte unknown key, cut to 64',
        long.slice(0, MAX_ECHO),
      );
    },
  }),
  errors({
    name: 'grammar',
    section: '§4, §5, D8',
    title:
      'bad escapes, text after a closing quote, key= with nothing, a quote in a bare value: 400 naming the key',
    start: 'factory',
    readOnly: true,
    async run(t) {
      for (const value of ['"\\n"', '"\\X41"', '"\\x4"', '"ab\\"', '"a"b', '', 'a"b', '"unterminated']) {
        const x = await t.exchange(appendCrc(`@${t.nextId()} HELLO proto=${value}`));
        expectErr(x, 400, 'syntax', { key: 'proto' }, `proto=${value}`);
      }
    },
  }),
  errors({
    name: 'msg-is-free-text',
    section: '§7, D26, D47',
    title: 'an ERR puts code and reason first and any msg last, as bounded printable text',
    start: 'factory',
    readOnly: true,
    async run(t) {
      // Every line is held to these rules; here, errors whose msg may echo what was sent.
      const x = await t.exchange(appendCrc(`@${t.nextId()} FROB${'\\x7F'.repeat(100)}`));
      expectErr(x, 400, 'syntax', {}, 'a first token of 404 bytes that is not a word');
      expectErr(await t.request(`V${'X'.repeat(400)}`), 404, 'unknown-command', {}, 'a 401-byte verb');
    },
  }),
  errors({
    name: 'no-echo-of-secrets',
    section: '§10 step 5',
    title:
      'an error to a line that may hold a secret (LOGIN, PASSWD, USER-ADD, SET, an unread verb) repeats no part of it',
    start: 'factory',
    readOnly: true,
    async run(t) {
      const secret = 'Zq9Secret7x';
      const lines = [
        `LOGIN user=admin password=${secret} extra=1`,
        `login admin ${secret}`,
        `LOGIN user=admin ${secret}=1`,
        `PASSWD old=${secret} new="a b`,
        `PASSWD old=x new=${secret} ${secret}`,
        `USER-ADD id=02 name=X perms=sale password=${secret} ${secret}`,
        `SET key=settle.account value=${secret} ${secret}`,
        `9LOGIN password=${secret}`,
        `LOGIN user=admin password=${secret}\t`,
      ];
      for (const line of lines) {
        const x = await t.exchange(appendCrc(`@${t.nextId()} ${line}`));
        expectThat(x.final.kind === 'err', `an error to ${line.split(' ')[0]}`, { x });
        const echoed = x.lines.find((l) => l.raw.text.includes(secret) || l.raw.text.includes('Secret7'));
        expectThat(
          echoed === undefined,
          '§10 step 5: the reply repeats part of a line that may hold a secret',
          {
            got: echoed?.raw.text,
            x,
          },
        );
      }
    },
  }),
];
