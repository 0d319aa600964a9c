import { tierConfig } from './vitest.shared.js';

export default tierConfig('e2e');
