/**
 * System tools some tests drive (zsh, fish, groff, man, xmllint, systemd-analyze, udevadm,
 * unshare). .ci/run installs them; on a developer's machine a missing one skips its test and says
 * which package brings it. Under CI (CI=true) a missing tool fails the test instead: a check that
 * silently stops running is no check.
 */
import { spawnSync } from 'node:child_process';

export function hasTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/**
 * True when the tool is there; false (skip) when it is not and this is not CI; throws under CI.
 * `pkg` is the Debian package that brings it.
 */
export function requireTool(name: string, pkg: string): boolean {
  if (hasTool(name)) return true;
  if (process.env.CI) throw new Error(`${name} is missing: .ci/run installs it (apt-get install ${pkg})`);
  console.warn(`skipped: ${name} is not installed (apt-get install ${pkg})`);
  return false;
}

/** Whether this process may make a private mount namespace (root with CAP_SYS_ADMIN). */
export function canUnshareMounts(): boolean {
  return spawnSync('unshare', ['-m', '--propagation', 'private', 'true'], { stdio: 'ignore' }).status === 0;
}

/** canUnshareMounts, but under CI a missing capability fails the test rather than skipping it. */
export function requireUnshareMounts(): boolean {
  if (canUnshareMounts()) return true;
  if (process.env.CI) throw new Error('CI must run as root (unshare -m): the udev rule test needs it');
  console.warn('skipped: needs root to make a private mount namespace (unshare -m)');
  return false;
}
