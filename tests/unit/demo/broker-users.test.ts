import { describe, expect, it } from 'vitest';
import { brokerUsersFor } from '../../../src/demo/broker-users.js';
import type { DemoHub } from '../../../src/demo/network.js';

describe('demo broker users', () => {
  it('never makes a password rabbitmqctl would read as an option', () => {
    const hubs = [{ id: '000.00.00.H99', parentId: null }] as unknown as DemoHub[];
    // base64url passwords started with '-' once in 64; 2,000 draws would meet one almost surely.
    const passwords = Array.from({ length: 2000 }, () => brokerUsersFor(hubs)[0]!.password);
    expect(passwords.filter((p) => !/^[0-9a-f]{36}$/.test(p))).toEqual([]);
  });
});
