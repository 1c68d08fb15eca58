// Reads a LambdaConcurrencyScaler manifest for the simulator and validates its spec with the same
// schema (and mirrored CEL rules) the API server enforces, so a bad file fails here as it would there.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { API_VERSION, KIND, type LambdaConcurrencyScalerSpec, parseSpec } from '../api/v1alpha1/index.ts';

/** A scaler manifest that would not be admitted; every issue names the field. */
export class ScalerFileError extends Error {
  override readonly name = 'ScalerFileError';
  readonly code = 'ScalerInvalid';
  readonly issues: readonly string[];
  constructor(source: string, issues: readonly string[], options?: ErrorOptions) {
    super(`invalid LambdaConcurrencyScaler ${source}:\n  ${issues.join('\n  ')}`, options);
    this.issues = issues;
  }
}

/** A validated scaler: its name (for tables) and spec. */
export interface ScalerFile {
  name: string;
  spec: LambdaConcurrencyScalerSpec;
}

/** Validates one parsed manifest (a whole object with `spec`, as `kubectl apply` takes it). */
export function parseScaler(raw: unknown, source = 'scaler'): ScalerFile {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new ScalerFileError(source, ['(root): expected a LambdaConcurrencyScaler object']);
  const doc = raw as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown }; spec?: unknown };
  const issues: string[] = [];
  if (doc.kind !== undefined && doc.kind !== KIND)
    issues.push(`kind: expected ${KIND}, got ${String(doc.kind)}`);
  if (doc.apiVersion !== undefined && doc.apiVersion !== API_VERSION)
    issues.push(`apiVersion: expected ${API_VERSION}, got ${String(doc.apiVersion)}`);
  if (doc.spec === undefined) issues.push('spec: required');
  if (issues.length > 0) throw new ScalerFileError(source, issues);
  const parsed = parseSpec(doc.spec);
  if (!parsed.ok)
    throw new ScalerFileError(
      source,
      parsed.issues.map((i) => `${i.path}: ${i.message}`),
    );
  const name = typeof doc.metadata?.name === 'string' ? doc.metadata.name : source.replace(/^.*\//, '');
  return { name, spec: parsed.spec };
}

/** Reads a YAML manifest file (the first document). */
export function loadScaler(file: string): ScalerFile {
  let raw: unknown;
  try {
    const docs = parseAllDocuments(readFileSync(file, 'utf8'));
    const first = Array.isArray(docs) ? docs[0] : docs;
    if (first === undefined) throw new Error('the file is empty');
    if (first.errors.length > 0) throw first.errors[0];
    raw = first.toJS();
  } catch (e) {
    throw new ScalerFileError(file, [`(file): ${(e as Error).message}`], { cause: e });
  }
  return parseScaler(raw, file);
}
