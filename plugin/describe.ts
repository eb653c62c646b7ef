import type { ZodObject, z as Zod } from "zod";
import type { ProviderDescription, ProviderField, SecretProvider } from "./types.js";

interface JsonSchema {
  type?: string;
  title?: string;
  description?: string;
  examples?: unknown[];
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
}

/** One form field from a property of a provider's schema (JSON Schema via zod). */
function field(key: string, p: JsonSchema): ProviderField {
  const options = p.anyOf ?? [p];
  const choices = options.flatMap((o) => (o.const !== undefined ? [o.const] : (o.enum ?? [])));
  const types = new Set(options.map((o) => o.type));
  const type: ProviderField["type"] = choices.length > 0 ? "choice" : types.has("integer") || types.has("number") ? "integer" : types.has("boolean") ? "boolean" : "string";
  const out: ProviderField = { key, title: p.title ?? key, type };
  if (p.description) out.description = p.description;
  if (choices.length > 0) out.choices = [...new Set(choices.map((c) => String(c)))];
  if (p.examples) out.examples = p.examples.map(String);
  return out;
}

/** What the Runtime panel's form shows for each provider: derived from its config schema. */
export function describeProviders(z: typeof Zod, providers: ReadonlyMap<string, SecretProvider>): ProviderDescription[] {
  return [...providers].map(([name, p]) => {
    const schema = z.toJSONSchema(p.configSchema(z) as ZodObject, { unrepresentable: "any" }) as JsonSchema;
    const fields = Object.entries(schema.properties ?? {}).map(([key, prop]) => field(key, prop));
    // Every provider takes refresh_interval (handled by the plugin, not the provider).
    fields.push({ key: "refresh_interval", title: "Refresh every", type: "string", description: "re-fetch on this interval (e.g. 5m, minimum 30s); empty: only on save and Refresh", examples: ["5m", "15m", "1h"] });
    return { name, badge: p.name.toUpperCase(), fields };
  });
}
