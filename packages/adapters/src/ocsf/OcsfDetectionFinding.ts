/** The schema lives in the contracts (it is a topic's registry subject); re-exported here for callers of this package. */
export { OCSF_SCHEMA_VERSION, OcsfDetectionFinding } from '@livescope/contracts';
