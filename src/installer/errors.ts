import { RuntimeError } from "../config/index.ts";

/** A failure with what failed, what was undone and the next step (exit 1). */
export class InstallerError extends RuntimeError {
  override name = "InstallerError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 1, options);
  }
}
