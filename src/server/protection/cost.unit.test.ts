import { describe, expect, it } from 'vitest';
import { batchCost, requestCost } from './cost.js';

describe('request cost', () => {
  it('is 1 for plain requests', () => {
    expect(requestCost('POST', '/api/v1/events', {})).toBe(1);
    expect(requestCost('GET', '/api/v1/streams', { limit: '10000' })).toBe(1);
  });
  it('is a query’s limit over 100 rows, and a page of 1,000 when unbounded or unreadable', () => {
    expect(requestCost('GET', '/api/v1/events/query', { limit: '50' })).toBe(1);
    expect(requestCost('GET', '/api/v1/events/query', { limit: '1000' })).toBe(10);
    expect(requestCost('GET', '/api/v1/events/query', {})).toBe(10);
    expect(requestCost('GET', '/api/v1/events/query', { limit: ['1', '2'] })).toBe(10);
    expect(requestCost('GET', '/api/v1/events/query', { limit: '0' })).toBe(1);
  });
  it('is a batch’s size over 10 events', () => {
    expect(batchCost(1)).toBe(1);
    expect(batchCost(1000)).toBe(100);
    expect(batchCost(0)).toBe(1);
  });
});
