// Rendering of the k3vip manifests from manifests/*.yaml.mustache (embedded
// by `npm run gen` into templates.generated.ts so this stays pure).
import Mustache from "mustache";
import { parseAllDocuments } from "yaml";
import type { Config } from "../config/index.ts";
import { TEMPLATES } from "./templates.generated.ts";
import { buildView, type View } from "./view.ts";

export { buildView, heartbeatKeyDigest, viewKey, splitListenAddr, type View, type ViewValue } from "./view.ts";
export { TEMPLATES } from "./templates.generated.ts";

/** The file name under the distribution's server manifests dir. */
export const ADDON_FILENAME = "k3vip.yaml";
/** The file name under kubeadm's /etc/kubernetes/manifests. */
export const STATIC_POD_FILENAME = "k3vip.yaml";

export type OutputFormat = "yaml" | "json";
export interface RenderOptions {
  output?: OutputFormat;
}

/**
 * Strings are JSON-quoted: a JSON string is a valid YAML double-quoted
 * scalar, so no value can break the YAML structure (mustache's default
 * HTML escaping would corrupt it). Numbers render as JS prints them.
 */
export function escapeValue(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return JSON.stringify(value);
  throw new Error(`template value ${String(value)} is neither a string nor a number`);
}

export function renderTemplate(template: string, view: View): string {
  return Mustache.render(template, view, {}, { escape: escapeValue });
}

function output(yamlText: string, opts: RenderOptions): string {
  if ((opts.output ?? "yaml") === "yaml") return yamlText;
  const list = { apiVersion: "v1", kind: "List", items: parseObjects(yamlText) };
  return `${JSON.stringify(list, null, 2)}\n`;
}

function parseObjects(yamlText: string): Record<string, unknown>[] {
  return parseAllDocuments(yamlText)
    .map((d) => d.toJS() as unknown)
    .filter((o): o is Record<string, unknown> => o !== null && typeof o === "object");
}

/** The add-on: exactly the bytes the installers write to `<manifests dir>/k3vip.yaml`. */
export function renderAddon(config: Config, opts: RenderOptions = {}): string {
  return output(renderTemplate(TEMPLATES["k3vip.yaml.mustache"], buildView(config)), opts);
}

/**
 * A kubeadm static Pod (`/etc/kubernetes/manifests/k3vip.yaml`). As JSON it
 * is the Pod itself, not a List: the kubelet reads one object per file.
 */
export function renderStaticPod(config: Config, opts: RenderOptions = {}): string {
  const yamlText = renderTemplate(TEMPLATES["k3vip-pod.yaml.mustache"], buildView(config));
  if ((opts.output ?? "yaml") === "yaml") return yamlText;
  return `${JSON.stringify(parseObjects(yamlText)[0], null, 2)}\n`;
}

/** The add-on's objects, parsed (uninstall deletes exactly these). */
export function addonObjects(config: Config): Record<string, unknown>[] {
  return parseObjects(renderAddon(config));
}
