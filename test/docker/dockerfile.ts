/** Reads the repository's Dockerfile with dockerfile-ast (the parser behind dockerfile-utils). */
import { readFileSync } from 'node:fs';
import { DockerfileParser } from 'dockerfile-ast';

export const repoRoot = new URL('../../', import.meta.url).pathname;
export const dockerfileText = (): string => readFileSync(`${repoRoot}Dockerfile`, 'utf8');

export interface Stage {
  readonly name: string;
  readonly image: string;
  readonly instructions: { keyword: string; args: string; from?: string }[];
}

/** The stages, with `${ARG}` in FROM resolved from the ARGs' defaults. */
export function stages(text = dockerfileText()): Stage[] {
  const file = DockerfileParser.parse(text);
  const args = new Map(file.getARGs().map((a) => [a.getProperty()?.getName() ?? '', a.getProperty()?.getValue() ?? '']));
  const out: Stage[] = [];
  for (const instruction of file.getInstructions()) {
    const keyword = instruction.getKeyword();
    const content = instruction.getArgumentsContent() ?? '';
    if (keyword === 'FROM') {
      const [image = '', , name = String(out.length)] = content.split(/\s+/);
      out.push({ name, image: image.replace(/\$\{(\w+)\}/g, (_, v: string) => args.get(v) ?? ''), instructions: [] });
      continue;
    }
    // Flags (COPY --from=…) are not part of the arguments' content: read them from the text.
    const from = keyword === 'COPY' ? /--from=(\S+)/.exec(instruction.getTextContent())?.[1] : undefined;
    out.at(-1)?.instructions.push({ keyword, args: content, ...(from === undefined ? {} : { from }) });
  }
  return out;
}
