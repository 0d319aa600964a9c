import { describe, expect, it } from 'vitest';
import { severitiesFrom } from './views.js';

describe('views', () => {
  it('expands a minimum severity', () => {
    expect(severitiesFrom('high')).toEqual(['high', 'critical']);
  });
});
