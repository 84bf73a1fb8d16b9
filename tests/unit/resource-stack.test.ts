import { describe, expect, it } from 'vitest';
import { resourceStack } from '../../src/resource-stack.js';

describe('resource stack', () => {
  it('closes in reverse order of opening, once, and goes on past a closer that fails', async () => {
    const closed: string[] = [];
    const errors: string[] = [];
    const stack = resourceStack((err) => errors.push(err.message));
    expect(stack.push('ledger', (n) => { closed.push(n); })).toBe('ledger');
    stack.push('connection', () => { throw new Error('already gone'); });
    stack.push('consumer', async (n) => { closed.push(n); });
    await stack.close();
    await stack.close();
    expect(closed).toEqual(['consumer', 'ledger']);
    expect(errors).toEqual(['already gone']);
  });
});
