// One factory for every simulated protocol (the ids are the decoder registry's).
import { createBleBridge } from './ble.js';
import { createDatex } from './datex.js';
import { createHl7Monitor, type Hl7DeviceOptions } from './hl7.js';
import { createMasimo } from './masimo.js';
import { createNonin7, createNonin8 } from './nonin.js';
import type { DeviceOptions, SimDevice, SimProtocol } from './types.js';

export type { DeviceOptions, Emission, Quirks, SimDevice, SimProtocol } from './types.js';
export { SIM_PROTOCOLS } from './types.js';

export function createSimDevice(
  protocol: SimProtocol,
  o: DeviceOptions & Omit<Hl7DeviceOptions, keyof DeviceOptions>,
): SimDevice {
  switch (protocol) {
    case 'hl7':
      return createHl7Monitor(o);
    case 'nonin7':
      return createNonin7(o);
    case 'nonin8':
      return createNonin8(o);
    case 'masimo':
      return createMasimo(o);
    case 'datex':
      return createDatex(o);
    case 'ble-bridge':
      return createBleBridge(o);
  }
}
