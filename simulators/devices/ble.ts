// A BLE-to-serial bridge (docs/ble-bridge.md, line format VWB1) with a bed's Bluetooth health devices behind it: a
// heart-rate strap (0x2A37, a notification a second, with the RR interval), a pulse oximeter (PLX Continuous 0x2A5F,
// a second), a thermometer (Temperature Measurement 0x2A1C, a minute) and a blood-pressure cuff (0x2A35, at each
// cuff cycle). GATT payloads are built by decoders/ble/encode.ts; a line per notification, LF ended, as the ESP32
// bridge prints them.
import {
  bridgeLine,
  bridgeLinkLine,
  encodeBloodPressure,
  encodeHeartRate,
  encodePlxContinuous,
  encodeTemperature,
  UUIDS,
} from '../../decoders/ble/encode.js';
import type { Truth } from '../ground-truth.js';
import { quantise, schedule } from './schedule.js';
import type { DeviceOptions, Emission, SimDevice } from './types.js';

export const BLE_NIBP_EVERY_S = 300;

/** Locally administered random-static style addresses, one per peripheral kind and bed. */
function address(kind: number, bedNo: number): string {
  const b = [0xc2, 0x56, 0x57, kind, (bedNo >> 8) & 0xff, bedNo & 0xff];
  return b.map((x) => x.toString(16).toUpperCase().padStart(2, '0')).join(':');
}

export function createBleBridge(o: DeviceOptions & { nibpEveryS?: number }): SimDevice {
  const second = schedule(o.bed.startUs, 1e6);
  const minute = schedule(o.bed.startUs, 60e6);
  const cuff = schedule(o.bed.startUs + 20e6, (o.nibpEveryS ?? BLE_NIBP_EVERY_S) * 1e6);
  const hrm = address(0x01, o.bedNo);
  const plx = address(0x02, o.bedNo);
  const thermo = address(0x03, o.bedNo);
  const bp = address(0x04, o.bedNo);
  let frames = 0;
  let announced = false;
  return {
    id: o.id,
    protocol: 'ble-bridge',
    clockOffsetMs: 0,
    get frames() {
      return frames;
    },
    powerCycle() {
      announced = false;
    },
    emit(nowUs) {
      const out: Emission[] = [];
      const line = (s: string, truth: Truth[], timeUs: number) => {
        void timeUs;
        out.push({ bytes: Buffer.from(s + '\n', 'latin1'), truth, frame: frames++ });
      };
      if (!announced) {
        announced = true;
        line('# vitalwire-ble-bridge 1.0 simulator', [], nowUs);
        for (const a of [hrm, plx, thermo, bp]) line(bridgeLinkLine(a, 'connected'), [], nowUs);
      }
      for (const k of second.due(nowUs)) {
        const end = second.endUs(k);
        const s = o.bed.state;
        const missing = (o.quirks?.missingEvery ?? 0) > 0 && k % (o.quirks?.missingEvery ?? 1) === 0;
        const bpm = Math.round(s.hr);
        const rr1024 = Math.round((60 / Math.max(20, s.hr)) * 1024);
        line(
          bridgeLine(hrm, ...UUIDS.heartRate, encodeHeartRate({ bpm, contact: 'detected', rr1024: [rr1024] })),
          [
            { t: 'obs', dev: o.id, frame: frames, timeUs: end, code: '0x2A37/heart_rate', value: bpm, unit: '/min' },
            // GATT 0x2A37: RR in 1/1024 s; sent on in ms, exactly (x 1000/1024).
            {
              t: 'obs',
              dev: o.id,
              frame: frames,
              timeUs: end,
              code: '0x2A37/rr_interval',
              value: (rr1024 * 1000) / 1024,
              unit: 'ms',
            },
          ],
          end,
        );
        const spo2 = missing ? null : Math.round(s.spo2);
        const pr = Math.round(s.pulse);
        const pai = quantise(s.pi, 0.1);
        line(
          bridgeLine(plx, ...UUIDS.plxContinuous, encodePlxContinuous({ spo2: spo2 ?? 'NaN', pulseRate: pr, pai })),
          [
            { t: 'obs', dev: o.id, frame: frames, timeUs: end, code: '0x2A5F/spo2', value: spo2, unit: '%' },
            { t: 'obs', dev: o.id, frame: frames, timeUs: end, code: '0x2A5F/pulse_rate', value: pr, unit: '/min' },
            {
              t: 'obs',
              dev: o.id,
              frame: frames,
              timeUs: end,
              code: '0x2A5F/pulse_amplitude_index',
              value: pai,
              unit: '%',
            },
          ],
          end,
        );
      }
      for (const k of minute.due(nowUs)) {
        const end = minute.endUs(k);
        const temp = quantise(o.bed.state.tempC, 0.01);
        line(
          bridgeLine(thermo, ...UUIDS.temperature, encodeTemperature({ value: temp, type: 2 })),
          [{ t: 'obs', dev: o.id, frame: frames, timeUs: end, code: '0x2A1C/temperature', value: temp, unit: 'Cel' }],
          end,
        );
      }
      for (const k of cuff.due(nowUs)) {
        const end = cuff.endUs(k);
        const s = o.bed.state;
        const v = { sys: Math.round(s.sys), dia: Math.round(s.dia), map: Math.round(s.map), pr: Math.round(s.pulse) };
        line(
          bridgeLine(
            bp,
            ...UUIDS.bloodPressure,
            encodeBloodPressure({ systolic: v.sys, diastolic: v.dia, map: v.map, pulseRate: v.pr }),
          ),
          [
            { t: 'obs', dev: o.id, frame: frames, timeUs: end, code: '0x2A35/systolic', value: v.sys, unit: 'mm[Hg]' },
            { t: 'obs', dev: o.id, frame: frames, timeUs: end, code: '0x2A35/diastolic', value: v.dia, unit: 'mm[Hg]' },
            {
              t: 'obs',
              dev: o.id,
              frame: frames,
              timeUs: end,
              code: '0x2A35/mean_arterial_pressure',
              value: v.map,
              unit: 'mm[Hg]',
            },
            { t: 'obs', dev: o.id, frame: frames, timeUs: end, code: '0x2A35/pulse_rate', value: v.pr, unit: '/min' },
          ],
          end,
        );
      }
      return out;
    },
  };
}
