// Philips monitors (IntelliVue Information Center, Efficia CM) export HL7 with the Medical Device
// Interface Language (MDIL): parameters and units as `<Partition>-<TermCode>` in hexadecimal, the
// 11073-10101 partition and term (0002 SCADA, 0004 dimensions, 0401 EMFC), and alarms as `TX`
// rows coded `<n>^<priority text>^MDIL-ALERT` under OBR-4 `ALARM`.
import type { VendorMap } from './types.js';

export const PHILIPS_MDIL: VendorMap = {
  id: 'philips-mdil',
  sources: [
    'Philips Efficia CM Series Data Export Guide, "MDIL Coding" (p. 2-20, 3-27): <Partition>-<TermCode> hexadecimal; 0x0002 SCADA, 0x0004 Dimension',
    'same guide p. 2-16: "OBX||TX|2^Yellow Alarm^MDIL-ALERT||HR Low, HR=55 /min||||||F" = "a medium-level physiological alarm"; OBX-3.2 "Description of the alarm priority"',
    'OpenICE Efficia notes (stored-file id 70779304830): 1 = Red Alarm (HIGH), 2 = Yellow Alarm (MEDIUM), 6 = Soft Inop (LOW)',
    'Philips PIIC test message (stored-file id 4162545526): OBX||TX|5^HardInop^MDIL-ALERT||SpO2T  No Pulse',
  ],
  hexPartitionTermSystems: ['MDIL'],
  alerts: {
    codingSystem: 'MDIL-ALERT',
    codes: {
      // Red and yellow alarms are the physiological high and medium priorities; INOPs are technical.
      '1': { priority: 'high', kind: 'physiological' },
      '2': { priority: 'medium', kind: 'physiological' },
      // Hard INOP: technical; no source states its priority, so none is claimed.
      '5': { kind: 'technical' },
      '6': { priority: 'low', kind: 'technical' },
    },
  },
};
