/** The benchmark's seeded identities: device i is `d<i mod 5>.u<i div 5>@bench.example`. */
export const DEVICES_PER_USER = 5;
export const token = (i: number): string => `bench-token-${i}`;
export const did = (i: number): string => `d${i % DEVICES_PER_USER}.u${Math.floor(i / DEVICES_PER_USER)}@bench.example`;
