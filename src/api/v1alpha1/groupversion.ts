// Group, version and names of the LambdaConcurrencyScaler API: the constants every other
// module uses instead of spelling them again.

export const GROUP = 'aws.operators.jittakal.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'LambdaConcurrencyScaler';
export const LIST_KIND = 'LambdaConcurrencyScalerList';
export const PLURAL = 'lambdaconcurrencyscalers';
export const SINGULAR = 'lambdaconcurrencyscaler';
export const SHORT_NAMES = ['lcs'] as const;
export const CRD_NAME = `${PLURAL}.${GROUP}`;

/** The finalizer the operator puts on a scaler before its first change to the function. */
export const FINALIZER = `${GROUP}/restore-concurrency`;
/** Annotation that stops all changes while set to "true". */
export const PAUSED_ANNOTATION = `${GROUP}/paused`;
