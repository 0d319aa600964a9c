#!/usr/bin/env node
import { exitWith } from '@livescope/runtime';
import { runWorkerProcess } from './runWorker.js';

/** Process entry of the scope worker (see runWorker.ts). */
exitWith('livescope scope-worker', () => runWorkerProcess());
