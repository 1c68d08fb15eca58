// The Helm chart's values reference: a Markdown table built from values.yaml's "# --" comments
// (helm-docs' convention), so the README cannot drift from the defaults it documents.
import { isMap, isScalar, type Pair, parseDocument, type YAMLMap } from 'yaml';

interface Row {
  key: string;
  type: string;
  value: unknown;
  description: string;
}

const described = (comment: string | null | undefined): string | undefined => {
  const text = comment
    ?.split('\n')
    .map((l) => l.trim())
    .join(' ')
    .trim();
  const i = text?.lastIndexOf('-- ') ?? -1;
  return text === undefined || i < 0 ? undefined : text.slice(i + 3).trim();
};

function walk(map: YAMLMap, prefix: string, inherited: string | null | undefined, rows: Row[]): void {
  map.items.forEach((pair: Pair, index) => {
    const key = `${prefix}${String(isScalar(pair.key) ? pair.key.value : pair.key)}`;
    const keyNode = pair.key as { commentBefore?: string | null };
    // The yaml library hangs the comment before a map's first key on the map itself.
    const comment = keyNode.commentBefore ?? (index === 0 ? inherited : undefined);
    const description = described(comment);
    const value = pair.value as { toJSON(): unknown; commentBefore?: string | null } | null;
    if (description === undefined && isMap(value) && value.items.length > 0) {
      walk(value, `${key}.`, value.commentBefore, rows);
      return;
    }
    if (description === undefined) throw new Error(`values.yaml: ${key} has no "# --" description`);
    const json = value?.toJSON() ?? null;
    const type = Array.isArray(json)
      ? 'list'
      : json === null
        ? 'null'
        : typeof json === 'object'
          ? 'object'
          : typeof json;
    rows.push({ key, type, value: json, description });
  });
}

/** The values table (Markdown) for a chart's values.yaml text; every leaf must be described. */
export function valuesTable(valuesYaml: string): string {
  const doc = parseDocument(valuesYaml);
  if (!isMap(doc.contents)) throw new Error('values.yaml is not a map');
  const rows: Row[] = [];
  walk(doc.contents, '', undefined, rows);
  const cell = (s: string) => s.replaceAll('|', '\\|');
  return [
    '| Key | Type | Default | Description |',
    '| --- | --- | --- | --- |',
    ...rows.map(
      (r) => `| \`${r.key}\` | ${r.type} | \`${cell(JSON.stringify(r.value))}\` | ${cell(r.description)} |`,
    ),
  ].join('\n');
}
