// A stable number in [0, 1) per string (FNV-1a, 32 bits): to spread periodic work over names and
// times without drawing from a random stream (which a seeded replay would then see move).

export function unitHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) / 2 ** 32;
}
