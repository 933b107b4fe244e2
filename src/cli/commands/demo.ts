/**
 * `posbridge demo`: the whole job against a built-in mock terminal, for a newcomer without
 * hardware. Provisions it from factory state, prints the report, then runs again to show that a
 * provisioned terminal is left as it is.
 *
 * It runs in this process even while a daemon runs (its terminal is this process's mock), and
 * records into a temporary audit trail, removed at the end: a demo never enters the user's
 * record (POSBRIDGE_AUDIT or the data directory).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { generatePassword } from '../../host/workflow/generate-password.js';
import type { ProvisionReport } from '../../host/workflow/report.js';
import { addCommonOptions, type CliDeps, type CommonOptions } from '../context.js';
import { credentialsRecorder } from '../credentials-file.js';
import { EXIT } from '../exit-codes.js';
import { painter } from '../io.js';
import { renderInfo, renderProvisionSummary, renderStep, visible } from '../render.js';
import { printJson, runAction } from '../run-action.js';
import { withEngine } from './with-engine.js';

export const DEMO_PROFILE = {
  settings: {
    'net.mode': 'wifi',
    'net.wifi.ssid': 'Café Lumière',
    'host.addr': 'acq.example.net',
    'host.port': 7010,
    'support.phone': '+86-400-820-8820',
    'settle.account': 'CN12345678901234567890',
  },
  operators: [
    { id: '02', name: 'Cashier', perms: ['sale', 'query'] },
    { id: '03', name: 'Supervisor', perms: ['sale', 'refund', 'query', 'report'] },
  ],
  factoryOperator: 'delete',
};

const DEMO_MERCHANT = '822100052110023';
const DEMO_TERMINAL = '10023456';

export function registerDemo(program: Command, deps: CliDeps): void {
  addCommonOptions(program.command('demo'), false)
    .description('provision a built-in mock terminal end to end, then run again to show nothing changes')
    .addHelpText(
      'after',
      '\nExample:\n  posbridge demo\n  posbridge demo --trace demo-wire.log   # see every line on the wire, passwords masked\n',
    )
    .action((options: CommonOptions) =>
      runAction(deps, options, async () => {
        const auditDir = await mkdtemp(join(tmpdir(), 'posbridge-demo-audit-'));
        const audit = join(auditDir, 'audit.sqlite3');
        try {
          const outcome = await runDemo(deps, options, audit);
          await rm(auditDir, { recursive: true, force: true });
          if (options.json)
            printJson(deps.io, { ...outcome.document, temporaryAudit: { path: audit, removed: true } });
          else
            deps.io.stdout.write(
              `\nThe demo recorded its runs in a temporary audit trail (${audit}), removed now: your own audit trail was not touched.\n`,
            );
          return outcome.code;
        } finally {
          await rm(auditDir, { recursive: true, force: true });
        }
      }),
    );
}

/** Both runs, in this process (never a daemon's), recorded into `audit`. */
async function runDemo(
  deps: CliDeps,
  options: CommonOptions,
  audit: string,
): Promise<{ code: number; document: Record<string, unknown> }> {
  const { io } = deps;
  const paint = painter(io);
  const port = options.port ?? 'mock://demo?diag-fail=printer:paper_out';
  const dir = await mkdtemp(join(tmpdir(), 'posbridge-demo-'));
  const credentialsFile = join(dir, 'operator-passwords.txt');
  const { parseProfile } = await import('../../host/workflow/profile-file.js');
  const profile = parseProfile(JSON.stringify(DEMO_PROFILE), 'demo profile');
  // A fresh strong admin password the demo never prints: the point is that nobody types one.
  const adminPassword = generatePassword(deps.randomBytes);
  const say = (text: string) => {
    if (!options.json) io.stdout.write(text);
  };
  let document: Record<string, unknown> = {};
  const code = await withEngine(
    deps,
    { ...options, port },
    async (engine) => {
      say(
        `${paint('bold', 'posbridge demo')}: a mock terminal on ${visible(port)}, fresh from the factory.\n\n`,
      );
      const before = await engine.info({ port });
      say(renderInfo(before, paint));
      const runs: ProvisionReport[] = [];
      let generated = false;
      for (const [index, title] of ['First run: provision it', 'Second run: same command again'].entries()) {
        say(`\n${paint('bold', `${index + 1}. ${title}`)}\n`);
        generated = false;
        const report = await engine.provision(
          {
            request: {
              port,
              merchant: DEMO_MERCHANT,
              terminal: DEMO_TERMINAL,
              name: 'Café Lumière 1',
              adminPassword,
              adminPasswordKnown: index > 0, // the first run set it
              profile,
              technician: deps.user(),
              station: deps.hostname(),
            },
          },
          {
            on: {
              step: (step) => say(renderStep(step, paint)),
              generated: async ({ id, password }) => {
                await credentialsRecorder(credentialsFile, () => before.hello.sn, deps.now)(id, password);
                generated = true;
              },
            },
          },
        );
        if (generated && !report.error) report.credentialsFile = credentialsFile;
        runs.push(report);
        say(renderProvisionSummary(report, paint));
        if (report.error) {
          document = { kind: 'demo', runs };
          return EXIT.refused;
        }
      }
      const after = await engine.info({ port });
      say(`\n${paint('bold', '3. The terminal now')}\n${renderInfo(after, paint)}`);
      say(
        `\nThe printer check fails on purpose (the mock was started with diag-fail=printer:paper_out),\n` +
          `to show how a failed check and its hint are reported. Try: posbridge mock --help, docs/mock.md.\n`,
      );
      document = { kind: 'demo', runs, before, after };
      return EXIT.ok;
    },
    { inProcess: true, audit },
  );
  return { code, document };
}
