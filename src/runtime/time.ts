// The two timestamp formats of the Kubernetes API, from the Clock's milliseconds.

/** metav1.Time: RFC 3339 in UTC with whole seconds (condition transition times). */
export function metaTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** metav1.MicroTime: RFC 3339 in UTC with six fractional digits (Lease and Event times). */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
