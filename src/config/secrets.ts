// The one masking function: every diff side, message, log line and JSON
// output that may hold a secret goes through it.

export const MASK = "****";

/** `text` with every occurrence of each secret replaced by ****; longest first, so a secret that contains another is masked whole. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const sec of [...new Set(secrets)].filter((x) => x.length > 0).sort((a, b) => b.length - a.length)) out = out.split(sec).join(MASK);
  return out;
}
