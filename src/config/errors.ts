/**
 * Bad input from the user (flag, env var, install.sh variable): exit code 2.
 * The message is one line naming the option, the bad value and what is valid.
 */
export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
  }
}

/** `<source> "<value>" <problem>` — the one shape of every usage message. */
export function badValue(source: string, value: string, problem: string): UsageError {
  return new UsageError(`${source} ${JSON.stringify(value)} ${problem}`);
}
