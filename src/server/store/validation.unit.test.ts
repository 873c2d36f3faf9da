import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../errors/index.js';
import { entityIdProblem, eventTypeProblem, MAX_JSON_DEPTH, validateBatch, validateOne } from './index.js';

describe('event_type', () => {
  it.each(['a', 'user.created', 'a-b_c.d9', 'x'.repeat(128)])('accepts %s', (t) =>
    expect(eventTypeProblem(t)).toBeUndefined(),
  );
  it.each(['', '.a', 'a.', 'a..b', 'A', 'a b', 'é', 'x'.repeat(129), 5, null])('refuses %j', (t) =>
    expect(eventTypeProblem(t)).toEqual(expect.any(String)),
  );
});

describe('entity_id', () => {
  it.each(['u1', 'order/7 #x', '用户-1', '🎉'.repeat(256)])('accepts %s', (e) =>
    expect(entityIdProblem(e)).toBeUndefined(),
  );
  it.each(['', 'a\u0000b', 'tab\there', 'del\u007f', 'c1\u0085', '\ud800', 'x'.repeat(257), 7])('refuses %j', (e) =>
    expect(entityIdProblem(e)).toEqual(expect.any(String)),
  );
});

describe('validateOne', () => {
  const ok = { event_type: 'a.b', entity_id: 'e', payload: { x: 1 } };

  it('keeps the payload for the store, serialises metadata and defaults expected_version to any', () => {
    const event = validateOne({ ...ok, metadata: { m: true } });
    expect(event).toMatchObject({ payload: { x: 1 }, metadataJson: '{"m":true}', expected: 'any', eventId: null });
  });

  it.each([
    [{ ...ok, payload: undefined }, '/payload'],
    [{ ...ok, payload: { big: Number.POSITIVE_INFINITY } }, '/payload/big'],
    [{ ...ok, payload: { n: 2 ** 53 + 2 } }, '/payload/n'],
    [{ ...ok, metadata: { bad: Number.NaN } }, '/metadata/bad'],
    [{ ...ok, expected_version: -1 }, '/expected_version'],
    [{ ...ok, expected_version: 1.5 }, '/expected_version'],
    [{ ...ok, expected_version: 'latest' }, '/expected_version'],
    [{ ...ok, event_id: 'not-a-uuid' }, '/event_id'],
  ])('refuses %j at %s', (input, path) => {
    try {
      validateOne(input);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidRequestError);
      expect((error as InvalidRequestError).details['details']).toContainEqual({ path, problem: expect.any(String) });
    }
  });

  it(`refuses nesting deeper than ${MAX_JSON_DEPTH} and accepts ${MAX_JSON_DEPTH}`, () => {
    const nest = (depth: number): unknown => (depth === 0 ? 1 : [nest(depth - 1)]);
    expect(() => validateOne({ ...ok, payload: nest(MAX_JSON_DEPTH) })).not.toThrow();
    expect(() => validateOne({ ...ok, payload: nest(MAX_JSON_DEPTH + 1) })).toThrow(/invalid/);
  });
});

describe('validateBatch', () => {
  it('names the first invalid item', () => {
    expect(() => validateBatch([{ event_type: 'a', entity_id: 'e', payload: 1 }, {}])).toThrow(/event 1 of the batch/);
  });
  it('refuses empty and oversized batches and non-arrays', () => {
    expect(() => validateBatch([])).toThrow(/empty/);
    expect(() => validateBatch({})).toThrow(InvalidRequestError);
    expect(() => validateBatch(Array(10_001).fill({ event_type: 'a', entity_id: 'e', payload: 1 }))).toThrow(
      /at most 10000/,
    );
  });
});
