// Ids the browser makes itself, so that sending something twice cannot do it twice.
export function randomHex(bytes) {
  return [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** An id of our own for an award, so that sending it again cannot award twice. */
export function newId() {
  // crypto.randomUUID exists only on https and localhost; a school's own network may be neither.
  const hex = randomHex(16).split("");
  hex[12] = "4";
  hex[16] = "89ab"[parseInt(hex[16], 16) % 4];
  const s = hex.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}
