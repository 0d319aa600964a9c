import { tierConfig } from './vitest.shared.js';

export default tierConfig('unit');
