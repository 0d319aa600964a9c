import { z } from 'zod';

/** Path parameters of the web console's routes. */
export const ConsoleParams = z.object({ '*': z.string().max(1024).describe('Path under /console/.') });
