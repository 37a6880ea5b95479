// The gateway process: one device loop per configured device, decoded payloads batched into
// the contract's Batch and published. Later issues add the config file, the durable outbox,
// clocks and metrics around the same shape.
import type { Decoded } from '../decoders/decoded.js';
import { getProtocol } from '../decoders/registry.js';
import { VitalwireError } from '../decoders/errors.js';
import type { Logger } from '../lib/log.js';
import { LinkState } from '../proto/index.js';
import { startDeviceLink, type DeviceLink, type LinkStateName, nowUs } from './device-link.js';
import { startPublisher, type Publisher } from './publisher.js';
import { openSerialLink, type SerialLinkOptions } from './transports/serial.js';
import { openTcpLink, type TcpLinkOptions } from './transports/tcp.js';
import type { LinkOpener } from './transports/link.js';

export type TransportConfig = ({ kind: 'serial' } & SerialLinkOptions) | ({ kind: 'tcp' } & TcpLinkOptions);

export interface DeviceConfig {
  id: string;
  protocol: string;
  transport: TransportConfig;
  bed?: string;
  model?: string;
}

export interface GatewayOptions {
  site: string;
  gateway: string;
  brokerUrl: string;
  tls: { ca: string | Buffer; cert: string | Buffer; key: string | Buffer };
  devices: DeviceConfig[];
  logger: Logger;
  reconnect?: { minMs: number; maxMs: number };
}

export interface Gateway {
  readonly devices: DeviceLink[];
  readonly publisher: Publisher;
  close(): Promise<void>;
}

const LINK_STATE: Record<LinkStateName, number> = {
  connecting: LinkState.LINK_STATE_CONNECTING,
  connected: LinkState.LINK_STATE_CONNECTED,
  disconnected: LinkState.LINK_STATE_DISCONNECTED,
};

function opener(t: TransportConfig): LinkOpener {
  switch (t.kind) {
    case 'serial':
      return (h) => openSerialLink(t, h);
    case 'tcp':
      return (h) => openTcpLink(t, h);
  }
}

export async function startGateway(o: GatewayOptions): Promise<Gateway> {
  const log = o.logger;
  const publisher = await startPublisher({ url: o.brokerUrl, site: o.site, gateway: o.gateway, tls: o.tls, logger: log });
  const devices: DeviceLink[] = [];
  const failed = (err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'publish failed');

  for (const d of o.devices) {
    const protocol = getProtocol(d.protocol);
    if (!protocol) throw new VitalwireError('VW_ERR_CONFIG', `device ${d.id}: unknown protocol ${d.protocol}`);
    let hardwareId = '';
    let model = d.model ?? '';
    const source = () => ({ device: d.id, bed: d.bed ?? '', protocol: d.protocol, model, hardwareId });
    const link = startDeviceLink({
      id: d.id,
      protocol,
      open: opener(d.transport),
      logger: log,
      ...(o.reconnect ? { backoff: o.reconnect } : {}),
      events: {
        decoded(v: Decoded) {
          if (v.device) hardwareId = v.device;
          if (v.model) model = v.model;
          if (v.observations.length > 0) publisher.publish(source(), 'obs', { observations: v.observations }).catch(failed);
          if (v.waves.length > 0) publisher.publish(source(), 'wave', { waves: v.waves }).catch(failed);
          if (v.alarms.length > 0) publisher.publish(source(), 'alarm', { alarms: v.alarms }).catch(failed);
        },
        state(s, c, reason) {
          publisher
            .publish(source(), 'status', {
              statuses: [
                {
                  time: { gatewayTimeUs: nowUs() },
                  state: LINK_STATE[s],
                  reason: reason ? 'VW_ERR_LINK_CLOSED' : '',
                  framesOk: c.frames - c.badFrames,
                  framesBad: c.badFrames,
                  garbageBytes: c.garbageBytes,
                  reconnects: c.reconnects,
                },
              ],
            })
            .catch(failed);
        },
      },
    });
    devices.push(link);
  }

  return {
    devices,
    publisher,
    async close() {
      await Promise.all(devices.map((d) => d.stop()));
      await publisher.close();
    },
  };
}
