/**
 * `--logging-format text`: each JSON line pino wrote, re-written for a person, in the
 * form of klog's text format (kube-controller-manager's default): the message quoted,
 * then key=value pairs with string values quoted,
 *
 *   2026-12-07T07:01:54.123Z INFO "started" server="https://10.0.0.1:6443" signers=["example.com/serving"]
 *
 * It formats what pino already wrote, after redaction and the error serializer's
 * allow-list, so the text carries no field the JSON would not. Nested objects become
 * dotted keys (err.type=…); a value of several lines (a stack) is written as klog
 * does, `key=<` then each line indented by a tab, then ` >`. Quoting escapes control
 * characters, so no value can forge a line.
 */

const skipped = new Set(['level', 'time', 'msg', 'component']);

const quote = (text: string): string => JSON.stringify(text);

function pairs(prefix: string, value: unknown, out: string[]): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) pairs(prefix === '' ? k : `${prefix}.${k}`, v, out);
    return;
  }
  if (typeof value === 'string' && value.includes('\n')) {
    out.push(`${prefix}=<\n${value.split('\n').map((line) => `\t${quote(line).slice(1, -1)}`).join('\n')}\n >`);
    return;
  }
  out.push(`${prefix}=${JSON.stringify(value) ?? 'null'}`);
}

/** One pino JSON line as one text record (ending in a newline); a line that is not JSON is passed on unchanged. */
export function formatTextLine(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const out: string[] = [];
  for (const [k, v] of Object.entries(record)) {
    if (!skipped.has(k)) pairs(k, v, out);
  }
  const level = typeof record.level === 'string' ? record.level.toUpperCase() : String(record.level);
  const head = [typeof record.time === 'string' ? record.time : JSON.stringify(record.time ?? ''), level, quote(typeof record.msg === 'string' ? record.msg : '')];
  return `${[...head, ...out].join(' ')}\n`;
}

/** A destination for pino that writes text records to `destination`. */
export function textDestination(destination: NodeJS.WritableStream): { write(chunk: string): boolean } {
  return {
    write(chunk: string): boolean {
      let ok = true;
      for (const line of chunk.split('\n')) {
        if (line !== '') ok = destination.write(formatTextLine(line)) && ok;
      }
      return ok;
    },
  };
}
