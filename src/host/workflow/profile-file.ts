/**
 * A provisioning profile from a JSON or YAML file, validated at the boundary so an error names the
 * file and the field, before any byte is sent to a terminal. Apart from the schema (profile.ts),
 * so only the commands that read a file load YAML.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { PosbridgeError } from '../errors.js';
import { type Profile, profileSchema } from './profile.js';

export function parseProfile(text: string, source: string): Profile {
  let data: unknown;
  try {
    data = /\.ya?ml$/i.test(source) ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new PosbridgeError(
      'USAGE',
      `profile ${source} is not valid ${/\.ya?ml$/i.test(source) ? 'YAML' : 'JSON'}: ${(error as Error).message}`,
      {
        hint: 'fix the file (a .yaml/.yml name is read as YAML, anything else as JSON)',
      },
    );
  }
  const result = profileSchema.safeParse(data ?? {});
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`,
    );
    throw new PosbridgeError('USAGE', `profile ${source} is invalid: ${problems.join('; ')}`, {
      hint: 'see docs/cli.md, "Profile file"',
    });
  }
  return result.data;
}

export async function loadProfile(path: string): Promise<Profile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new PosbridgeError(
      'USAGE',
      `cannot read profile ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      {
        hint: 'check the path given to --profile',
      },
    );
  }
  return parseProfile(text, path);
}
