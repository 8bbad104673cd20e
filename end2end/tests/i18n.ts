import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

// The words of the pages, read from Depot's own catalogues (locales/<language>/<page>.json), so
// each spec runs in English and in Chinese selecting by what a clerk of that language reads.

type Catalogue = Record<string, unknown>;

const root = join(__dirname, "..", "..", "locales");
const cache = new Map<string, Catalogue>();

function catalogue(language: string): Catalogue {
  let found = cache.get(language);
  if (!found) {
    found = {};
    for (const file of readdirSync(join(root, language))) {
      if (file.endsWith(".json")) {
        found[file.replace(/\.json$/, "")] = JSON.parse(readFileSync(join(root, language, file), "utf8"));
      }
    }
    cache.set(language, found);
  }
  return found;
}

export type Translate = (key: string, params?: Record<string, string | number>) => string;

/// `t("inbound.submit")`, `t("common.field_line", { label: t("inbound.col.sku"), line: 1 })`.
export function translator(language: string): Translate {
  return (key, params = {}) => {
    let value: unknown = catalogue(language);
    for (const part of key.split(".")) {
      value = (value as Catalogue | undefined)?.[part];
    }
    if (typeof value !== "string") throw new Error(`no text ${key} in ${language}`);
    return value.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => {
      if (!(name in params)) throw new Error(`${key}: no value for ${name}`);
      return String(params[name]);
    });
  };
}

/// The catalogue language of a Playwright project's browser locale.
export function languageOf(locale: string | undefined): string {
  return locale?.startsWith("zh") ? "zh-CN" : "en";
}
