#!/usr/bin/env node
import { exitWith } from '@livescope/runtime';
import { runAgentProcess } from './runAgent.js';

/** Process entry of livescope-enforcer (see runAgent.ts). */
exitWith('livescope-enforcer', () => runAgentProcess());
