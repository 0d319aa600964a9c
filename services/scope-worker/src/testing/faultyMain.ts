#!/usr/bin/env node
/**
 * A TEST-ONLY entry point of the scope worker (src/testing/ is excluded from the build, so no
 * production artefact contains it). It runs the real worker with fault hooks from the environment:
 *
 *   LIVESCOPE_TEST_STALL_PARTITIONS=1,4   every commit of these partitions fails as if PostgreSQL were
 *                                          unavailable: the partition retries in place forever and
 *                                          never advances, while heartbeats keep flowing.
 */
import { exitWith } from '@livescope/runtime';
import { StoreError } from '@livescope/store';
import { runWorkerProcess } from '../runWorker.js';

const stalled = new Set(
  (process.env.LIVESCOPE_TEST_STALL_PARTITIONS ?? '')
    .split(',')
    .filter((s) => s.trim() !== '')
    .map(Number),
);

exitWith('faulty scope-worker', () =>
  runWorkerProcess({
    faults: {
      beforeCommit(partition) {
        if (stalled.has(partition)) throw new StoreError('PG_UNAVAILABLE', `test fault: commits of partition ${partition} are stalled`);
      },
    },
  }),
);
