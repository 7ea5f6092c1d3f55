// Progress output: ora spinners per step on a TTY, plain lines otherwise
// (and with --json, whose summary goes to stdout). Always stderr.
import ora from "ora";

export interface Reporter {
  step<T>(title: string, run: () => Promise<T>): Promise<T>;
  line(text: string): void;
}

export class PlainReporter implements Reporter {
  constructor(private readonly out: NodeJS.WritableStream = process.stderr) {}
  async step<T>(title: string, run: () => Promise<T>): Promise<T> {
    try {
      const r = await run();
      this.out.write(`✓ ${title}\n`);
      return r;
    } catch (e) {
      this.out.write(`✗ ${title}\n`);
      throw e;
    }
  }
  line(text: string): void {
    this.out.write(`${text}\n`);
  }
}

export class SpinnerReporter implements Reporter {
  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {}
  async step<T>(title: string, run: () => Promise<T>): Promise<T> {
    const s = ora({ text: title, stream: this.out }).start();
    try {
      const r = await run();
      s.succeed();
      return r;
    } catch (e) {
      s.fail();
      throw e;
    }
  }
  line(text: string): void {
    this.out.write(`${text}\n`);
  }
}

/** Collects lines (tests, and --json runs that want quiet progress). */
export class MemoryReporter implements Reporter {
  readonly lines: string[] = [];
  async step<T>(title: string, run: () => Promise<T>): Promise<T> {
    try {
      const r = await run();
      this.lines.push(`✓ ${title}`);
      return r;
    } catch (e) {
      this.lines.push(`✗ ${title}`);
      throw e;
    }
  }
  line(text: string): void {
    this.lines.push(text);
  }
}

export function reporterFor(json: boolean, stream: NodeJS.WriteStream = process.stderr): Reporter {
  // A TTY that reports 0 columns (a pty nobody sized) makes ora's line
  // clearing divide by zero and loop: plain lines there too.
  return stream.isTTY && (stream.columns ?? 0) > 0 && !json ? new SpinnerReporter(stream) : new PlainReporter(stream);
}
