/** Names of Cedar's extension types, as they appear in schemas and in `__extn` data. */
export type ExtensionTypeName = 'ipaddr' | 'decimal' | 'datetime' | 'duration';

/**
 * Base of the four Cedar extension value classes. Instances are immutable; equality is by value
 * within one type and false across types (Cedar `==` never errors).
 */
export abstract class ExtensionValue {
  abstract readonly extensionType: ExtensionTypeName;
  abstract equals(other: ExtensionValue): boolean;
  /** Cedar JSON form (`{ "__extn": … }`) that cedar-wasm parses back to the same value. */
  abstract toCedarJson(): { __extn: { fn: string; arg: string } | { fn: string; args: unknown[] } };
  abstract toString(): string;
}
