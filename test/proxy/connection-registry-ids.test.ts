import { describe, expect, it } from 'vitest';
import { ConnectionRegistry } from '../../src/proxy/registry/connection-registry.js';

describe('connection ids', () => {
  it('are 8 hex digits, keep the worker prefix, and stay distinct across refills of the random pool', () => {
    for (const prefix of ['', '3']) {
      const registry = new ConnectionRegistry(prefix);
      // 4 bytes per id from a 4 KiB pool: 3,000 ids cross two refills.
      const ids = Array.from({ length: 3000 }, () => registry.newId());
      for (const id of ids) {
        expect(id).toMatch(/^[0-9a-f]{8}$/);
        expect(id.startsWith(prefix)).toBe(true);
      }
      expect(new Set(ids).size).toBe(ids.length);
      // Not a counter: consecutive ids differ in more than their last digits.
      const sharedPrefix = ids.slice(1).filter((id, i) => id.slice(0, 4) === ids[i]!.slice(0, 4)).length;
      expect(sharedPrefix).toBeLessThan(50);
    }
  });
});
