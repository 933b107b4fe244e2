// A separate process writing the audit trail, for the crash and concurrency tests.
// Usage: node audit-writer.mjs <audit module URL> <file> <count|forever> <label>
// Starts one run and records steps; after each recordStep returns (committed), prints
// "committed <seq-in-run>" on stdout. "forever" writes until killed (capped, in case the test dies).
const [moduleUrl, file, countArg, label = 'writer'] = process.argv.slice(2);
const { AuditStore } = await import(moduleUrl);

const store = AuditStore.open(file);
const runId = store.startRun({
  kind: 'provision',
  port: `mock://${label}`,
  technician: label,
  station: 'crash-test',
  merchant: '123456789012345',
  terminalNumber: '12345678',
});
process.stdout.write(`run ${runId}\n`);
const count = countArg === 'forever' ? 1_000_000 : Number(countArg);
for (let i = 1; i <= count; i++) {
  const at = new Date().toISOString();
  store.recordStep(runId, {
    step: 'settings',
    outcome: 'done',
    detail: `${label} step ${i}`,
    startedAt: at,
    finishedAt: at,
  });
  process.stdout.write(`committed ${i}\n`);
}
store.finishRun(runId, { outcome: 'provisioned' });
store.close();
process.stdout.write('finished\n');
