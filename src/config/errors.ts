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

/**
 * A runtime failure (exit 1 unless given): the message says what failed,
 * what k3vip already undid, and the next step. Printed without a stack trace
 * unless --debug. cli/program.ts is the one place that turns it (and
 * UsageError) into an exit code.
 */
export class RuntimeError extends Error {
  override name = "RuntimeError";
  constructor(
    message: string,
    readonly exitCode = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
