/**
 * A strict reader for the XML that JUnit reports use, for the station tests: a report a CI
 * server would reject must fail a test here first. No XML library is a dependency of posbridge.
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/**
 * A strict parser for the XML subset JUnit reports use: a declaration, elements, double- or
 * single-quoted attributes, text, the five predefined entities and character references. Throws
 * on anything not well-formed (mismatched tags, a raw `<` or `&`, a character XML 1.0 forbids).
 */
export function parseXml(source: string): XmlElement {
  let i = 0;
  const fail = (message: string): never => {
    throw new Error(`XML: ${message} at offset ${i}: ${JSON.stringify(source.slice(i, i + 30))}`);
  };
  if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/.test(source)) fail('forbidden character');
  const decode = (raw: string): string =>
    raw.replace(/&([^;]*);|&|</g, (match, ref: string | undefined) => {
      if (match === '<') return fail('raw < in text');
      if (ref === undefined) return fail('raw & in text');
      const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
      if (ref in named) return named[ref]!;
      const num = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(ref);
      if (!num) return fail(`unknown entity &${ref};`);
      return String.fromCodePoint(num[1] ? Number.parseInt(num[1], 16) : Number(num[2]));
    });
  const skipSpace = () => {
    while (/\s/.test(source[i] ?? '')) i++;
  };
  if (source.startsWith('<?xml')) {
    const end = source.indexOf('?>');
    if (end < 0) fail('unterminated declaration');
    i = end + 2;
  }
  const element = (): XmlElement => {
    skipSpace();
    const open = /^<([A-Za-z_][\w.-]*)/.exec(source.slice(i));
    if (!open) return fail('expected an element');
    i += open[0].length;
    const node: XmlElement = { name: open[1]!, attrs: {}, children: [], text: '' };
    for (;;) {
      skipSpace();
      if (source.startsWith('/>', i)) {
        i += 2;
        return node;
      }
      if (source[i] === '>') {
        i++;
        break;
      }
      const attr = /^([A-Za-z_][\w.-]*)\s*=\s*("([^"<]*)"|'([^'<]*)')/.exec(source.slice(i));
      if (!attr) return fail('bad attribute');
      if (attr[1]! in node.attrs) fail(`repeated attribute ${attr[1]}`);
      // Attribute-value normalization: literal whitespace becomes a space; references survive.
      node.attrs[attr[1]!] = decode((attr[3] ?? attr[4] ?? '').replace(/[\t\n\r]/g, ' '));
      i += attr[0].length;
    }
    for (;;) {
      const next = source.indexOf('<', i);
      if (next < 0) fail(`unclosed <${node.name}>`);
      node.text += decode(source.slice(i, next));
      i = next;
      if (source.startsWith('</', i)) {
        const close = /^<\/([A-Za-z_][\w.-]*)\s*>/.exec(source.slice(i));
        if (!close || close[1] !== node.name) fail(`expected </${node.name}>`);
        i += close![0].length;
        return node;
      }
      node.children.push(element());
    }
  };
  const root = element();
  skipSpace();
  if (i !== source.length) fail('content after the root element');
  return root;
}

/**
 * A JUnit test case's facts (port, merchant, terminal, outcome, ...): the `key: value` lines that
 * open its system-out, before the blank line and the steps (src/station/junit.ts).
 */
export function junitCaseFields(testcase: XmlElement): Record<string, string> {
  const text = testcase.children.find((x) => x.name === 'system-out')?.text ?? '';
  const head = text.split('\n\n')[0]!;
  return Object.fromEntries(
    head
      .split('\n')
      .filter((line) => line.includes(': '))
      .map((line) => [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)]),
  );
}
