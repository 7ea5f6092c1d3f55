// Public face of the election core: a pure state machine (events in, actions out).
export { step, initialState, microTime, type ElectionState, type Phase, type StepResult } from "./machine.ts";
export { electionConfig } from "./config.ts";
export type * from "./types.ts";
